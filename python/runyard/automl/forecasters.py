"""Forecasting models, and how a forecasting iteration is fitted and scored.

Two kinds of model, both fitted on the prepared series (``series.prepare``), both forecasting
many series at once with ``forecast(X_future)``:

- ``StatisticalForecaster``: one model per series from statsforecast (Azure's names:
  ``Naive``, ``SeasonalNaive``, ``Average``, ``SeasonalAverage``, ``ExponentialSmoothing``:
  AutoETS, ``AutoArima``: AutoARIMA), at the run's seasonality;
- ``LagForecaster``: one regression model (LightGBM, XGBoost, forests, linear models...) over
  all series, from the features of ``time_features`` and the other columns (known future
  covariates, featurised as in classification and regression). With target lags or a rolling
  window it forecasts recursively, a period at a time, its own forecasts becoming the lags of
  the next period; the covariates of ``X_future`` are used at every step.

``X_future`` holds the time column, the series id columns and the covariates; its times must
follow each series' training data on its frequency grid (and, for recursive models, leave no
period out). ``forecast`` returns Azure's pair: the forecasts in ``X_future``'s row order, and
a frame of the time, the ids and ``_automl_target_col``.

``fit_and_score`` is a forecasting iteration: rolling-origin folds, each scored with the
regression metrics on the periods it forecasts (those the data holds; periods added to fill a
gap are not scored), then the model refitted on every period.
"""

from __future__ import annotations

import abc
import time as clock
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ConfigError
from . import metrics as am
from . import series as ts
from .time_features import PREFIX, TimeFeatures

TARGET_COLUMN = "_automl_target_col"
STATISTICAL = ("Naive", "SeasonalNaive", "Average", "SeasonalAverage", "ExponentialSmoothing", "AutoArima")


@dataclass
class OneStep:
    """A fitted forecaster's one-period-ahead forecasts of its own training periods, as the
    explanation (``explain.forecast_importances``) permutes them: ``rows`` are positions in the
    prepared frame; a statistical model gives fixed ``values`` (its fitted values: they read
    only the target's past), a regression model its ``design`` (a row per position), the
    ``predict`` that maps it to forecasts, and ``sources``: the raw column each design column
    is made from (a covariate, the time column, or the target for its lags and windows)."""

    rows: Any
    values: Any = None
    design: Any = None
    predict: Callable[[Any], Any] | None = None
    sources: dict[str, str] = field(default_factory=dict)


