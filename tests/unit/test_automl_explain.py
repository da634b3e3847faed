"""The explanation of forecasting models: permutation importance per raw column on one-period-ahead
forecasts of the training periods (``explain.forecast_importances``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from runyard.automl import forecasters as fc
from runyard.automl.ensemble import VotingEnsemble
from runyard.automl.explain import forecast_importances
from runyard.automl.forecasting import ForecastingParameters, resolve


def _sales(periods: int = 60) -> pd.DataFrame:
    """Two stores whose sales follow the day's price; `noise` is a column nothing depends on."""
    rng = np.random.default_rng(0)
    parts = []
    for store in ("a", "b"):
        price = rng.uniform(1, 10, periods)
        parts.append(pd.DataFrame({"day": pd.date_range("2024-01-01", periods=periods), "store": store,
                                   "price": price, "noise": rng.normal(size=periods),
                                   "sales": 50 - 4 * price + rng.normal(0, 0.1, periods)}))
    return pd.concat(parts, ignore_index=True)


def _fitted(algorithm: str, config: dict, frame: pd.DataFrame, **parameters):
    settings = resolve(ForecastingParameters(time_column_name="day", forecast_horizon=5,
                                             time_series_id_column_names="store", **parameters), frame, "sales", 1)
    prepared = fc.prepare(frame, "sales", settings)
    return fc.build(algorithm, config, settings).fit(prepared), prepared


def test_the_column_that_drives_the_forecasts_comes_first_and_an_unused_one_near_nothing():
    frame = _sales()
    model, prepared = _fitted("ElasticNet", {"alpha": 1e-4, "l1_ratio": 0.0}, frame, target_lags=[1])
    pairs, how = forecast_importances(model, prepared, "normalized_root_mean_squared_error", seconds=60,
                                      y_range=(frame.sales.min(), frame.sales.max()))
    importance = dict(pairs)
    assert pairs[0][0] == "price" and importance["price"] > 0.1
    assert set(importance) == {"price", "noise", "store", "day", "sales (past values)"}
    assert abs(importance["noise"]) < 0.01 and abs(importance["sales (past values)"]) < 0.01
    assert "one-period-ahead forecasts of the training periods" in how and "on 118 periods" in how  # lag 1: 59 each


def test_a_statistical_model_reads_no_column_and_says_so():
    frame = _sales()
    model, prepared = _fitted("ExponentialSmoothing", {}, frame)
    pairs, how = forecast_importances(model, prepared, "r2_score", seconds=60, y_range=(0.0, 50.0))
    assert pairs == [] and how.startswith("not computed: ExponentialSmoothing reads only each series' own past")


def test_an_ensemble_holds_its_statistical_members_at_their_fitted_values():
    frame = _sales()
    lag, prepared = _fitted("ElasticNet", {"alpha": 1e-4, "l1_ratio": 0.0}, frame)
    naive, _ = _fitted("Naive", {}, frame)
    y_range = (frame.sales.min(), frame.sales.max())
    pairs, how = forecast_importances(VotingEnsemble("regression", [lag, naive], [0.5, 0.5]), prepared,
                                      "normalized_mean_absolute_error", seconds=60, y_range=y_range)
    assert pairs[0][0] == "price" and "Naive (reading only the target's past) held at their fitted values" in how
    assert "on 118 periods" in how  # the naive forecast has no first period
    windowed, _ = _fitted("SeasonalAverage", {}, frame)
    pairs, how = forecast_importances(VotingEnsemble("regression", [lag, windowed], [0.5, 0.5]), prepared,
                                      "r2_score", seconds=60, y_range=y_range)
    assert pairs == [] and how == "not computed: SeasonalAverage keeps no fitted values of its training periods"


def test_no_time_for_the_repeats_computes_nothing():
    frame = _sales()
    model, prepared = _fitted("ElasticNet", {"alpha": 1e-4, "l1_ratio": 0.0}, frame)
    pairs, how = forecast_importances(model, prepared, "r2_score", seconds=1e-6, y_range=(0.0, 50.0))
    assert pairs == [] and "over the 0 s left in the budget" in how
