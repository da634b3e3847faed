"""The features a regression model forecasts from: calendar, holidays, trend, lags, windows.

``TimeFeatures`` is fitted on the prepared training series and makes, for any timestamps,

- ``_automl_time_index``: periods since the training data's first time (the trend);
- the calendar parts that mean something at the data's frequency and vary in it
  (``_automl_year``, ``_automl_month``, ``_automl_dayofweek``, ``_automl_hour``...: a month's
  data gets no weekday);
- ``_automl_holidays`` with ``country_or_region_for_holidays``: for periods of a day or longer,
  how many holidays the period holds; for shorter ones, whether its day is a holiday (the
  ``holidays`` package's calendar, offline);

and, from a series' past values, ``_automl_target_lag{L}`` for each target lag,
``_automl_target_{mean,min,max}{W}`` over the rolling window of the previous ``W`` periods, and
``_automl_{column}_lag{L}`` for each numeric feature where ``feature_lags='auto'``.
"""

from __future__ import annotations

from typing import Any

PREFIX = "_automl_"
CALENDAR = ("year", "quarter", "month", "day", "dayofweek", "dayofyear", "weekofyear", "hour", "minute")


def _finest() -> list[tuple[str, Any]]:
    """Each calendar part, and the longest period it describes (a month start's weekday means nothing)."""
    import pandas as pd
    day = pd.Timedelta(days=1)
    return [("year", pd.Timedelta(days=366)), ("quarter", pd.Timedelta(days=92)), ("month", pd.Timedelta(days=31)),
            ("weekofyear", 7 * day), ("day", day), ("dayofweek", day), ("dayofyear", day),
            ("hour", pd.Timedelta(hours=1)), ("minute", pd.Timedelta(minutes=1))]


class TimeFeatures:
    def __init__(self, freq: str, lags: list[int] | None, window: int | None, country: str | None,
                 lagged_columns: list[str]):
        self.freq = freq
        self.lags = list(lags or [])
        self.window = window
        self.country = country
        self.lagged_columns = list(lagged_columns)

    @property
    def history(self) -> int:
        """How many past periods the features read."""
        return max([*self.lags, self.window or 0, 0])

    def fit(self, times: Any) -> "TimeFeatures":
        import pandas as pd
        times = pd.DatetimeIndex(times)
        self.origin_ = times.min()
        parts = _calendar(times)
        period = (times[0] + pd.tseries.frequencies.to_offset(self.freq)) - times[0]
        finer = [name for name, longest in _finest() if period <= longest]
        self.calendar_ = [name for name in CALENDAR if name in finer and parts[name].nunique() > 1]
        return self

    def names(self) -> list[str]:
        return [f"{PREFIX}time_index", *(PREFIX + c for c in self.calendar_),
                *([f"{PREFIX}holidays"] if self.country else []),
                *(f"{PREFIX}target_lag{lag}" for lag in self.lags),
                *([f"{PREFIX}target_{s}{self.window}" for s in ("mean", "min", "max")] if self.window else []),
                *(f"{PREFIX}{c}_lag{lag}" for c in self.lagged_columns for lag in self.lags)]

    def of_times(self, times: Any) -> dict[str, Any]:
        """The features that depend on the time alone."""
        import numpy as np
        import pandas as pd
        times = pd.DatetimeIndex(times)
        grid = pd.date_range(self.origin_, max(times.max(), self.origin_), freq=self.freq)
        index = grid.get_indexer(times).astype(float)
        before = times < self.origin_
        if before.any():  # earlier than the training data: counted backwards
            back = pd.date_range(times.min(), self.origin_, freq=self.freq)
            index[before] = back.get_indexer(times[before]) - (len(back) - 1)
        out = {f"{PREFIX}time_index": index}
        parts = _calendar(times)
        out.update({PREFIX + c: parts[c].to_numpy(dtype=float) for c in self.calendar_})
        if self.country:
            out[f"{PREFIX}holidays"] = self._holidays(times)
        return {k: np.asarray(v, dtype=float) for k, v in out.items()}

    def _holidays(self, times: Any) -> Any:
        import holidays
        import numpy as np
        import pandas as pd
        years = range(times.min().year - 1, times.max().year + 2)
        days = np.array(sorted(pd.Timestamp(d) for d in holidays.country_holidays(self.country, years=years)),
                        dtype="datetime64[ns]")
        period = pd.tseries.frequencies.to_offset(self.freq)
        starts = times.to_numpy()
        if (times[0] + period) - times[0] < pd.Timedelta(days=1):
            return np.isin(times.normalize().to_numpy(), days).astype(float)
        ends = (times + period).to_numpy()
        return (np.searchsorted(days, ends, side="left") - np.searchsorted(days, starts, side="left")).astype(float)

    def of_history(self, y: Any, columns: dict[str, Any], rows: Any, at: Any) -> dict[str, Any]:
        """The features of past values: ``y`` (and ``columns``' arrays) hold each series' values
        in rows, periods in columns; each described period is a series' row (``rows``) and its
        column (``at``), whose past is the columns before it."""
        out = {}
        for lag in self.lags:
            out[f"{PREFIX}target_lag{lag}"] = y[rows, at - lag]
        if self.window:
            import numpy as np
            block = np.stack([y[rows, at - k] for k in range(1, self.window + 1)], axis=1)
            out[f"{PREFIX}target_mean{self.window}"] = block.mean(axis=1)
            out[f"{PREFIX}target_min{self.window}"] = block.min(axis=1)
            out[f"{PREFIX}target_max{self.window}"] = block.max(axis=1)
        for column in self.lagged_columns:
            for lag in self.lags:
                out[f"{PREFIX}{column}_lag{lag}"] = columns[column][rows, at - lag]
        return out


def _calendar(times: Any) -> Any:
    import pandas as pd
    return pd.DataFrame({"year": times.year, "quarter": times.quarter, "month": times.month, "day": times.day,
                         "dayofweek": times.dayofweek, "dayofyear": times.dayofyear,
                         "weekofyear": times.isocalendar().week.to_numpy(), "hour": times.hour,
                         "minute": times.minute})
