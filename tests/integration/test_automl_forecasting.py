"""AutoML forecasting end to end on the local target: rolling-origin iterations as child runs,
statistical and lag models, a model that forecasts many series from their known future
covariates, the time-series guardrails, and bad series refused before anything is recorded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from runyard import AutoMLConfig, ForecastingParameters
from runyard import status as st
from runyard.errors import ConfigError


def _stores(days: int = 120, stores: int = 3, seed: int = 5) -> pd.DataFrame:
    """Daily sales of a few stores: a weekly season, a trend, and a promotion that lifts sales."""
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(stores):
        dates = pd.date_range("2023-01-02", periods=days, freq="D")
        promo = rng.integers(0, 2, days)
        weekly = np.array([0, 1, 2, 3, 6, 9, 4], dtype=float)[dates.dayofweek]
        sales = 20 + 10 * s + weekly * (1 + s / 2) + 0.05 * np.arange(days) + 4 * promo + rng.normal(0, 0.7, days)
        parts.append(pd.DataFrame({"day": dates, "store": f"store-{s}", "promo": promo, "sales": sales}))
    return pd.concat(parts, ignore_index=True)


def test_forecasting_end_to_end(experiment):
    frame = _stores()
    history, future = frame[frame["day"] < "2023-04-26"], frame[frame["day"] >= "2023-04-26"]
    history = history.drop(index=history.index[[10, 11]])  # two days missing in store-0
    parameters = ForecastingParameters(time_column_name="day", forecast_horizon=7,
                                       time_series_id_column_names=["store"], target_lags=[1, 7],
                                       country_or_region_for_holidays="US")
    config = AutoMLConfig(task="forecasting", training_data=history, label_column_name="sales",
                          forecasting_parameters=parameters, iterations=6, n_cross_validations=2,
                          allowed_models=["SeasonalNaive", "ExponentialSmoothing", "ElasticNet", "LightGBM"])
    run = experiment.submit(config)
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED, details["error"]
    children = {int(c.get_properties()["iteration"]): c for c in run.get_children()}
    assert sorted(children) == list(range(6))
    assert children[5].get_properties()["run_algorithm"] == "VotingEnsemble"
    assert {children[i].get_properties()["run_algorithm"] for i in range(4)} == {
        "SeasonalNaive", "ExponentialSmoothing", "ElasticNet", "LightGBM"}
    assert children[0].get_properties()["folds"] == "2"
    assert "normalized_root_mean_squared_error" in children[0].get_metrics()
    guardrails = {g["friendly_type"]: g for g in run.get_guardrails()["faults"]}
    assert guardrails["Frequency detection"]["result"] == "Passed"
    assert "'D'" in guardrails["Frequency detection"]["friendly_result"]
    assert guardrails["Missing target values"]["result"] == "Done"  # the two missing days
    assert guardrails["Short series handling"]["result"] == "Passed"

    best_run, model = run.get_output()
    X_future = future.drop(columns=["sales"]).head(-1)  # leave one row out: order and subsets are kept
    predicted, table = model.forecast(X_future)
    assert predicted.shape == (len(X_future),) and np.isfinite(predicted).all()
    assert list(table.columns) == ["day", "store", "_automl_target_col"]
    actual = future["sales"].to_numpy()[:-1]
    naive = history.groupby("store")["sales"].last().reindex(X_future["store"]).to_numpy()
    # the weekly pattern and the promotions are learnt: better than repeating the last day
    assert np.abs(predicted - actual).mean() < np.abs(naive - actual).mean()
    # every model of the run forecasts: statistical and lag models alike, from R-like raw frames
    for iteration in range(4):
        _, iteration_model = run.get_output(iteration=iteration)
        assert np.isfinite(iteration_model.forecast(X_future)[0]).all()
    # model_explainability (on by default): per raw column; the promotion's 4 of sales counts
    properties = run.get_properties()
    assert properties["model_explained"] == best_run.id
    assert "one-period-ahead forecasts of the training periods" in properties["explanation"]
    importance = run.get_metrics()["feature_importance"]
    ranked = dict(zip(importance["feature"], importance["importance"]))
    assert set(ranked) == {"promo", "store", "day", "sales (past values)"} and ranked["promo"] > 0.01


def test_forecasting_one_series_and_auto_settings(experiment):
    frame = _stores(days=90, stores=1).drop(columns=["store", "promo"])
    parameters = ForecastingParameters(time_column_name="day", forecast_horizon=5, target_lags="auto",
                                       target_rolling_window_size="auto")
    config = AutoMLConfig(task="forecasting", training_data=frame, label_column_name="sales", iterations=3,
                          forecasting_parameters=parameters, allowed_models=["Naive", "SeasonalNaive", "LightGBM"],
                          enable_voting_ensemble=False)
    run = experiment.submit(config)
    assert run.wait_for_completion()["status"] == st.COMPLETED
    settings = json.loads(run._row["definition"])["settings"]["forecasting"]
    assert settings["seasonality"] == 7 and settings["window"] == 7 and 1 in settings["lags"]
    assert settings["folds"] == 3  # the default, as many as fit, up to 3
    best = run.get_best_child()
    assert best.get_properties()["run_algorithm"] in ("SeasonalNaive", "LightGBM")  # the season beats naive
    _, model = run.get_output()
    future = pd.DataFrame({"day": pd.date_range(frame["day"].max() + pd.Timedelta(days=1), periods=5)})
    assert len(model.forecast(future)[0]) == 5
    with pytest.raises(ConfigError, match="not after the training data's end"):
        model.forecast(frame.drop(columns=["sales"]).tail(2))


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns=["day"]), "'day' is not a column"),
    (lambda f: pd.concat([f, f.head(1)]), "more than one row at 2023-01-02"),
    (lambda f: f.assign(day=f["day"].astype(str).where(f.index != 3, "not a day")), "'not a day', which is not"),
    (lambda f: f.assign(sales=f["store"]), "needs a numeric label"),
])
def test_bad_series_are_refused_before_anything_is_recorded(experiment, change, message):
    frame = change(_stores(days=40))
    parameters = ForecastingParameters(time_column_name="day", forecast_horizon=3, time_series_id_column_names="store")
    config = AutoMLConfig(task="forecasting", training_data=frame, label_column_name="sales",
                          forecasting_parameters=parameters)
    with pytest.raises(ConfigError, match=message):
        experiment.submit(config)
    assert list(experiment.get_runs()) == []


def test_forecasting_settings_refused_in_azure_words():
    frame = _stores(days=40)
    with pytest.raises(ConfigError, match="needs forecasting_parameters"):
        AutoMLConfig(task="forecasting", training_data=frame, label_column_name="sales")
    parameters = ForecastingParameters(time_column_name="day")
    with pytest.raises(ConfigError, match="validation_size is not taken for task='forecasting'"):
        AutoMLConfig(task="forecasting", training_data=frame, label_column_name="sales", validation_size=0.2,
                     forecasting_parameters=parameters)
    with pytest.raises(ConfigError, match="forecasting_parameters are for task='forecasting'"):
        AutoMLConfig(task="regression", training_data=frame, label_column_name="sales",
                     forecasting_parameters=parameters)
    with pytest.raises(ConfigError, match="enable_stack_ensemble is not offered for forecasting"):
        AutoMLConfig(task="forecasting", training_data=frame, label_column_name="sales",
                     forecasting_parameters=parameters, enable_stack_ensemble=True)
    with pytest.raises(ConfigError, match="'Prophet' is not offered"):
        AutoMLConfig(task="forecasting", training_data=frame, label_column_name="sales",
                     forecasting_parameters=parameters, allowed_models=["Prophet"])
    with pytest.raises(ConfigError, match="country_or_region_for_holidays"):
        ForecastingParameters(time_column_name="day", country_or_region_for_holidays="Atlantis")
    with pytest.raises(ConfigError, match="freq must be a pandas frequency"):
        ForecastingParameters(time_column_name="day", freq="fortnightly-ish")


def test_the_forecasting_example_job_file_runs_from_the_command_line(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path
    example = tmp_path / "automl-forecasting"
    source = Path(__file__).resolve().parents[2] / "examples" / "automl-forecasting"
    shutil.copytree(source, example, ignore=shutil.ignore_patterns(".runyard", "data"))
    subprocess.run([sys.executable, "make_data.py"], cwd=example, check=True, capture_output=True)
    text = (example / "forecast.yml").read_text()
    (example / "forecast.yml").write_text(text.replace("max_trials: 40", "max_trials: 4"))  # a short run
    subprocess.run([sys.executable, "-m", "runyard.cli", "init", "."], cwd=example, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "job", "submit", "-f", "forecast.yml", "--json"],
                          cwd=example, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    details = json.loads(done.stdout)
    assert details["status"] == st.COMPLETED and details["runType"] == "automl"
    board = details["leaderboard"]
    assert len(board) == 4 and board[0]["score"] <= board[-1]["score"]  # an error: lower first
    assert "VotingEnsemble" in {r["algorithm"] for r in board}