class Forecaster(abc.ABC):
    """A fitted forecasting model of the series it was trained on."""

    def _remember(self, prepared: ts.SeriesFrame) -> None:
        self.time, self.ids, self.freq, self.label = prepared.time, prepared.ids, prepared.freq, prepared.label
        self.keys_: dict[tuple[str, ...], int] = {}
        self.last_ = []
        self.notes: list[str] = []
        frame = prepared.frame
        for index, (_, rows) in enumerate(prepared.positions()):
            first = frame.iloc[rows[0]]
            self.keys_[tuple(str(first[c]) for c in self.ids)] = index
            self.last_.append(frame[self.time].iloc[rows[-1]])

    def _locate(self, X: Any, contiguous: bool) -> tuple[Any, Any, Any]:
        """Each row's series and step past its series' end; X's times parsed."""
        import numpy as np
        import pandas as pd
        if not isinstance(X, pd.DataFrame):
            raise ConfigError(f"forecast takes a pandas DataFrame of the time, series id and feature columns, got "
                              f"{type(X).__name__}")
        for column in [self.time, *self.ids]:
            if column not in X.columns:
                raise ConfigError(f"X_future lacks column {column!r}, which the model was trained with")
        times = pd.DatetimeIndex(ts.parse_times(X[self.time].reset_index(drop=True), self.time, "X_future"))
        keys = list(zip(*(X[c].astype(str) for c in self.ids))) if self.ids else [()] * len(X)
        index = np.array([self.keys_.get(k, -1) for k in keys], dtype=int)
        if (index < 0).any():
            row = X.iloc[int(np.flatnonzero(index < 0)[0])]
            raise ConfigError(f"X_future: {ts.series_name(row, self.ids)} is not a series of the training data "
                              f"(a model forecasts the series it was trained on)")
        steps = np.zeros(len(X), dtype=int)
        for series in np.unique(index):
            rows = np.flatnonzero(index == series)
            last, asked = self.last_[series], times[rows]
            name = ts.series_name(X.iloc[rows[0]], self.ids)
            if (asked <= last).any():
                raise ConfigError(f"X_future: {name} asks for {asked[asked <= last][0]}, which is not after the "
                                  f"training data's end ({last}); forecasts start the period after it")
            grid = pd.date_range(last, asked.max(), freq=self.freq)
            position = grid.get_indexer(asked)
            if (position < 0).any():
                raise ConfigError(f"X_future: {name} asks for {asked[position < 0][0]}, which is off the data's "
                                  f"{self.freq!r} frequency grid")
            if len(np.unique(position)) != len(position):
                raise ConfigError(f"X_future: {name} has more than one row at the same time")
            if contiguous and len(position) != position.max():
                missing = sorted(set(range(1, position.max() + 1)) - set(position.tolist()))[0]
                raise ConfigError(f"X_future: {name} lacks {grid[missing]}: this model forecasts a period at a time "
                                  f"from the one before, so it needs every period from the training data's end to "
                                  f"the last one asked")
            steps[rows] = position
        return index, steps, times

    def forecast(self, X_future: Any) -> tuple[Any, Any]:
        """(forecasts in ``X_future``'s row order, a frame of time, ids and ``_automl_target_col``)."""
        y = self._forecast(X_future)
        frame = X_future[[self.time, *self.ids]].reset_index(drop=True).copy()
        frame[TARGET_COLUMN] = y
        return y, frame

    def predict(self, X: Any) -> Any:
        """The forecasts of ``X``'s rows (as ``forecast(X)[0]``)."""
        return self._forecast(X)

    @abc.abstractmethod
    def _forecast(self, X: Any) -> Any:
        """The forecasts of ``X``'s rows, in their order."""

    @abc.abstractmethod
    def one_step(self, prepared: ts.SeriesFrame) -> OneStep | None:
        """One-period-ahead forecasts of ``prepared``, the frame the model was fitted on (None
        where the model cannot give them)."""


class StatisticalForecaster(Forecaster):
    """One statsforecast model per series (see the module)."""

    def __init__(self, algorithm: str, seasonality: int):
        if algorithm not in STATISTICAL:
            raise ConfigError(f"no statistical forecaster {algorithm!r}; valid: {', '.join(STATISTICAL)}")
        self.algorithm = algorithm
        self.seasonality = seasonality

    def fit(self, prepared: ts.SeriesFrame) -> "StatisticalForecaster":
        self._remember(prepared)
        y = prepared.frame[self.label].to_numpy(dtype=float)
        self.models_ = []
        for name, rows in prepared.positions():
            season = self.seasonality if len(rows) >= 2 * self.seasonality else 1
            try:
                model = _statistical(self.algorithm, season, len(rows)).fit(y[rows])
            except Exception as e:  # a series the model cannot take (constant, too short): its last value
                from statsforecast.models import Naive
                model = Naive().fit(y[rows])
                self.notes.append(f"{name}: {self.algorithm} failed ({type(e).__name__}: {e}); forecast naively")
            self.models_.append(model)
        return self

    def _forecast(self, X: Any) -> Any:
        import numpy as np
        index, steps, _ = self._locate(X, contiguous=False)
        out = np.empty(len(X))
        for series in np.unique(index):
            rows = np.flatnonzero(index == series)
            mean = np.asarray(self.models_[series].predict(h=int(steps[rows].max()))["mean"], dtype=float)
            out[rows] = mean[steps[rows] - 1]
        return out

    def one_step(self, prepared: ts.SeriesFrame) -> OneStep | None:
        import numpy as np
        rows, values = [], []
        for model, (_, positions) in zip(self.models_, prepared.positions()):
            try:
                fitted = np.asarray(model.predict_in_sample()["fitted"], dtype=float)
            except Exception:  # statsforecast's SeasonalWindowAverage keeps none
                return None
            if len(fitted) != len(positions):
                raise ConfigError(f"one_step: {self.algorithm} was fitted on other series than these")
            rows.append(positions)
            values.append(fitted)
        return OneStep(np.concatenate(rows), values=np.concatenate(values))


