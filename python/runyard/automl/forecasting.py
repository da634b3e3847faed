"""``ForecastingParameters``: what a forecasting AutoML run needs to know of its time series.

Azure ML's names and defaults (``azureml.automl.core.forecasting_parameters``):

- ``time_column_name`` (required): the column of timestamps;
- ``forecast_horizon`` (default 1): how many periods past the data's end a model predicts;
- ``time_series_id_column_names``: the columns naming each series (none: one series);
- ``target_lags``: lags of the target as features of the regression models (an int, a list of
  ints, ``'auto'`` to choose them from the partial autocorrelation, or None: off, Azure's default);
- ``feature_lags``: ``'auto'`` lags the numeric features by the target's lags (None: off);
- ``target_rolling_window_size``: the mean, min and max of the target over the previous N
  periods as features (an int of 2 or more, ``'auto'``: one season, or None: off);
- ``seasonality``: ``'auto'`` (detected), or a period count (1: none);
- ``freq``: a pandas offset alias (``'D'``, ``'W-SUN'``, ``'MS'``, ``'h'`` ...); detected if not
  given; a timestamp off that grid is an error;
- ``country_or_region_for_holidays``: an ISO country code (``'US'``, ``'GB'``...): the
  ``holidays`` package's holidays as features;
- ``short_series_handling_configuration``: ``'auto'`` (drop the short series while some are
  long enough, pad them all otherwise), ``'pad'``, ``'drop'`` or None (an error);
- ``cv_step_size``: periods between the rolling origins of cross-validation (``'auto'``: the
  horizon).

>>> ForecastingParameters(time_column_name="date", forecast_horizon=14).forecast_horizon
14
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, refuse_unknown_arguments

SHORT_SERIES = ("auto", "pad", "drop")
MAX_LAG = 10_000


class ForecastingParameters:
    """The time-series settings of ``AutoMLConfig(task='forecasting', forecasting_parameters=...)``;
    see the module for each argument."""

    def __init__(self, time_column_name: str | None = None, forecast_horizon: int = 1,
                 time_series_id_column_names: str | list[str] | None = None,
                 target_lags: int | list[int] | str | None = None, feature_lags: str | None = None,
                 target_rolling_window_size: int | str | None = None, seasonality: int | str = "auto",
                 country_or_region_for_holidays: str | None = None, freq: str | None = None,
                 short_series_handling_configuration: str | None = "auto", cv_step_size: int | str = "auto",
                 **kwargs: Any):
        refuse_unknown_arguments("ForecastingParameters()", kwargs,
                                 "see help(ForecastingParameters) for the arguments runyard takes")
        if not isinstance(time_column_name, str) or not time_column_name:
            raise ConfigError(f"ForecastingParameters: time_column_name must name the column of timestamps, "
                              f"got {time_column_name!r}")
        self.time_column_name = time_column_name
        self.forecast_horizon = _count("forecast_horizon", forecast_horizon, 1)
        ids = [time_series_id_column_names] if isinstance(time_series_id_column_names, str) \
            else list(time_series_id_column_names or [])
        if any(not isinstance(c, str) or not c for c in ids) or len(set(ids)) != len(ids):
            raise ConfigError(f"ForecastingParameters: time_series_id_column_names must be distinct column names, "
                              f"got {time_series_id_column_names!r}")
        if time_column_name in ids:
            raise ConfigError(f"ForecastingParameters: {time_column_name!r} is the time column; it cannot also name "
                              f"the series")
        self.time_series_id_column_names = ids
        if target_lags is None or target_lags == "auto":
            self.target_lags = target_lags
        elif isinstance(target_lags, (list, tuple)) and target_lags:
            self.target_lags = sorted({_count("target_lags", lag, 1, MAX_LAG) for lag in target_lags})
        elif isinstance(target_lags, int) and not isinstance(target_lags, bool):
            self.target_lags = [_count("target_lags", target_lags, 1, MAX_LAG)]
        else:
            _refuse("target_lags", target_lags, "a lag, a list of lags, 'auto' or None")
        if feature_lags not in (None, "auto"):
            _refuse("feature_lags", feature_lags, "'auto' or None")
        if feature_lags == "auto" and self.target_lags is None:
            raise ConfigError("ForecastingParameters: feature_lags='auto' lags the features by the target's lags; "
                              "give target_lags too")
        self.feature_lags = feature_lags
        if target_rolling_window_size not in (None, "auto"):
            target_rolling_window_size = _count("target_rolling_window_size", target_rolling_window_size, 2, MAX_LAG)
        self.target_rolling_window_size = target_rolling_window_size
        if seasonality != "auto":
            seasonality = _count("seasonality", seasonality, 1, MAX_LAG)
        self.seasonality = seasonality
        if country_or_region_for_holidays is not None:
            country_or_region_for_holidays = _country(country_or_region_for_holidays)
        self.country_or_region_for_holidays = country_or_region_for_holidays
        if freq is not None:
            freq = _freq(freq)
        self.freq = freq
        if short_series_handling_configuration is not None and short_series_handling_configuration not in SHORT_SERIES:
            _refuse("short_series_handling_configuration", short_series_handling_configuration,
                    "'auto', 'pad', 'drop' or None")
        self.short_series_handling_configuration = short_series_handling_configuration
        if cv_step_size != "auto":
            cv_step_size = _count("cv_step_size", cv_step_size, 1)
        self.cv_step_size = cv_step_size

    @property
    def step(self) -> int:
        """Periods between rolling origins."""
        return self.forecast_horizon if self.cv_step_size == "auto" else int(self.cv_step_size)

    def columns(self) -> list[str]:
        """The columns these parameters name: the time column, then the series ids."""
        return [self.time_column_name, *self.time_series_id_column_names]

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "ForecastingParameters":
        return ForecastingParameters(**{name: data[name] for name in _FIELDS if name in data})

    def __repr__(self) -> str:
        given = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS
                          if getattr(self, name) not in (None, [], "auto") or name == "time_column_name")
        return f"ForecastingParameters({given})"


_FIELDS = ("time_column_name", "forecast_horizon", "time_series_id_column_names", "target_lags", "feature_lags",
           "target_rolling_window_size", "seasonality", "country_or_region_for_holidays", "freq",
           "short_series_handling_configuration", "cv_step_size")


def _count(field: str, value: Any, low: int, high: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"ForecastingParameters: {field} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _refuse(field: str, value: Any, takes: str) -> Any:
    raise ConfigError(f"ForecastingParameters: {field} must be {takes}, got {value!r}")


def _country(code: Any) -> str:
    import holidays
    supported = holidays.list_supported_countries()
    if not isinstance(code, str) or code.upper() not in supported:
        raise ConfigError(f"ForecastingParameters: country_or_region_for_holidays must be an ISO country code the "
                          f"holidays package knows (e.g. 'US', 'GB', 'DE'), got {code!r}")
    return code.upper()


def _freq(value: Any) -> str:
    import warnings
    import pandas as pd
    try:
        with warnings.catch_warnings():  # pandas renamed 'M', 'H'... ('ME', 'h'); Azure's users write the old names
            warnings.simplefilter("ignore", FutureWarning)
            return pd.tseries.frequencies.to_offset(value).freqstr
    except (TypeError, ValueError):
        raise ConfigError(f"ForecastingParameters: freq must be a pandas frequency such as 'D', 'W-SUN', 'MS' or "
                          f"'h', got {value!r}") from None


def resolve(params: ForecastingParameters, frame: Any, label: str, n_cross_validations: int | None) -> dict[str, Any]:
    """The run's forecasting settings, resolved once against its training data (frequency,
    seasonality, lags, folds), so that every iteration works with the same; ``ConfigError``
    for data that cannot be forecast (see ``series``)."""
    import pandas as pd
    from . import series as ts
    where = "training_data"
    ids = params.time_series_id_column_names
    missing = [c for c in params.columns() if c not in frame.columns]
    if missing:
        raise ConfigError(f"ForecastingParameters: {missing[0]!r} is not a column of training_data (columns: "
                          f"{', '.join(map(str, frame.columns))})")
    if label in params.columns():
        raise ConfigError(f"ForecastingParameters: the label {label!r} cannot be the time or a series id column")
    coded = ts.with_series_codes(frame, params.time_column_name, ids, where)
    freq = params.freq or ts.detect_freq(coded, params.time_column_name)
    lengths = coded.groupby(ts.SERIES).size().tolist()
    # the history the lags and window read, as far as it is known before 'auto' is resolved
    lags = params.target_lags if isinstance(params.target_lags, list) else []
    season_guess = ts.season_of(freq) if params.seasonality == "auto" else params.seasonality
    window = params.target_rolling_window_size
    window_guess = (season_guess if season_guess > 1 else 3) if window == "auto" else (window or 0)
    history_guess = max([*lags, window_guess, *( [max(season_guess, 10)] if params.target_lags == "auto" else []), 0])
    step = params.step
    folds = ts.fold_count(lengths, params.forecast_horizon, history_guess, step, n_cross_validations)
    needed = ts.min_points(params.forecast_horizon, history_guess, folds, step)
    prepared = ts.prepare(frame, label, params.time_column_name, ids, freq=freq, needed=needed,
                          short_series=params.short_series_handling_configuration, where=where)
    seasonality = ts.detect_seasonality(prepared) if params.seasonality == "auto" else params.seasonality
    if params.target_lags == "auto":
        lags = ts.auto_lags(prepared, seasonality)
    if window == "auto":
        window = seasonality if seasonality > 1 else 3
    history = max([*lags, window or 0, 0])
    if not pd.api.types.is_numeric_dtype(frame[label]) or pd.api.types.is_bool_dtype(frame[label]):
        raise ConfigError(f"task 'forecasting' needs a numeric label; {label!r} is {frame[label].dtype}")
    return {"time": params.time_column_name, "ids": ids, "horizon": params.forecast_horizon, "freq": freq,
            "seasonality": int(seasonality), "lags": lags or None, "window": window,
            "feature_lags": params.feature_lags == "auto", "country": params.country_or_region_for_holidays,
            "short_series": params.short_series_handling_configuration, "folds": folds, "step": step,
            "history": history, "needed": needed, "series": prepared.series, "added": prepared.added,
            "dropped": prepared.dropped, "padded": prepared.padded, "parameters": params.to_json()}
