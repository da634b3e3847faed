"""statsforecast's AutoETS on the series of a forecasting benchmark, for bench_forecasting.py
(run with .peers/statsforecast-venv).

    python statsforecast_peer.py TRAIN.parquet HORIZON SEASON FREQ

TRAIN holds unique_id, ds, y. Prints one JSON line: the wall clock of the forecast (import
excluded) and each series' forecasts, {unique_id: [h values]}.
"""

import json
import sys
import time

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

train_path, horizon, season, freq = sys.argv[1:5]
train = pd.read_parquet(train_path)
started = time.perf_counter()
forecaster = StatsForecast(models=[AutoETS(season_length=int(season))], freq=freq, n_jobs=1)
forecast = forecaster.forecast(df=train, h=int(horizon))
wall = time.perf_counter() - started
out = {str(k): part["AutoETS"].tolist() for k, part in forecast.groupby("unique_id", observed=True)}
print(json.dumps({"wall_s": wall, "forecasts": out}))
