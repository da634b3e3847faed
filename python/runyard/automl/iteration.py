"""One AutoML iteration: featurise, fit one algorithm at one point of its space, score it.

Scores come from the run's validation plan: each fold (or the holdout, or the validation
data) gets its own featuriser and model fitted on its training rows only, and every metric
of the task is computed on its validation rows; a cross-validated iteration reports the
mean over its folds. The model handed back (``FittedPipeline``) is then fitted on all the
training rows (cross-validation) or is the one fitted on the training part (holdout,
validation data), and predicts from raw frames: ``model.predict(raw_df)``.

The validation predictions of every row are kept too (out of fold), for the ensembles of
the last iterations.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from . import metrics as am
from . import models
from .featurization import FeaturizationConfig, Featurizer
from .validation import ValidationPlan


class FittedPipeline:
    """A fitted AutoML model: the featuriser, a scaler where the algorithm wants one, the
    algorithm; ``predict`` and (classification) ``predict_proba`` take raw frames.
    ``named_steps["datatransformer"]`` is the featuriser, as in Azure ML."""

    def __init__(self, task: str, featurizer: Featurizer, scaler: Any, model: Any, classes: Any = None):
        self.task = task
        self.named_steps = {"datatransformer": featurizer, **({"scaler": scaler} if scaler is not None else {}),
                            "model": model}
        self.classes_ = classes  # the labels, in predict_proba's column order

    @property
    def steps(self) -> list[tuple[str, Any]]:
        return list(self.named_steps.items())

    def _matrix(self, frame: Any) -> Any:
        matrix = self.named_steps["datatransformer"].transform(frame)
        if "scaler" in self.named_steps:
            matrix = self.named_steps["scaler"].transform(matrix)
        return _densify(matrix) if getattr(self, "_dense", False) else matrix

    def predict(self, frame: Any) -> Any:
        predicted = self.named_steps["model"].predict(self._matrix(frame))
        if self.classes_ is not None:
            import numpy as np
            return np.asarray(self.classes_)[np.asarray(predicted, dtype=int)]
        return predicted

    def predict_proba(self, frame: Any) -> Any:
        if self.classes_ is None:
            raise AttributeError("predict_proba: a regression model predicts values; use predict")
        return _proba(self.named_steps["model"], self._matrix(frame), len(self.classes_))


@dataclass
class IterationResult:
    scores: dict[str, float]
    model: FittedPipeline
    #: the validation prediction of each row (classification: class probabilities), NaN where
    #: a row was never validated (holdout rows used for training); with validation data, of its rows
    predictions: Any
    fit_seconds: float
    folds: int
    featurization: list[dict[str, Any]] = field(default_factory=list)
    #: what the user should know of how it was fitted (weights an algorithm cannot take)
    notes: list[str] = field(default_factory=list)


def fit_and_score(task: str, frame: Any, label: str, algorithm: str, config: dict[str, Any], plan: ValidationPlan,
                  *, featurization: str | FeaturizationConfig = "auto", weight_column: str | None = None,
                  validation_frame: Any = None, drop: tuple[str, ...] = (), cores: int = 1,
                  estimator: dict[str, Any] | None = None) -> IterationResult:
    """Fit ``algorithm`` at ``config`` under ``plan`` on ``frame`` (the label in ``label``), with
    ``cores`` threads where the algorithm takes them (-1: all). ``estimator``: the spec
    ``models.estimator_spec`` made of ``config`` (an iteration gets it from its driver)."""
    import numpy as np
    started = time.perf_counter()
    classification = task == "classification"
    excluded = [label, *([weight_column] if weight_column else []), *plan.columns, *drop]
    X = frame.drop(columns=[c for c in excluded if c in frame.columns])
    y_raw = frame[label].to_numpy()
    weights = frame[weight_column].to_numpy(dtype=float) if weight_column else None
    classes = np.unique(y_raw) if classification else None
    y = np.searchsorted(classes, y_raw) if classification else y_raw.astype(float)
    y_min, y_max = (None, None) if classification else (float(np.min(y)), float(np.max(y)))
    mode, config_f = (featurization, None) if isinstance(featurization, str) else ("auto", featurization)

    def fit(rows: Any) -> FittedPipeline:
        return _fit(task, algorithm, config, X.iloc[rows], y[rows], None if weights is None else weights[rows],
                    mode, config_f, classes, cores, estimator)

    fold_scores, folds = [], 0
    width = len(classes) if classification else 1
    predictions = np.full((len(frame), width), np.nan)
    if plan.kind == "validation_data":
        model = fit(np.arange(len(frame)))
        Xv = validation_frame.drop(columns=[c for c in excluded if c in validation_frame.columns])
        yv_raw = validation_frame[label].to_numpy()
        wv = validation_frame[weight_column].to_numpy(dtype=float) if weight_column else None
        scores, predicted = _score(task, model, Xv, yv_raw, wv, classes, y_min, y_max)
        fold_scores.append(scores)
        predictions = predicted.reshape(len(Xv), width)  # of the validation data's rows
        folds = 1
    else:
        model = None
        for train, valid in plan.splits(y_raw, classification=classification, frame=frame):
            fold_model = fit(train)
            scores, predicted = _score(task, fold_model, X.iloc[valid], y_raw[valid],
                                       None if weights is None else weights[valid], classes, y_min, y_max)
            fold_scores.append(scores)
            predictions[valid] = predicted.reshape(len(valid), width)
            folds += 1
            model = fold_model
        if plan.kind != "holdout":  # cross-validated: the model is fitted on every row
            model = fit(np.arange(len(frame)))
    scores = {name: _mean([s[name] for s in fold_scores]) for name in fold_scores[0]}
    featurizer = model.named_steps["datatransformer"]
    notes = []
    if weights is not None and not _takes_weights(model.named_steps["model"]):
        notes.append(f"{algorithm} takes no sample weights: it was fitted unweighted (its scores are weighted)")
    return IterationResult(scores, model, predictions if classification else predictions[:, 0],
                           time.perf_counter() - started, folds, featurizer.get_featurization_summary(), notes)


def _fit(task: str, algorithm: str, config: dict[str, Any], X: Any, y: Any, weights: Any, mode: str,
         featurization: FeaturizationConfig | None, classes: Any, cores: int,
         estimator: dict[str, Any] | None = None) -> FittedPipeline:
    from sklearn.preprocessing import MaxAbsScaler
    entry = models.get(task, algorithm)
    featurizer = Featurizer(mode, featurization)
    matrix = featurizer.fit_transform(X)
    scaler = None
    if entry.scaled:
        scaler = MaxAbsScaler()
        matrix = scaler.fit_transform(matrix)
        if algorithm == "MultinomialNaiveBayes":  # counts only: no negative features
            import numpy as np
            matrix = abs(matrix) if hasattr(matrix, "multiply") else np.abs(matrix)
    if entry.dense:
        matrix = _densify(matrix)
    model = models.from_spec(task, estimator) if estimator is not None else \
        models.build(task, algorithm, config, classes=0 if classes is None else len(classes), cores=cores)
    fit_kwargs = {"sample_weight": weights} if weights is not None and _takes_weights(model) else {}
    model.fit(matrix, y, **fit_kwargs)
    pipeline = FittedPipeline(task, featurizer, scaler, model, classes)
    pipeline._dense = entry.dense
    if algorithm == "MultinomialNaiveBayes":
        pipeline.named_steps["scaler"] = _Absolute(scaler)
    return pipeline


class _Absolute:
    """MaxAbsScaler, then absolute values (Multinomial naive Bayes takes no negative feature)."""

    def __init__(self, scaler: Any):
        self.scaler = scaler

    def transform(self, matrix: Any) -> Any:
        import numpy as np
        scaled = self.scaler.transform(matrix)
        return abs(scaled) if hasattr(scaled, "multiply") else np.abs(scaled)


def _score(task: str, model: FittedPipeline, X: Any, y_raw: Any, weights: Any, classes: Any, y_min: Any,
           y_max: Any) -> tuple[dict[str, float], Any]:
    import numpy as np
    if task == "classification":
        proba = model.predict_proba(X)
        predicted = np.asarray(classes)[np.argmax(proba, axis=1)]
        return am.classification_scores(y_raw, predicted, proba, classes, weights), proba
    predicted = np.asarray(model.predict(X), dtype=float)
    return am.regression_scores(y_raw.astype(float), predicted, y_min, y_max, weights), predicted


def _proba(model: Any, matrix: Any, width: int) -> Any:
    import numpy as np
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(matrix), dtype=float)
    else:  # a margin (LinearSVC): a softmax of the decision function
        margin = np.asarray(model.decision_function(matrix), dtype=float)
        margin = np.stack([-margin, margin], axis=1) if margin.ndim == 1 else margin
        margin = np.exp(margin - margin.max(axis=1, keepdims=True))
        proba = margin / margin.sum(axis=1, keepdims=True)
    if proba.shape[1] != width:  # a fold that lacked a class: its column is zero
        full = np.zeros((proba.shape[0], width))
        full[:, np.asarray(model.classes_, dtype=int)] = proba
        proba = full
    total = proba.sum(axis=1, keepdims=True)  # float32 models (XGBoost) sum to 1 only roughly
    return np.divide(proba, total, out=np.full_like(proba, 1 / width), where=total > 0)


def _takes_weights(model: Any) -> bool:
    import inspect
    return "sample_weight" in inspect.signature(model.fit).parameters


def _densify(matrix: Any) -> Any:
    return matrix.toarray() if hasattr(matrix, "toarray") else matrix


def _mean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return float(sum(kept) / len(kept)) if kept else math.nan
