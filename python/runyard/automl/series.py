"""A forecasting run's table as regular time series, and how its iterations are validated.

``prepare`` turns the training frame into series on a regular grid, deterministically, so the
driver and every iteration see the same rows:

- the time column parsed as timestamps (an error names a value that does not parse);
- one row per series and time (a duplicate is an error naming the series and the time);
- the frequency: ``freq`` as given, else detected (pandas' inference on each series, the
  most common answer); a timestamp off the grid is an error;
- each series on the grid from its first to its last time: missing periods added, their
  target carried forward (Azure's default for the target), their features left missing for
  the featuriser to impute;
- short series (fewer periods than training and validation need, ``min_points``) dropped,
  padded at their start with zeros, or refused, as ``short_series_handling_configuration``
  says.

Every prepared row keeps the training frame's row it came from (``RAW_ROW``; -1 for an added
one), so validation predictions are kept per training row, for the ensembles.

``splits`` gives the rolling-origin folds (Azure's time-series cross-validation): fold ``k``
of ``n`` validates each series on the ``forecast_horizon`` periods that end
``(n - 1 - k) * cv_step_size`` periods before its end and trains on every period before them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import ConfigError

RAW_ROW = "__runyard_raw_row__"
SERIES = "__runyard_series__"
#: seasonality='auto': the season a frequency suggests (checked against the autocorrelation)
SEASONS = {"h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4, "Y": 1, "min": 60}
DEFAULT_FOLDS = 3
AUTO_MAX_LAGS = 5


@dataclass
class SeriesFrame:
    """The prepared series: ``frame`` sorted by series then time, on a regular grid."""

    frame: Any
    freq: str
    time: str
    ids: list[str]
    label: str
    added: int = 0  # periods added inside series
    dropped: list[str] = field(default_factory=list)  # short series dropped
    padded: list[str] = field(default_factory=list)  # short series padded
    series: int = 0

    def positions(self) -> Iterator[tuple[str, Any]]:
        """(series name, its prepared rows in time order)."""
        import numpy as np
        codes = self.frame[SERIES].to_numpy()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
        for start, end in zip(starts, ends):
            yield series_name(self.frame.iloc[start], self.ids), np.arange(start, end)


def series_name(row: Any, ids: list[str]) -> str:
    return ", ".join(f"{c}={row[c]!r}" for c in ids) if ids else "the series"


def parse_times(values: Any, column: str, where: str = "training_data") -> Any:
    import pandas as pd
    if pd.api.types.is_datetime64_any_dtype(values):
        times = values
    else:
        times = pd.to_datetime(values, errors="coerce")
        bad = times.isna() & values.notna()
        if bad.any():
            raise ConfigError(f"{where}: time column {column!r} holds {values[bad].iloc[0]!r}, which is not a date "
                              f"or time")
    if times.isna().any():
        raise ConfigError(f"{where}: time column {column!r} is empty on {int(times.isna().sum())} row(s)")
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.astype("datetime64[ns]")


def with_series_codes(frame: Any, time: str, ids: list[str], where: str = "training_data") -> Any:
    """``frame`` with its time column parsed and a series code per row, sorted by series then
    time; errors for missing columns, missing ids and duplicate times."""
    import numpy as np
    for column in [time, *ids]:
        if column not in frame.columns:
            raise ConfigError(f"{where}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
    frame = frame.copy()
    frame[time] = parse_times(frame[time], time, where)
    for column in ids:
        if frame[column].isna().any():
            raise ConfigError(f"{where}: series id column {column!r} is empty on {int(frame[column].isna().sum())} "
                              f"row(s)")
    frame[SERIES] = frame.groupby(ids, sort=True).ngroup().to_numpy() if ids else np.zeros(len(frame), dtype=int)
    duplicated = frame.duplicated([SERIES, time])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise ConfigError(f"{where}: {series_name(row, ids)} has more than one row at {row[time]} (one row per "
                          f"series and time; aggregate them first)")
    return frame.sort_values([SERIES, time], kind="stable").reset_index(drop=True)


def detect_freq(frame: Any, time: str) -> str:
    """The most common frequency pandas infers for the series (each with 3 or more times)."""
    import collections
    import pandas as pd
    found: collections.Counter[str] = collections.Counter()
    lengths = []
    for _, part in frame.groupby(SERIES, sort=False):
        times = pd.DatetimeIndex(part[time])
        lengths.append(len(times))
        if len(times) >= 3:
            inferred = pd.infer_freq(times)
            if inferred is not None:
                found[inferred] += 1
    if found:
        return found.most_common(1)[0][0]
    # gaps everywhere: the most common step, where it is a fixed length of time
    steps: collections.Counter[Any] = collections.Counter()
    for _, part in frame.groupby(SERIES, sort=False):
        steps.update(pd.Series(part[time]).diff().dropna())
    if steps:
        step = steps.most_common(1)[0][0]
        if step > pd.Timedelta(0) and step < pd.Timedelta(days=28):
            return pd.tseries.frequencies.to_offset(step).freqstr
    raise ConfigError(f"the frequency of the series in {time!r} could not be detected (the longest has "
                      f"{max(lengths, default=0)} times); give ForecastingParameters(freq=...), e.g. 'D' or 'MS'")


def season_of(freq: str) -> int:
    """The season length a frequency suggests: 7 for days, 12 for months, ... (1: none)."""
    import pandas as pd
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.name.split("-")[0].rstrip("S").rstrip("E") or offset.name
    for key in (offset.name.split("-")[0], name, name.upper(), name.lower()):
        if key in SEASONS:
            return SEASONS[key] if offset.n == 1 else 1
    return 1


def detect_seasonality(prepared: SeriesFrame) -> int:
    """``seasonality='auto'``: the frequency's season where the autocorrelation of the
    differenced series at that lag is clearly positive on the median series, else 1."""
    import numpy as np
    season = season_of(prepared.freq)
    if season <= 1:
        return 1
    values = []
    for _, rows in prepared.positions():
        y = np.diff(prepared.frame[prepared.label].to_numpy(dtype=float)[rows])
        if len(y) >= 2 * season + 1 and np.std(y) > 0:
            y = y - y.mean()
            values.append(float(np.dot(y[season:], y[:-season]) / np.dot(y, y)))
    if not values:
        return 1
    n = float(np.median([len(rows) for _, rows in prepared.positions()]))
    return season if float(np.median(values)) > 1.96 / math.sqrt(max(n, 1.0)) else 1


def auto_lags(prepared: SeriesFrame, seasonality: int) -> list[int]:
    """``target_lags='auto'``: lag 1, and the lags up to two seasons (at least 10) whose partial
    autocorrelation is significant on the longest series, at most 5, largest first kept."""
    import numpy as np
    from statsmodels.tsa.stattools import pacf
    longest = max((rows for _, rows in prepared.positions()), key=len)
    y = prepared.frame[prepared.label].to_numpy(dtype=float)[longest]
    top = min(max(10, 2 * seasonality), len(y) // 2 - 1)
    if top < 2 or np.std(y) == 0:
        return [1]
    values = pacf(y, nlags=top, method="ywm")
    bound = 1.96 / math.sqrt(len(y))
    significant = [lag for lag in range(1, top + 1) if abs(values[lag]) > bound]
    ranked = sorted(significant, key=lambda lag: -abs(values[lag]))[:AUTO_MAX_LAGS]
    return sorted({1, *ranked})


def min_points(horizon: int, history: int, folds: int, step: int) -> int:
    """Periods a series needs to be trained and validated on (Azure's rule): the horizon, the
    longest lag or window, one more, and the cross-validation's steps."""
    return horizon + history + 1 + folds * step


def prepare(frame: Any, label: str, time: str, ids: list[str], *, freq: str | None, needed: int,
            short_series: str | None, where: str = "training_data") -> SeriesFrame:
    """The training frame as regular series (see the module)."""
    import numpy as np
    import pandas as pd
    frame = frame.copy()
    frame[RAW_ROW] = np.arange(len(frame))
    frame = with_series_codes(frame, time, ids, where)
    freq = freq or detect_freq(frame, time)
    added, long_enough, short = 0, [], []
    for code, part in frame.groupby(SERIES, sort=True):
        grid = pd.date_range(part[time].iloc[0], part[time].iloc[-1], freq=freq)
        off = ~part[time].isin(grid)
        if off.any():
            raise ConfigError(f"{where}: {series_name(part.iloc[0], ids)} has a time off the {freq!r} grid: "
                              f"{part[time][off].iloc[0]} (give freq= that fits every time, or aggregate the rows)")
        if len(grid) > len(part):
            filled = part.set_index(time).reindex(grid)
            filled.index.name = time
            filled = filled.reset_index()
            for column in [*ids, SERIES]:
                filled[column] = part[column].iloc[0]
            filled[RAW_ROW] = filled[RAW_ROW].fillna(-1).astype(int)
            filled[label] = filled[label].ffill()
            added += len(grid) - len(part)
            part = filled
        (long_enough if len(part) >= needed else short).append(part)
    names = [series_name(p.iloc[0], ids) for p in short]
    dropped, padded = [], []
    if short:
        handling = short_series
        if handling == "auto":
            handling = "drop" if long_enough else "pad"
        if handling is None:
            raise ConfigError(f"{where}: {len(short)} series are shorter than the {needed} periods training and "
                              f"validation need (first: {names[0]}, {len(short[0])} periods); give more history, a "
                              f"shorter forecast_horizon or fewer n_cross_validations, or "
                              f"short_series_handling_configuration='drop' or 'pad'")
        if handling == "drop":
            dropped = names
            if not long_enough:
                raise ConfigError(f"{where}: every series is shorter than the {needed} periods training and "
                                  f"validation need; nothing is left to train on (use 'pad', or give more history)")
        else:
            padded = names
            long_enough += [_pad(p, needed, freq, time, ids, label) for p in short]
    prepared = pd.concat(long_enough, ignore_index=True).sort_values([SERIES, time], kind="stable") \
        .reset_index(drop=True)
    return SeriesFrame(prepared, freq, time, list(ids), label, added, dropped, padded,
                       int(prepared[SERIES].nunique()))


def _pad(part: Any, needed: int, freq: str, time: str, ids: list[str], label: str) -> Any:
    import pandas as pd
    missing = needed - len(part)
    start = pd.date_range(end=part[time].iloc[0], periods=missing + 1, freq=freq)[:-1]
    pad = pd.DataFrame({time: start})
    for column in [*ids, SERIES]:
        pad[column] = part[column].iloc[0]
    pad[label] = 0.0
    pad[RAW_ROW] = -1
    return pd.concat([pad, part], ignore_index=True)


def splits(prepared: SeriesFrame, horizon: int, folds: int, step: int, history: int = 0) -> Iterator[tuple[Any, Any]]:
    """(train rows, validation rows) of the prepared frame per rolling-origin fold, oldest
    origin first; a series too short for a fold (its training part needs ``history`` periods
    and two more) sits that fold out."""
    import numpy as np
    series = list(prepared.positions())
    for k in range(folds):
        train, valid = [], []
        for _, rows in series:
            end = len(rows) - (folds - 1 - k) * step
            start = end - horizon
            if start >= history + 2:
                train.append(rows[:start])
                valid.append(rows[start:end])
        if valid:
            yield np.concatenate(train), np.concatenate(valid)


def fold_count(lengths: list[int], horizon: int, history: int, step: int, given: int | None) -> int:
    """``n_cross_validations`` as given, else up to 3 folds, as many as the longest series holds."""
    if given is not None:
        return given
    longest = max(lengths)
    for folds in range(DEFAULT_FOLDS, 0, -1):
        if longest >= min_points(horizon, history, folds, step):
            return folds
    return 1
