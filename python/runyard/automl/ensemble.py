"""AutoML's last iterations: a voting ensemble and a stack ensemble of the best iterations.

Both are built from what the iterations kept: each one's validation prediction of every row
(``outputs/predictions.npy``) and its fitted model. Nothing is refitted.

- **VotingEnsemble**: greedy ensemble selection (Caruana et al., 2004), as Azure ML does it:
  start from the best iteration, then add, with replacement, whichever iteration improves the
  ensemble's validation score most, for up to 15 rounds; the weights are how often each was
  picked. The ensemble averages its members' probabilities (classification) or predictions.
- **StackEnsemble**: a meta-learner over the members' validation predictions (logistic
  regression for classification, elastic net for regression, as Azure's defaults). Its score
  is cross-validated over the run's own folds (the meta-learner fitted without the fold it
  predicts), so it is not flattered by fitting the rows it is scored on.

Scores are computed per fold, with the folds of the run's validation plan, and averaged, as
an iteration's are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import metrics as am

#: Azure's ensemble_iterations default: at most 15 members considered, 15 selection rounds
MAX_MEMBERS = 15
ROUNDS = 15


@dataclass
class Member:
    run_id: str
    algorithm: str
    score: float
    predictions: Any  # rows x classes (classification) or rows (regression); NaN where not validated
    model: Any = None


class VotingEnsemble:
    """A weighted average of fitted pipelines: ``predict`` and ``predict_proba`` take raw frames."""

    def __init__(self, task: str, models: list[Any], weights: list[float], classes: Any = None):
        self.task = task
        self.models = models
        self.weights = weights
        self.classes_ = classes

    def predict_proba(self, frame: Any) -> Any:
        import numpy as np
        if self.classes_ is None:
            raise AttributeError("predict_proba: a regression ensemble predicts values; use predict")
        return sum(w * np.asarray(m.predict_proba(frame)) for m, w in zip(self.models, self.weights))

    def predict(self, frame: Any) -> Any:
        import numpy as np
        if self.classes_ is not None:
            return np.asarray(self.classes_)[np.argmax(self.predict_proba(frame), axis=1)]
        return sum(w * np.asarray(m.predict(frame), dtype=float) for m, w in zip(self.models, self.weights))

    def forecast(self, X_future: Any) -> tuple[Any, Any]:
        """A forecasting ensemble's forecasts: its members' weighted (see ``Forecaster.forecast``)."""
        if not all(hasattr(m, "forecast") for m in self.models):
            raise AttributeError("forecast: this ensemble's models are not forecasting models; use predict")
        pairs = [m.forecast(X_future) for m in self.models]
        y = sum(w * pair[0] for pair, w in zip(pairs, self.weights))
        frame = pairs[0][1].copy()
        frame[frame.columns[-1]] = y
        return y, frame


class StackEnsemble:
    """Members' predictions, then a meta-learner over them: ``predict`` (and
    ``predict_proba``) take raw frames."""

    def __init__(self, task: str, models: list[Any], meta: Any, classes: Any = None):
        self.task = task
        self.models = models
        self.meta = meta
        self.classes_ = classes

    def _features(self, frame: Any) -> Any:
        return _stack_features(self.task, [m.predict_proba(frame) if self.classes_ is not None else m.predict(frame)
                                           for m in self.models])

    def predict_proba(self, frame: Any) -> Any:
        if self.classes_ is None:
            raise AttributeError("predict_proba: a regression ensemble predicts values; use predict")
        return _full_proba(self.meta, self.meta.predict_proba(self._features(frame)), len(self.classes_))

    def predict(self, frame: Any) -> Any:
        import numpy as np
        if self.classes_ is not None:
            return np.asarray(self.classes_)[np.argmax(self.predict_proba(frame), axis=1)]
        return self.meta.predict(self._features(frame))


def pool(members: list[Member], metric: str) -> list[Member]:
    """The best iterations an ensemble considers (at most 15), best first."""
    ranked = sorted((m for m in members if not math.isnan(m.score)), key=lambda m: m.score,
                    reverse=am.maximize(metric))
    return ranked[:MAX_MEMBERS]


def fold_scores(task: str, y: Any, prediction: Any, folds: list[Any], classes: Any,
                y_range: tuple[float, float] | None, only: Any = None) -> dict[str, float]:
    """Every metric (``only``: just these) of ``prediction`` (a row-aligned validation
    prediction), per fold, averaged."""
    import numpy as np
    per_fold = []
    for rows in folds:
        if task == "classification":
            proba = prediction[rows]
            per_fold.append(am.classification_scores(y[rows], np.asarray(classes)[np.argmax(proba, axis=1)], proba,
                                                     classes, only=only))
        else:
            scores = am.regression_scores(y[rows], prediction[rows], *y_range)
            per_fold.append(scores if only is None else {name: scores[name] for name in only})
    return {name: _mean([s[name] for s in per_fold]) for name in per_fold[0]}


def select_voting(task: str, metric: str, members: list[Member], y: Any, folds: list[Any], classes: Any,
                  y_range: tuple[float, float] | None) -> tuple[list[float], dict[str, float]]:
    """Greedy ensemble selection: a weight per member (summing to 1) and the ensemble's scores.
    The rounds score candidates by the primary metric alone (every metric of ten classes, per
    fold, for each of 15 members in each of 15 rounds took most of a short budget's end)."""
    import numpy as np
    counts = [0] * len(members)
    counts[0] = 1  # the best iteration starts it
    total = np.array(members[0].predictions, dtype=float)
    best_scores = fold_scores(task, y, total, folds, classes, y_range, only={metric})
    for _ in range(ROUNDS - 1):
        choice, choice_scores = None, None
        for index, member in enumerate(members):
            candidate = (total + member.predictions) / (sum(counts) + 1)
            scores = fold_scores(task, y, candidate, folds, classes, y_range, only={metric})
            if choice_scores is None or am.better(metric, scores[metric], choice_scores[metric]):
                choice, choice_scores = index, scores
        if choice is None or not am.better(metric, choice_scores[metric], best_scores[metric]):
            break  # no member makes it better
        counts[choice] += 1
        total = total + members[choice].predictions
        best_scores = choice_scores
    weights = [c / sum(counts) for c in counts]
    prediction = sum(w * m.predictions for w, m in zip(weights, members))
    return weights, fold_scores(task, y, prediction, folds, classes, y_range)


def fit_stack(task: str, members: list[Member], y: Any, folds: list[Any], classes: Any,
              y_range: tuple[float, float] | None) -> tuple[Any, dict[str, float]]:
    """The meta-learner fitted on every validated row, and its scores cross-validated over ``folds``."""
    import numpy as np
    features = _stack_features(task, [m.predictions for m in members])
    rows = np.concatenate(folds)
    if task == "classification":
        prediction = np.full((len(y), len(classes)), np.nan)
    else:
        prediction = np.full(len(y), np.nan)
    labels = np.searchsorted(classes, y) if task == "classification" else y.astype(float)
    for held in folds:
        train = np.setdiff1d(rows, held)
        if len(train) == 0:  # a single holdout: the meta-learner needs rows of its own
            train, held = _split_holdout(held)
        meta = _meta(task).fit(features[train], labels[train])
        prediction[held] = (_full_proba(meta, meta.predict_proba(features[held]), len(classes))
                            if task == "classification" else meta.predict(features[held]))
    scored = [f[~np.isnan(prediction[f] if prediction.ndim == 1 else prediction[f][:, 0])] for f in folds]
    scores = fold_scores(task, y, prediction, [f for f in scored if len(f)], classes, y_range)
    return _meta(task).fit(features[rows], labels[rows]), scores


def _split_holdout(rows: Any) -> tuple[Any, Any]:
    """A holdout's rows in two: the meta-learner fitted on 20% (Azure's share), scored on the rest."""
    import numpy as np
    shuffled = np.random.default_rng(0).permutation(rows)
    cut = max(1, int(0.2 * len(rows)))
    return shuffled[:cut], shuffled[cut:]


def _meta(task: str) -> Any:
    if task == "classification":
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(max_iter=1000)
    from sklearn.linear_model import ElasticNetCV
    return ElasticNetCV(cv=3)


def _stack_features(task: str, predictions: list[Any]) -> Any:
    import numpy as np
    columns = [np.asarray(p, dtype=float).reshape(len(p), -1) for p in predictions]
    return np.nan_to_num(np.hstack(columns))


def _full_proba(meta: Any, proba: Any, width: int) -> Any:
    import numpy as np
    if proba.shape[1] == width:
        return proba
    full = np.zeros((proba.shape[0], width))
    full[:, np.asarray(meta.classes_, dtype=int)] = proba
    return full


def _mean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return float(sum(kept) / len(kept)) if kept else math.nan