def _statistical(algorithm: str, season: int, length: int) -> Any:
    from statsforecast import models as sm
    if algorithm == "Naive":
        return sm.Naive()
    if algorithm == "SeasonalNaive":
        return sm.SeasonalNaive(season_length=season)
    if algorithm == "Average":
        return sm.HistoricAverage()
    if algorithm == "SeasonalAverage":
        return sm.SeasonalWindowAverage(season_length=season, window_size=max(1, length // season))
    if algorithm == "ExponentialSmoothing":
        return sm.AutoETS(season_length=season)
    return sm.AutoARIMA(season_length=season)


class LagForecaster(Forecaster):
    """A regression model over every series (see the module)."""

    def __init__(self, algorithm: str, config: dict[str, Any], *, lags: list[int] | None, window: int | None,
                 feature_lags: bool, country: str | None, featurization: Any = "auto", cores: int = 1,
                 estimator: dict[str, Any] | None = None):
        self.algorithm, self.config, self.estimator = algorithm, config, estimator
        self.lags, self.window, self.feature_lags, self.country = lags, window, feature_lags, country
        self.featurization, self.cores = featurization, cores

    def fit(self, prepared: ts.SeriesFrame) -> "LagForecaster":
        import numpy as np
        import pandas as pd
        from .featurization import FeaturizationConfig
        from .iteration import _fit
        self._remember(prepared)
        frame = prepared.frame
        self.covariates_ = [c for c in frame.columns if c not in (self.label, self.time, ts.SERIES, ts.RAW_ROW)]
        lagged = [c for c in self.covariates_ if c not in self.ids and pd.api.types.is_numeric_dtype(frame[c])
                  and not pd.api.types.is_bool_dtype(frame[c])] if self.feature_lags else []
        self.features_ = TimeFeatures(prepared.freq, self.lags, self.window, self.country, lagged).fit(frame[self.time])
        history = self.features_.history
        self.lagged_ = lagged
        design, kept, (Y, C) = self._past_design(prepared)
        if not len(kept):
            raise ConfigError(f"no series has more than {history} periods, which the lags and windows need")
        mode, given = (self.featurization, None) if isinstance(self.featurization, str) else ("auto", self.featurization)
        config = FeaturizationConfig.from_json(given.to_json()) if given is not None else FeaturizationConfig()
        for name in self.features_.names():  # lags, windows, the trend: numbers (calendar parts: as detected)
            if name.removeprefix(PREFIX) not in self.features_.calendar_:
                config.add_column_purpose(name, "Numeric")
        y = frame[self.label].to_numpy(dtype=float)[kept]
        self.pipeline_ = _fit("regression", self.algorithm, self.config, design, y, None, mode, config, None,
                              self.cores, self.estimator)
        # each series' last periods: the past that its first forecasts read
        width = max(history, 1)
        lengths = np.array([len(rows) for _, rows in prepared.positions()])
        self.tail_y_ = _tails(Y, lengths, width)
        self.tail_columns_ = {c: _tails(C[c], lengths, width) for c in lagged}
        return self

    def _past_design(self, prepared: ts.SeriesFrame) -> tuple[Any, Any, tuple[Any, Any]]:
        """The design of every prepared period whose past the features can read, those periods'
        positions, and the series x periods arrays of the target and the lagged columns."""
        import numpy as np
        frame = prepared.frame
        Y, C, series_of, position = _matrices(prepared, self.label, self.lagged_)
        kept = np.flatnonzero(position >= self.features_.history)
        design = self._design(frame.iloc[kept], frame[self.time].iloc[kept],
                              self.features_.of_history(Y, C, series_of[kept], position[kept]))
        return design, kept, (Y, C)

    def one_step(self, prepared: ts.SeriesFrame) -> OneStep | None:
        design, kept, _ = self._past_design(prepared)
        sources = {c: c for c in self.covariates_}
        lags_of = {f"{PREFIX}{c}_lag{lag}": c for c in self.lagged_ for lag in self.features_.lags}
        for name in self.features_.names():
            if name in lags_of:
                sources[name] = lags_of[name]
            elif name.startswith(f"{PREFIX}target_"):
                sources[name] = self.label
            else:  # the trend, calendar parts and holidays
                sources[name] = self.time
        return OneStep(kept, design=design, predict=self.pipeline_.predict, sources=sources)

    def _design(self, rows: Any, times: Any, history: dict[str, Any]) -> Any:
        import pandas as pd
        design = rows[self.covariates_].reset_index(drop=True).copy()
        for name, values in {**self.features_.of_times(times), **history}.items():
            design[name] = values
        return pd.DataFrame(design)

    def _forecast(self, X: Any) -> Any:
        import numpy as np
        history = self.features_.history
        index, steps, times = self._locate(X, contiguous=history > 0)
        X = X.reset_index(drop=True)
        missing = [c for c in self.covariates_ if c not in X.columns]
        if missing:
            raise ConfigError(f"X_future lacks column {missing[0]!r}, which the model was trained with (known "
                              f"future values of every feature column are needed)")
        out = np.empty(len(X))
        if history == 0:  # no feature reads a forecast: every row at once
            out[:] = self.pipeline_.predict(self._design(X, times, {}))
            return out
        series = np.unique(index)
        row_of = {s: r for r, s in enumerate(series)}
        r = np.array([row_of[s] for s in index])
        width = self.tail_y_.shape[1]
        horizon = int(steps.max())
        Y = np.full((len(series), width + horizon), np.nan)
        Y[:, :width] = self.tail_y_[series]
        C = {}
        for column in self.lagged_:
            C[column] = np.full((len(series), width + horizon), np.nan)
            C[column][:, :width] = self.tail_columns_[column][series]
            C[column][r, width - 1 + steps] = X[column].to_numpy(dtype=float)
        for step in range(1, horizon + 1):
            chosen = np.flatnonzero(steps == step)
            if not len(chosen):
                continue
            at = np.full(len(chosen), width - 1 + step)
            features = self.features_.of_history(Y, C, r[chosen], at)
            predicted = np.asarray(self.pipeline_.predict(self._design(X.iloc[chosen], times[chosen], features)),
                                   dtype=float)
            Y[r[chosen], at] = predicted
            out[chosen] = predicted
        return out


def _matrices(prepared: ts.SeriesFrame, label: str, lagged: list[str]) -> tuple[Any, dict[str, Any], Any, Any]:
    """The target (and each lagged column) as series x periods arrays, NaN past a series' end;
    each prepared row's series and period."""
    import numpy as np
    positions = list(prepared.positions())
    length = max(len(rows) for _, rows in positions)
    frame = prepared.frame
    series_of = np.empty(len(frame), dtype=int)
    position = np.empty(len(frame), dtype=int)
    Y = np.full((len(positions), length), np.nan)
    C = {c: np.full((len(positions), length), np.nan) for c in lagged}
    y = frame[label].to_numpy(dtype=float)
    values = {c: frame[c].to_numpy(dtype=float) for c in lagged}
    for index, (_, rows) in enumerate(positions):
        series_of[rows] = index
        position[rows] = np.arange(len(rows))
        Y[index, :len(rows)] = y[rows]
        for c in lagged:
            C[c][index, :len(rows)] = values[c][rows]
    return Y, C, series_of, position


def _tails(matrix: Any, lengths: Any, width: int) -> Any:
    """Each row's last ``width`` values before its length (NaN where it is shorter)."""
    import numpy as np
    out = np.full((matrix.shape[0], width), np.nan)
    for index, length in enumerate(lengths):
        take = min(width, int(length))
        out[index, width - take:] = matrix[index, length - take:length]
    return out


def build(algorithm: str, config: dict[str, Any], settings: dict[str, Any], *, featurization: Any = "auto",
          cores: int = 1, estimator: dict[str, Any] | None = None) -> Any:
    """The unfitted forecaster of an iteration; ``settings``: the run's resolved forecasting settings."""
    if algorithm in STATISTICAL:
        return StatisticalForecaster(algorithm, settings["seasonality"])
    return LagForecaster(algorithm, config, lags=settings.get("lags"), window=settings.get("window"),
                         feature_lags=bool(settings.get("feature_lags")), country=settings.get("country"),
                         featurization=featurization, cores=cores, estimator=estimator)


def prepare(frame: Any, label: str, settings: dict[str, Any]) -> ts.SeriesFrame:
    """The run's training frame as its iterations see it."""
    return ts.prepare(frame, label, settings["time"], settings["ids"], freq=settings["freq"],
                      needed=settings["needed"], short_series=settings["short_series"])


def validation_rows(prepared: ts.SeriesFrame, settings: dict[str, Any]) -> list[Any]:
    """Per fold, the training-frame rows it scores (those the data holds)."""
    import numpy as np
    raw = prepared.frame[ts.RAW_ROW].to_numpy()
    out = []
    for _, valid in ts.splits(prepared, settings["horizon"], settings["folds"], settings["step"],
                              settings["history"]):
        rows = raw[valid]
        out.append(np.sort(rows[rows >= 0]))
    return out


def fit_and_score(frame: Any, label: str, algorithm: str, config: dict[str, Any], settings: dict[str, Any], *,
                  featurization: Any = "auto", cores: int = 1, estimator: dict[str, Any] | None = None) -> Any:
    """A forecasting iteration (see the module): an ``iteration.IterationResult``."""
    import numpy as np
    from .iteration import IterationResult, _mean
    started = clock.perf_counter()
    prepared = prepare(frame, label, settings)
    y_all = frame[label].to_numpy(dtype=float)
    y_min, y_max = float(np.min(y_all)), float(np.max(y_all))
    y = prepared.frame[label].to_numpy(dtype=float)
    raw = prepared.frame[ts.RAW_ROW].to_numpy()
    predictions = np.full(len(frame), np.nan)
    fold_scores, notes = [], []
    for train, valid in ts.splits(prepared, settings["horizon"], settings["folds"], settings["step"],
                                  settings["history"]):
        part = ts.SeriesFrame(prepared.frame.iloc[train].reset_index(drop=True), prepared.freq, prepared.time,
                              prepared.ids, label)
        model = build(algorithm, config, settings, featurization=featurization, cores=cores,
                      estimator=estimator).fit(part)
        notes += model.notes
        future = prepared.frame.iloc[valid].drop(columns=[label]).reset_index(drop=True)
        predicted = np.asarray(model.predict(future), dtype=float)
        held = raw[valid] >= 0
        if held.any():
            fold_scores.append(am.regression_scores(y[valid][held], predicted[held], y_min, y_max))
            predictions[raw[valid][held]] = predicted[held]
    if not fold_scores:
        raise ConfigError("no series is long enough for a rolling-origin fold")
    model = build(algorithm, config, settings, featurization=featurization, cores=cores,
                  estimator=estimator).fit(prepared)
    notes += model.notes
    scores = {name: _mean([s[name] for s in fold_scores]) for name in fold_scores[0]}
    summary = model.pipeline_.named_steps["datatransformer"].get_featurization_summary() \
        if isinstance(model, LagForecaster) else []
    return IterationResult(scores, model, predictions, clock.perf_counter() - started, len(fold_scores), summary,
                           sorted(set(notes)))
