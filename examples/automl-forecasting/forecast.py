"""AutoML forecasting: 14 days of sales for five stores at once.

    python make_data.py && python forecast.py

The statistical models (seasonal naive, exponential smoothing, ARIMA) fit each store on its
own; the regression models learn from every store together, from the target's lags, the
calendar, US holidays and the planned promotions. The run takes at most 3 minutes.
"""

import pandas as pd

from runyard import AutoMLConfig, Experiment, ForecastingParameters, Workspace

ws = Workspace.create(".runyard")
history = pd.read_csv("data/sales.csv")
parameters = ForecastingParameters(time_column_name="date", forecast_horizon=14, time_series_id_column_names=["store"],
                                   target_lags=[1, 7, 14], target_rolling_window_size=7,
                                   country_or_region_for_holidays="US")
config = AutoMLConfig(task="forecasting", primary_metric="normalized_root_mean_squared_error",
                      training_data=history, label_column_name="sales", forecasting_parameters=parameters,
                      n_cross_validations=3, experiment_timeout_minutes=3, max_concurrent_iterations=2)
run = Experiment(ws, "store-forecast").submit(config)
print(f"AutoML run {run.id}: follow it with `runyard run logs -f {run.id}`")
run.wait_for_completion()

run.get_guardrails()
for row in run.get_leaderboard()[:5]:
    print(f"iteration {row['iteration']:>3}  {row['algorithm']:<22} NRMSE {row['score']:.4f}")
best_run, model = run.get_output()
print("best:", best_run.get_properties()["run_algorithm"])

future = pd.read_csv("data/future.csv")
predicted, table = model.forecast(future.drop(columns=["sales"]))
table["actual"] = future["sales"].to_numpy()
error = (table["_automl_target_col"] - table["actual"]).abs().mean()
print(table.head(14).to_string(index=False))
print(f"mean absolute error over 14 days x 5 stores: {error:.1f} (mean sales {table['actual'].mean():.0f})")
