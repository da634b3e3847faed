"""AutoML forecasting's parts on hand-made series: the frequency, gaps, short series and
rolling origins of ``series``, the features of ``time_features``, the checks of
``ForecastingParameters``, and the forecasters' recursion and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runyard.automl import forecasters as fc
from runyard.automl import series as ts
from runyard.automl.forecasting import ForecastingParameters, resolve
from runyard.automl.time_features import TimeFeatures
from runyard.errors import ConfigError


def _frame(lengths=(30, 30), freq="D", start="2024-01-01") -> pd.DataFrame:
    parts = []
    for index, length in enumerate(lengths):
        times = pd.date_range(start, periods=length, freq=freq)
        parts.append(pd.DataFrame({"t": times, "id": f"s{index}", "y": np.arange(length, dtype=float) + 100 * index}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("freq", ["D", "h", "W-SUN", "MS", "QS-JAN", "B"])
def test_the_frequency_is_detected(freq):
    frame = ts.with_series_codes(_frame(freq=freq), "t", ["id"])
    detected = ts.detect_freq(frame, "t")  # the same grid (pandas may name quarters by another month)
    assert list(pd.date_range("2024-01-01", periods=9, freq=detected)) == \
        list(pd.date_range("2024-01-01", periods=9, freq=freq))


def test_a_frequency_is_found_through_gaps_and_otherwise_asked_for():
    frame = _frame().drop(index=[3, 7, 40]).reset_index(drop=True)
    assert ts.detect_freq(ts.with_series_codes(frame, "t", ["id"]), "t") == "D"
    two = _frame(lengths=(2, 2))
    with pytest.raises(ConfigError, match=r"give ForecastingParameters\(freq=...\)"):
        ts.detect_freq(ts.with_series_codes(two.iloc[[0, 2]], "t", ["id"]), "t")


def test_gaps_are_filled_and_traced_to_the_training_rows():
    frame = _frame().drop(index=[5, 6]).reset_index(drop=True)
    prepared = ts.prepare(frame, "y", "t", ["id"], freq=None, needed=10, short_series="auto")
    assert prepared.added == 2 and len(prepared.frame) == 60
    filled = prepared.frame[prepared.frame[ts.RAW_ROW] < 0]
    assert list(filled["y"]) == [4.0, 4.0]  # the target carried forward
    assert list(filled["id"]) == ["s0", "s0"]
    kept = prepared.frame[prepared.frame[ts.RAW_ROW] >= 0]
    assert (frame.loc[kept[ts.RAW_ROW], "y"].to_numpy() == kept["y"].to_numpy()).all()


def test_short_series_are_dropped_padded_or_refused():
    frame = _frame(lengths=(30, 8))
    dropped = ts.prepare(frame, "y", "t", ["id"], freq="D", needed=20, short_series="auto")
    assert dropped.dropped == ["id='s1'"] and dropped.series == 1
    padded = ts.prepare(frame, "y", "t", ["id"], freq="D", needed=20, short_series="pad")
    s1 = padded.frame[padded.frame["id"] == "s1"]
    assert len(s1) == 20 and (s1["y"].iloc[:12] == 0).all() and (s1[ts.RAW_ROW].iloc[:12] == -1).all()
    assert s1["t"].iloc[11] == pd.Timestamp("2023-12-31")  # padded backwards on the grid
    with pytest.raises(ConfigError, match="1 series are shorter than the 20 periods"):
        ts.prepare(frame, "y", "t", ["id"], freq="D", needed=20, short_series=None)
    all_short = ts.prepare(_frame(lengths=(8, 9)), "y", "t", ["id"], freq="D", needed=20, short_series="auto")
    assert all_short.padded == ["id='s0'", "id='s1'"]  # 'auto' pads when no series is long enough
    with pytest.raises(ConfigError, match="every series is shorter"):
        ts.prepare(_frame(lengths=(8, 9)), "y", "t", ["id"], freq="D", needed=20, short_series="drop")


def test_times_off_the_grid_and_duplicates_are_refused():
    frame = _frame()
    frame.loc[4, "t"] = pd.Timestamp("2024-01-05 12:00")
    with pytest.raises(ConfigError, match="id='s0' has a time off the 'D' grid: 2024-01-05 12:00"):
        ts.prepare(frame, "y", "t", ["id"], freq="D", needed=5, short_series="auto")
    with pytest.raises(ConfigError, match="id='s1' has more than one row at 2024-01-01"):
        ts.with_series_codes(pd.concat([_frame(), _frame().iloc[[30]]]), "t", ["id"])


def test_rolling_origins_walk_back_a_step_per_fold():
    prepared = ts.prepare(_frame(lengths=(30, 20)), "y", "t", ["id"], freq="D", needed=5, short_series="auto")
    folds = list(ts.splits(prepared, horizon=4, folds=3, step=2))
    assert len(folds) == 3
    y = prepared.frame["y"].to_numpy()
    # the newest fold validates each series' last 4 periods, the oldest ends 4 periods before its end
    newest_train, newest_valid = folds[2]
    assert list(y[newest_valid]) == [26, 27, 28, 29, 116, 117, 118, 119]
    assert list(y[folds[0][1]]) == [22, 23, 24, 25, 112, 113, 114, 115]
    for train, valid in folds:  # never trained on what it validates, nor after it
        for series in (0, 100):
            assert y[train][y[train] >= series].max() < y[valid][y[valid] >= series].min() or series == 0
        assert not set(train) & set(valid)


def test_seasonality_is_the_frequencys_where_the_data_shows_it():
    days = pd.date_range("2024-01-01", periods=140, freq="D")
    rng = np.random.default_rng(0)
    weekly = pd.DataFrame({"t": days, "y": np.tile([1, 2, 3, 4, 9, 12, 5], 20) + rng.normal(0, 0.3, 140)})
    noise = pd.DataFrame({"t": days, "y": rng.normal(0, 1, 140).cumsum()})
    for frame, expected in ((weekly, 7), (noise, 1)):
        prepared = ts.prepare(frame, "y", "t", [], freq=None, needed=5, short_series="auto")
        assert ts.detect_seasonality(prepared) == expected
    assert ts.season_of("MS") == 12 and ts.season_of("h") == 24 and ts.season_of("2D") == 1


def test_time_features_count_holidays_per_period():
    features = TimeFeatures("D", [1, 7], 3, "US", []).fit(pd.date_range("2024-12-20", periods=10))
    values = features.of_times(pd.date_range("2024-12-24", periods=3))
    assert list(values["_automl_holidays"]) == [0, 1, 0]  # Christmas Day
    assert list(values["_automl_time_index"]) == [4, 5, 6]
    monthly = TimeFeatures("MS", None, None, "US", []).fit(pd.date_range("2024-01-01", periods=12, freq="MS"))
    counts = monthly.of_times(pd.date_range("2024-01-01", periods=12, freq="MS"))["_automl_holidays"]
    assert counts[0] == 2 and counts.sum() >= 10  # New Year's Day and MLK Day in January
    assert "_automl_month" in monthly.names() and "_automl_dayofweek" not in monthly.names()


def test_history_features_read_only_the_past():
    features = TimeFeatures("D", [1, 3], 2, None, ["x"]).fit(pd.date_range("2024-01-01", periods=5))
    y = np.array([[10.0, 11, 12, 13, 14]])
    x = {"x": np.array([[1.0, 2, 3, 4, 5]])}
    out = features.of_history(y, x, np.array([0]), np.array([4]))
    assert out["_automl_target_lag1"][0] == 13 and out["_automl_target_lag3"][0] == 11
    assert out["_automl_target_mean2"][0] == 12.5 and out["_automl_target_max2"][0] == 13
    assert out["_automl_x_lag1"][0] == 4


def test_parameters_are_checked_in_azure_words():
    assert ForecastingParameters(time_column_name="t", target_lags=[7, 1, 7]).target_lags == [1, 7]
    assert ForecastingParameters(time_column_name="t", freq="M").freq in ("ME", "M")
    for kwargs, message in [
        ({}, "time_column_name must name the column"),
        ({"time_column_name": "t", "forecast_horizon": 0}, "forecast_horizon must be a whole number from 1"),
        ({"time_column_name": "t", "target_lags": "many"}, "target_lags must be a lag, a list of lags"),
        ({"time_column_name": "t", "feature_lags": "auto"}, "give target_lags too"),
        ({"time_column_name": "t", "target_rolling_window_size": 1}, "from 2"),
        ({"time_column_name": "t", "time_series_id_column_names": ["t"]}, "cannot also name the series"),
        ({"time_column_name": "t", "short_series_handling_configuration": "stretch"}, "'auto', 'pad', 'drop' or None"),
        ({"time_column_name": "t", "use_stl": "season"}, "unexpected argument: use_stl"),
    ]:
        with pytest.raises(ConfigError, match=message):
            ForecastingParameters(**kwargs)


def test_resolve_fits_the_folds_to_the_data_and_names_missing_columns():
    frame = _frame(lengths=(40, 40))
    parameters = ForecastingParameters(time_column_name="t", forecast_horizon=10, time_series_id_column_names="id")
    settings = resolve(parameters, frame, "y", None)
    assert settings["folds"] == 2  # 3 folds of 10 need 41 periods; 2 fit in 40
    assert settings["freq"] == "D" and settings["series"] == 2
    with pytest.raises(ConfigError, match="'store' is not a column of training_data"):
        resolve(ForecastingParameters(time_column_name="t", time_series_id_column_names="store"), frame, "y", None)


def test_a_lag_model_forecasts_recursively_and_names_what_it_lacks():
    frame = _frame(lengths=(40, 40))
    settings = resolve(ForecastingParameters(time_column_name="t", forecast_horizon=5, time_series_id_column_names="id",
                                             target_lags=[1]), frame, "y", 1)
    model = fc.build("ElasticNet", {"alpha": 1e-6, "l1_ratio": 0.0}, settings).fit(fc.prepare(frame, "y", settings))
    future = pd.DataFrame({"t": pd.date_range("2024-02-10", periods=5), "id": "s1"})
    forecast, table = model.forecast(future)
    # a straight line, continued a step at a time from its own forecasts
    assert np.allclose(forecast, [140, 141, 142, 143, 144], atol=0.5)
    assert list(table.columns) == ["t", "id", fc.TARGET_COLUMN]
    with pytest.raises(ConfigError, match="lacks 2024-02-11 00:00:00: this model forecasts a period at a time"):
        model.forecast(future.drop(index=[1]))
    with pytest.raises(ConfigError, match="id='s9' is not a series of the training data"):
        model.forecast(future.assign(id="s9"))
    with pytest.raises(ConfigError, match="lacks column 'id'"):
        model.forecast(future.drop(columns=["id"]))
    statistical = fc.build("Naive", {}, settings).fit(fc.prepare(frame, "y", settings))
    assert list(statistical.forecast(future.iloc[[4, 0]])[0]) == [139, 139]  # any periods, in the rows' order
