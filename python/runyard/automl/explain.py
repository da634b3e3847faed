"""The best model's global feature importances, per raw column (``model_explainability``).

Permutation importance (scikit-learn's ``permutation_importance``) on the raw columns a user
gave, not on the engineered ones: each column's values are shuffled among the rows and the
model's primary-metric score drops by that column's importance (averaged over repeats). It
treats any model alike (an ensemble too) and needs only ``predict``.

It is kept within a time allowance: one prediction is timed first, and the rows (at most
1,000, drawn with a seed) are cut until the estimated time fits; where even 100 rows would not,
nothing is computed and the reason is given.
"""

from __future__ import annotations

import time
from typing import Any

from . import metrics as am

MAX_ROWS = 1000
MIN_ROWS = 100
REPEATS = 3


def importances(model: Any, frame: Any, y: Any, task: str, metric: str, *, seconds: float,
                classes: Any = None, y_range: tuple[float, float] | None = None) -> tuple[list[tuple[str, float]], str]:
    """(column, importance) best first, and how they were computed (or why not: then no pairs)."""
    import numpy as np
    from sklearn.inspection import permutation_importance
    rows = min(MAX_ROWS, len(frame))
    sample = np.random.default_rng(0).choice(len(frame), rows, replace=False)
    X, target = frame.iloc[sample].reset_index(drop=True), np.asarray(y)[sample]
    started = time.perf_counter()
    model.predict(X)
    per_call = max(time.perf_counter() - started, 1e-4)  # one prediction of `rows` rows
    calls = len(X.columns) * REPEATS + 1
    while rows > MIN_ROWS and per_call * calls > seconds:
        per_call, rows = per_call / 2, rows // 2
    if per_call * calls > seconds:
        return [], (f"not computed: {calls} predictions of {rows} rows would take about {per_call * calls:.0f} s, "
                    f"over the {seconds:.0f} s left in the budget")
    X, target = X.iloc[:rows], target[:rows]
    sign = 1 if am.maximize(metric) else -1

    def score(estimator: Any, data: Any, truth: Any) -> float:
        if task == "classification":
            proba = estimator.predict_proba(data)
            predicted = np.asarray(classes)[np.argmax(proba, axis=1)]
            value = am.classification_scores(truth, predicted, proba, classes)[metric]
        else:
            value = am.regression_scores(truth, estimator.predict(data), *y_range)[metric]
        return sign * value

    result = permutation_importance(_Fitted(model), X, target, scoring=score, n_repeats=REPEATS, random_state=0)
    pairs = sorted(zip(map(str, X.columns), (float(v) for v in result.importances_mean)), key=lambda p: -p[1])
    return pairs, (f"permutation importance of each raw column: the drop in {metric} when its values are shuffled, "
                   f"mean of {REPEATS} repeats on {rows} rows")


class _Fitted:
    """The model as scikit-learn's inspection wants it: something fitted with predict."""

    def __init__(self, model: Any):
        self.model = model

    def fit(self, *args: Any) -> "_Fitted":
        return self

    def predict(self, X: Any) -> Any:
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.model.predict_proba(X)


def chart(pairs: list[tuple[str, float]], metric: str) -> Any:
    """A bar chart of the importances (a matplotlib figure), most important on top."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = pairs[:20][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(shown) + 1.2))
    axes.barh([p[0] for p in shown], [p[1] for p in shown], color="#3a6ea5")
    axes.set_xlabel(f"drop in {metric} when shuffled")
    axes.set_title("Feature importance (raw columns)")
    figure.tight_layout()
    return figure
