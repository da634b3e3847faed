"""AutoML regression: the sale price of flats from a raw listing export.

    python make_data.py && python automl.py [--minutes 3] [--iterations 1000]

The primary metric is normalized_root_mean_squared_error (Azure's default for regression);
r2_score and the other regression metrics are logged for every iteration too. A fifth of the
flats is held back to check the best model on rows it never saw. Two iterations run at once.
"""

import argparse

import numpy as np
import pandas as pd

from runyard import AutoMLConfig, Experiment, Workspace

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--minutes", type=float, default=3, help="the budget (experiment_timeout_minutes)")
parser.add_argument("--iterations", type=int, default=1000, help="at most this many iterations")
args = parser.parse_args()

ws = Workspace.create(".runyard")
flats = pd.read_csv("data/flats.csv")
test = flats.sample(frac=0.2, random_state=0)
train = flats.drop(index=test.index)
config = AutoMLConfig(task="regression", primary_metric="normalized_root_mean_squared_error", training_data=train,
                      label_column_name="price", experiment_timeout_minutes=args.minutes, iterations=args.iterations,
                      max_concurrent_iterations=2)
run = Experiment(ws, "flat-prices").submit(config)
print(f"AutoML run {run.id}: follow it with `runyard run logs -f {run.id}`")
run.wait_for_completion()

for row in run.get_leaderboard()[:5]:
    print(f"iteration {row['iteration']:>3}  {row['algorithm']:<22} NRMSE {row['score']:.4f}")
best_run, model = run.get_output()
print("best:", best_run.get_properties()["run_algorithm"], "r2", round(best_run.get_metrics()["r2_score"], 4))
predicted = model.predict(test.drop(columns=["price"]))
error = np.abs(predicted - test["price"].to_numpy()) / test["price"].to_numpy()
print(f"held-back flats: median error {np.median(error):.1%}, r2 "
      f"{1 - np.sum((predicted - test['price']) ** 2) / np.sum((test['price'] - test['price'].mean()) ** 2):.4f}")
importance = run.get_metrics().get("feature_importance")
if importance:
    print("most important columns:", importance["feature"][:4])
