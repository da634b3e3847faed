#!/usr/bin/env python
"""AutoML forecasting: MASE on held-out periods against seasonal naive and statsforecast's AutoETS.

Eight sets of series that ship offline (statsforecast's AirPassengers, statsmodels' CO2,
El Niño, electrical equipment orders, US macro series, sunspots and Nile flows, and
statsforecast's generated daily series). Each series' last ``h`` periods are held out; every
system sees the same history:

  runyard         AutoMLConfig(task='forecasting', forecast_horizon=h, experiment_timeout_minutes=budget,
                  max_concurrent_iterations=2), the rest Azure's defaults; the best model's
                  forecast of the held-out periods.
  seasonal naive  each series' last season repeated (computed here: the baseline, not a peer).
  AutoETS         statsforecast's, per series, in its own venv (peers/statsforecast_peer.py,
                  .peers/statsforecast-venv; --no-peer or no venv: NOT MEASURED).

MASE: the mean absolute error over the held-out periods divided by the in-sample mean absolute
error of the seasonal naive forecast (season 1 for yearly data), per series, averaged per
dataset. Goals (the issue's): runyard's MASE below seasonal naive's, and within 5% of
AutoETS's (the geometric mean over the datasets of runyard / AutoETS at most 1.05).
--quick: two datasets, a 20 s budget.

    python benchmarks/bench_forecasting.py [--budget 60] [--datasets a,b]
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PEER_SCRIPT = c.BENCH_DIR / "peers" / "statsforecast_peer.py"
PEER_PYTHON = Path(os.environ.get("RUNYARD_BENCH_STATSFORECAST_PYTHON")
                   or c.BENCH_DIR / ".peers" / "statsforecast-venv" / "bin" / "python")
ETS_FACTOR = 1.05


def datasets() -> dict[str, Any]:
    """name -> (frequency, season, horizon, loader of a unique_id / ds / y frame), all offline."""
    import pandas as pd

    def one(name: str, times: Any, values: Any) -> Any:
        return pd.DataFrame({"unique_id": name, "ds": pd.DatetimeIndex(times), "y": [float(v) for v in values]})

    def air():
        from statsforecast.utils import AirPassengersDF
        return AirPassengersDF.assign(unique_id="air")[["unique_id", "ds", "y"]]

    def co2():
        import statsmodels.api as sm
        weekly = sm.datasets.co2.load_pandas().data["co2"].interpolate()
        monthly = weekly.resample("MS").mean().dropna()
        return one("co2", monthly.index, monthly.to_numpy())

    def elnino():
        import statsmodels.api as sm
        data = sm.datasets.elnino.load_pandas().data
        values = data.drop(columns=["YEAR"]).to_numpy().reshape(-1)
        return one("elnino", pd.date_range(f"{int(data['YEAR'].iloc[0])}-01-01", periods=len(values), freq="MS"),
                   values)

    def elec_equip():
        from statsmodels.datasets import elec_equip as e
        data = e.load().data
        return one("elec_equip", pd.DatetimeIndex(data.index), data.iloc[:, 0].to_numpy())

    def macro():
        import statsmodels.api as sm
        data = sm.datasets.macrodata.load_pandas().data
        times = pd.date_range("1959-01-01", periods=len(data), freq="QS-JAN")
        return pd.concat([one(name, times, data[name]) for name in
                          ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "m1")], ignore_index=True)

    def sunspots():
        import statsmodels.api as sm
        data = sm.datasets.sunspots.load_pandas().data
        return one("sunspots", pd.date_range("1700-01-01", periods=len(data), freq="YS"), data["SUNACTIVITY"])

    def nile():
        import statsmodels.api as sm
        data = sm.datasets.nile.load_pandas().data
        return one("nile", pd.date_range("1871-01-01", periods=len(data), freq="YS"), data["volume"])

    def daily():
        from statsforecast.utils import generate_series
        frame = generate_series(n_series=8, freq="D", min_length=200, max_length=400, seed=0)
        return frame.assign(unique_id="s" + frame["unique_id"].astype(str))[["unique_id", "ds", "y"]]

    return {"air_passengers": ("ME", 12, 12, air), "co2": ("MS", 12, 12, co2), "elnino": ("MS", 12, 12, elnino),
            "elec_equip": ("MS", 12, 12, elec_equip), "macro": ("QS-JAN", 4, 8, macro),
            "sunspots": ("YS", 1, 10, sunspots), "nile": ("YS", 1, 10, nile), "daily": ("D", 7, 14, daily)}


def split(frame: Any, horizon: int) -> tuple[Any, Any]:
    frame = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    position = frame.groupby("unique_id", observed=True).cumcount(ascending=False)
    return frame[position >= horizon].reset_index(drop=True), frame[position < horizon].reset_index(drop=True)


def mase(train: Any, test: Any, forecast: Any, season: int) -> float:
    """The mean over series of MASE (in-sample seasonal naive scale)."""
    import numpy as np
    values = []
    test = test.assign(forecast=np.asarray(forecast, dtype=float))
    for key, part in test.groupby("unique_id", observed=True):
        history = train.loc[train["unique_id"] == key, "y"].to_numpy(dtype=float)
        scale = np.mean(np.abs(history[season:] - history[:-season]))
        values.append(float(np.mean(np.abs(part["y"].to_numpy() - part["forecast"].to_numpy())) / scale))
    return statistics.fmean(values)


def seasonal_naive(train: Any, test: Any, season: int) -> Any:
    import numpy as np
    out = np.empty(len(test))
    for key, part in test.groupby("unique_id", observed=True):
        history = train.loc[train["unique_id"] == key, "y"].to_numpy(dtype=float)
        steps = np.arange(len(part))
        out[part.index] = history[len(history) - season + steps % season]
    return out


def run_runyard(ws, name: str, freq: str, horizon: int, train: Any, test: Any, budget: float) -> dict[str, Any]:
    from runyard import AutoMLConfig, Experiment, ForecastingParameters
    multi = train["unique_id"].nunique() > 1
    parameters = ForecastingParameters(time_column_name="ds", forecast_horizon=horizon,  # the frequency detected
                                       time_series_id_column_names=["unique_id"] if multi else None)
    data = train.assign(unique_id=train["unique_id"].astype(str)) if multi else train.drop(columns=["unique_id"])
    config = AutoMLConfig(task="forecasting", training_data=data, label_column_name="y",
                          forecasting_parameters=parameters, experiment_timeout_minutes=budget / 60,
                          max_concurrent_iterations=2)
    started = time.perf_counter()
    run = Experiment(ws, f"bench-{name}").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    wall = time.perf_counter() - started
    if details["status"] != "Completed":
        raise c.BrokenRun(f"AutoML run {run.id} on {name} ended {details['status']}: {details.get('error')}")
    best, model = run.get_output()
    future = test.drop(columns=["y"])
    future = future.assign(unique_id=future["unique_id"].astype(str)) if multi else future.drop(columns=["unique_id"])
    return {"wall_s": wall, "forecast": model.forecast(future)[0].tolist(), "iterations": len(run.get_children()),
            "best": best.get_properties().get("run_algorithm")}


def run_ets(work: Path, name: str, freq: str, season: int, horizon: int, train: Any, test: Any) -> dict[str, Any]:
    path = work / f"{name}-train.parquet"
    train.assign(unique_id=train["unique_id"].astype(str)).to_parquet(path)
    done = subprocess.run([str(PEER_PYTHON), str(PEER_SCRIPT), str(path), str(horizon), str(season), freq],
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise c.BrokenRun(f"statsforecast peer failed on {name}: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    forecast = [None] * len(test)
    for key, part in test.groupby("unique_id", observed=True):
        for row, value in zip(part.index, result["forecasts"][str(key)]):
            forecast[row] = value
    return {"wall_s": result["wall_s"], "forecast": forecast}


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, default=None, help="seconds per runyard run (default 60; --quick: 20)")
    p.add_argument("--datasets", default=None, help="which datasets (default all 8; --quick: air_passengers,macro)")
    args = p.parse_args()
    budget = args.budget or (20.0 if args.quick else 60.0)
    table = datasets()
    names = (args.datasets or ("air_passengers,macro" if args.quick else ",".join(table))).split(",")
    unknown = [n for n in names if n not in table]
    if unknown:
        p.error(f"unknown dataset {unknown[0]!r}; valid: {', '.join(table)}")
    peer = not args.no_peer and PEER_PYTHON.is_file()
    if not args.no_peer and not peer:
        print(f"AutoETS: no peer venv at {PEER_PYTHON} (run benchmarks/setup_peers.sh)")
    cases = []
    with c.scratch(args.workdir, "runyard-bench-forecasting-") as work:
        from runyard import Workspace
        ws = Workspace.create(work / "ws" / ".runyard")
        print(c.load_note("start"))
        for name in names:
            freq, season, horizon, load = table[name]
            train, test = split(load(), horizon)
            print(f"{name}: {train['unique_id'].nunique()} series, {len(train)} periods, horizon {horizon}, "
                  f"{budget:g} s ...", flush=True)
            case = {"dataset": name, "series": int(train["unique_id"].nunique()), "horizon": horizon,
                    "season": season, "budget_s": budget,
                    "seasonal_naive": mase(train, test, seasonal_naive(train, test, season), season)}
            result = run_runyard(ws, name, freq, horizon, train, test, budget)
            case["runyard"] = {**result, "mase": mase(train, test, result.pop("forecast"), season)}
            if peer:
                ets = run_ets(work, name, freq, season, horizon, train, test)
                case["autoets"] = {"wall_s": ets["wall_s"], "mase": mase(train, test, ets["forecast"], season)}
            cases.append(case)
        print(c.load_note("end"))
    rows = [[k["dataset"], k["series"], k["horizon"], f"{k['seasonal_naive']:.3f}", f"{k['runyard']['mase']:.3f}",
             "-" if "autoets" not in k else f"{k['autoets']['mase']:.3f}", c.fmt_s(k["runyard"]["wall_s"]),
             "-" if "autoets" not in k else c.fmt_s(k["autoets"]["wall_s"]), k["runyard"]["iterations"],
             k["runyard"]["best"]] for k in cases]
    print(c.table(["dataset", "series", "h", "SNaive MASE", "runyard MASE", "AutoETS MASE", "runyard wall",
                   "AutoETS wall", "iterations", "best"], rows))
    goals = []
    ratio = _geomean([k["runyard"]["mase"] / k["seasonal_naive"] for k in cases])
    goals.append(("MASE below seasonal naive's (geometric mean of runyard / SNaive)", f"{ratio:.3f}", "< 1",
                  ratio < 1))
    if peer:
        ets = _geomean([k["runyard"]["mase"] / k["autoets"]["mase"] for k in cases])
        goals.append(("MASE within 5% of AutoETS (geometric mean of runyard / AutoETS)", f"{ets:.3f}",
                      f"<= {ETS_FACTOR}", ets <= ETS_FACTOR))
    else:
        goals.append(("MASE within 5% of AutoETS", "-", "", None))
    print("\nGoals")
    verdicts = {}
    for label, value, goal, met in goals:
        print(c.goal_line(label, value, goal, met))
        verdicts[label] = c.verdict(met)
    c.finish({"bench": "forecasting", "budget_s": budget, "cases": cases, "verdicts": verdicts}, args.json)


def _geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
