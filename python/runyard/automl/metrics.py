"""The scores AutoML gives every iteration, under Azure ML's names, and which of them it optimises.

Classification and regression (and forecasting, scored as regression) each have
a set of metrics computed for every iteration, and a shorter list that may be
the ``primary_metric`` (the one the search optimises and the best model is
chosen by). Error metrics are minimised, the others maximised. Azure's
normalised errors divide by the range of the target (``y_max - y_min`` of the
training data); ``norm_macro_recall`` rescales macro recall so that random
guessing scores 0 and perfect prediction 1.

>>> check_primary_metric("regression", None)
'normalized_root_mean_squared_error'
>>> primary_metrics("regression")
('spearman_correlation', 'normalized_root_mean_squared_error', 'r2_score', 'normalized_mean_absolute_error')
>>> maximize("normalized_root_mean_squared_error")
False
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ConfigError

TASKS = ("classification", "regression", "forecasting")

_PRIMARY: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "AUC_weighted", "average_precision_score_weighted", "norm_macro_recall",
                       "precision_score_weighted"),
    "regression": ("spearman_correlation", "normalized_root_mean_squared_error", "r2_score",
                   "normalized_mean_absolute_error"),
    "forecasting": ("normalized_root_mean_squared_error", "normalized_mean_absolute_error", "r2_score",
                    "spearman_correlation"),
}
#: what ``primary_metric=None`` means, as in Azure ML
DEFAULT_PRIMARY: dict[str, str] = {"classification": "accuracy", "regression": "normalized_root_mean_squared_error",
                                   "forecasting": "normalized_root_mean_squared_error"}
#: Azure clips these metrics to at most 1 (errors of hopeless models) or at least -1 (r2 and the like)
_CLIP_HIGH = frozenset({"log_loss", "normalized_mean_absolute_error", "normalized_median_absolute_error",
                        "normalized_root_mean_squared_error", "normalized_root_mean_squared_log_error"})
_CLIP_LOW = frozenset({"spearman_correlation", "explained_variance", "r2_score"})

CLASSIFICATION_METRICS = (
    "accuracy", "balanced_accuracy", "weighted_accuracy", "matthews_correlation", "log_loss", "norm_macro_recall",
    "AUC_macro", "AUC_micro", "AUC_weighted",
    "average_precision_score_macro", "average_precision_score_micro", "average_precision_score_weighted",
    "f1_score_macro", "f1_score_micro", "f1_score_weighted",
    "precision_score_macro", "precision_score_micro", "precision_score_weighted",
    "recall_score_macro", "recall_score_micro", "recall_score_weighted")
REGRESSION_METRICS = (
    "explained_variance", "r2_score", "spearman_correlation", "mean_absolute_error", "median_absolute_error",
    "root_mean_squared_error", "root_mean_squared_log_error", "mean_absolute_percentage_error",
    "normalized_mean_absolute_error", "normalized_median_absolute_error", "normalized_root_mean_squared_error",
    "normalized_root_mean_squared_log_error")
_MINIMIZED = frozenset({"log_loss", "mean_absolute_error", "median_absolute_error", "root_mean_squared_error",
                        "root_mean_squared_log_error", "mean_absolute_percentage_error",
                        "normalized_mean_absolute_error", "normalized_median_absolute_error",
                        "normalized_root_mean_squared_error", "normalized_root_mean_squared_log_error"})


def check_task(task: Any) -> str:
    if task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(map(repr, TASKS))}, got {task!r}")
    return task


def primary_metrics(task: str) -> tuple[str, ...]:
    """The metrics ``task`` may optimise (Azure's ``get_primary_metrics(task)``)."""
    return _PRIMARY[check_task(task)]


def check_primary_metric(task: str, metric: Any) -> str:
    """``metric``, or the task's default for None; an error listing the valid names otherwise."""
    if metric is None:
        return DEFAULT_PRIMARY[check_task(task)]
    valid = primary_metrics(task)
    if metric not in valid:
        other = [t for t in TASKS if t != task and metric in _PRIMARY[t]]
        hint = f" ({metric!r} is a {other[0]} metric)" if other else ""
        raise ConfigError(f"primary_metric {metric!r} does not fit task {task!r}{hint}; "
                          f"valid: {', '.join(valid)}")
    return metric


def task_metrics(task: str) -> tuple[str, ...]:
    """Every metric an iteration of ``task`` logs."""
    return CLASSIFICATION_METRICS if check_task(task) == "classification" else REGRESSION_METRICS


def maximize(metric: str) -> bool:
    """Whether a higher value of ``metric`` is better."""
    return metric not in _MINIMIZED


def better(metric: str, a: float | None, b: float | None) -> bool:
    """Whether score ``a`` beats ``b`` (None or NaN beats nothing)."""
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return False
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return True
    return a > b if maximize(metric) else a < b


# -- computing them ------------------------------------------------------------------------
def classification_scores(y_true: Any, y_pred: Any, proba: Any, classes: Any,
                          sample_weight: Any = None, only: Any = None) -> dict[str, float]:
    """Every classification metric (``only``: just these names, where a caller such as the
    ensemble selection needs one of them many times). ``proba``: one column per entry of
    ``classes`` (the model's ``classes_`` order). A metric that a validation set cannot define
    (AUC of a class absent from it) is NaN."""
    import numpy as np
    from sklearn import metrics as skm

    def wanted(*names: str) -> bool:
        return only is None or any(name in only for name in names)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    proba = np.asarray(proba, dtype=float)
    classes = np.asarray(classes)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    labels = list(classes)
    out: dict[str, float] = {}
    if wanted("accuracy"):
        out["accuracy"] = skm.accuracy_score(y_true, y_pred, sample_weight=w)
    if wanted("balanced_accuracy"):
        out["balanced_accuracy"] = skm.balanced_accuracy_score(y_true, y_pred, sample_weight=w)
    if wanted("matthews_correlation"):
        out["matthews_correlation"] = skm.matthews_corrcoef(y_true, y_pred, sample_weight=w)
    if wanted("log_loss"):
        out["log_loss"] = skm.log_loss(y_true, np.clip(proba, 1e-15, 1), labels=labels, sample_weight=w)
    if wanted("weighted_accuracy"):
        # weighted accuracy: each sample weighted by the share of its class (Azure's definition)
        share = {c: np.mean(y_true == c) for c in classes}
        class_w = np.array([share[c] for c in y_true]) * (1 if w is None else w)
        out["weighted_accuracy"] = (float(np.sum(class_w * (y_true == y_pred)) / np.sum(class_w))
                                    if np.sum(class_w) else math.nan)
    for average in ("macro", "micro", "weighted"):
        names = (f"precision_score_{average}", f"recall_score_{average}", f"f1_score_{average}")
        if wanted(*names, *(("norm_macro_recall",) if average == "macro" else ())):
            out.update(zip(names, skm.precision_recall_fscore_support(
                y_true, y_pred, labels=labels, average=average, sample_weight=w, zero_division=0)[:3]))
    if "recall_score_macro" in out:
        chance = 1 / max(len(classes), 2)  # macro recall of random predictions
        out["norm_macro_recall"] = max(0.0, (out["recall_score_macro"] - chance) / (1 - chance))
    onehot = np.stack([(y_true == c).astype(int) for c in classes], axis=1)
    present = [i for i in range(len(classes)) if 0 < onehot[:, i].sum() < len(y_true)]
    support = onehot.sum(axis=0)
    for name, score in (("AUC", skm.roc_auc_score), ("average_precision_score", skm.average_precision_score)):
        if not wanted(*(f"{name}_{a}" for a in ("macro", "micro", "weighted"))):
            continue
        if not present:
            out.update({f"{name}_{a}": math.nan for a in ("macro", "micro", "weighted")})
            continue
        per_class = np.array([score(onehot[:, i], proba[:, i], sample_weight=w) for i in present])
        out[f"{name}_macro"] = float(per_class.mean())
        out[f"{name}_weighted"] = float(np.average(per_class, weights=support[present]))
        out[f"{name}_micro"] = float(score(onehot.ravel(), proba.ravel(),
                                           sample_weight=None if w is None else np.repeat(w, len(classes))))
    return _clipped(out)


def _clipped(scores: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, value in scores.items():
        value = float(value)
        if not math.isnan(value):
            value = min(value, 1.0) if name in _CLIP_HIGH else max(value, -1.0) if name in _CLIP_LOW else value
        out[name] = value
    return out


def regression_scores(y_true: Any, y_pred: Any, y_min: float, y_max: float,
                      sample_weight: Any = None) -> dict[str, float]:
    """Every regression metric; the normalised ones divide by ``y_max - y_min`` (the training
    target's range), the log ones are NaN where a value is negative. Clipped as Azure clips
    them: normalised errors at 1; r2, explained variance and Spearman at -1."""
    import numpy as np
    from scipy import stats
    from sklearn import metrics as skm

    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    span = (y_max - y_min) or 1.0
    rmse = math.sqrt(skm.mean_squared_error(y_true, y_pred, sample_weight=w))
    mae = skm.mean_absolute_error(y_true, y_pred, sample_weight=w)
    medae = float(np.median(np.abs(y_true - y_pred)))
    out = {
        "explained_variance": skm.explained_variance_score(y_true, y_pred, sample_weight=w),
        "r2_score": skm.r2_score(y_true, y_pred, sample_weight=w),
        "spearman_correlation": _spearman(stats, y_true, y_pred),
        "mean_absolute_error": mae, "median_absolute_error": medae, "root_mean_squared_error": rmse,
        "normalized_mean_absolute_error": mae / span, "normalized_median_absolute_error": medae / span,
        "normalized_root_mean_squared_error": rmse / span,
    }
    nonzero = y_true != 0
    out["mean_absolute_percentage_error"] = (
        float(100 * np.mean(np.abs((y_true[nonzero] - y_pred[nonzero]) / y_true[nonzero]))) if nonzero.any() else math.nan)
    if (y_true >= 0).all() and (y_pred >= 0).all():
        rmsle = math.sqrt(skm.mean_squared_log_error(y_true, y_pred, sample_weight=w))
        log_span = (math.log1p(max(y_max, 0)) - math.log1p(max(y_min, 0))) or 1.0
        out["root_mean_squared_log_error"] = rmsle
        out["normalized_root_mean_squared_log_error"] = rmsle / log_span
    else:
        out["root_mean_squared_log_error"] = out["normalized_root_mean_squared_log_error"] = math.nan
    return _clipped(out)


def _spearman(stats: Any, a: Any, b: Any) -> float:
    import numpy as np
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan  # undefined for a constant
    return float(stats.spearmanr(a, b).statistic)
