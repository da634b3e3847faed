"""The best model's global feature importances, per raw column (``model_explainability``).

Permutation importance (scikit-learn's ``permutation_importance``) on the raw columns a user
gave, not on the engineered ones: each column's values are shuffled among the rows and the
model's primary-metric score drops by that column's importance (averaged over repeats). It
treats any model alike (an ensemble too) and needs only ``predict``.

It is kept within a time allowance: one prediction is timed first, and the rows (at most
1,000, drawn with a seed) are cut until the estimated time fits; where even 100 rows would not,
nothing is computed and the reason is given.

A forecasting model (``forecast_importances``) is explained on its one-period-ahead forecasts
of the training periods (``Forecaster.one_step``: each period forecast from its true past). A
raw column is shuffled together with what is made from it: a covariate with its lags, the time
column as the trend, calendar and holiday features, the target as its lags and rolling windows
(shown as ``<target> (past values)``). A statistical model (ETS, ARIMA, naive) reads only the
target's own past, so no column explains it; in a voting ensemble such members are held at
their fitted values while the regression members' inputs are shuffled.
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


def forecast_importances(model: Any, prepared: Any, metric: str, *, seconds: float,
                         y_range: tuple[float, float]) -> tuple[list[tuple[str, float]], str]:
    """A forecasting model's importances per raw column (see the module), best first, and how
    they were computed (or why not: then no pairs)."""
    import numpy as np
    from .series import RAW_ROW
    members, weights = (model.models, list(model.weights)) if hasattr(model, "weights") else ([model], [1.0])
    names = [getattr(m, "algorithm", type(m).__name__) for m in members]
    steps = [m.one_step(prepared) for m in members]
    if any(step is None for step in steps):
        return [], f"not computed: {names[steps.index(None)]} keeps no fitted values of its training periods"
    regression = [step for step in steps if step.design is not None]
    statistical = sorted({n for n, step in zip(names, steps) if step.design is None})
    if not regression:
        return [], (f"not computed: {', '.join(statistical)} reads only each series' own past values of the "
                    f"target, so no column explains its forecasts")
    frame = prepared.frame
    truth = frame[prepared.label].to_numpy(dtype=float)
    # the periods every member forecasts, that the data holds (not those added to fill a gap)
    where = []
    usable = frame[RAW_ROW].to_numpy() >= 0
    for step in steps:
        at = np.full(len(frame), -1)
        at[step.rows] = np.arange(len(step.rows))
        if step.values is not None:
            usable &= (at >= 0) & np.isfinite(np.where(at >= 0, step.values[at], np.nan))
        usable &= at >= 0
        where.append(at)
    periods = np.flatnonzero(usable)
    if not len(periods):
        return [], "not computed: no training period is forecast by every member from a full past"
    rows = min(MAX_ROWS, len(periods))
    periods = np.sort(np.random.default_rng(0).choice(periods, rows, replace=False))
    designs = [step.design.iloc[where[i][periods]].reset_index(drop=True) if step.design is not None else None
               for i, step in enumerate(steps)]
    groups = list(dict.fromkeys(source for step in regression for source in step.sources.values()))

    def forecasts(shuffled: str | None = None, order: Any = None) -> Any:
        total = np.zeros(len(periods))
        for i, (step, weight) in enumerate(zip(steps, weights)):
            if step.design is None:
                total += weight * step.values[where[i][periods]]
                continue
            design = designs[i]
            if shuffled is not None:
                columns = [c for c, source in step.sources.items() if source == shuffled]
                design = design.copy()
                design[columns] = design[columns].iloc[order].to_numpy()
            total += weight * np.asarray(step.predict(design), dtype=float)
        return total

    started = time.perf_counter()
    baseline = forecasts()
    per_call = max(time.perf_counter() - started, 1e-4)
    calls = len(groups) * REPEATS
    if per_call * calls > seconds:
        return [], (f"not computed: {calls} forecasts of {rows} periods would take about {per_call * calls:.0f} s, "
                    f"over the {seconds:.0f} s left in the budget")
    sign = 1 if am.maximize(metric) else -1
    y = truth[periods]

    def score(predicted: Any) -> float:
        return sign * am.regression_scores(y, predicted, *y_range)[metric]

    base = score(baseline)
    rng = np.random.default_rng(0)
    pairs = []
    for group in groups:
        drops = [base - score(forecasts(group, rng.permutation(rows))) for _ in range(REPEATS)]
        label = f"{group} (past values)" if group == prepared.label else group
        pairs.append((label, float(np.mean(drops))))
    pairs.sort(key=lambda p: -p[1])
    held = (f"; {', '.join(statistical)} (reading only the target's past) held at their fitted values"
            if statistical else "")
    return pairs, (f"permutation importance of each raw column on one-period-ahead forecasts of the training "
                   f"periods: the drop in {metric} when the column and the features made from it are shuffled, "
                   f"mean of {REPEATS} repeats on {rows} periods{held}")


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
