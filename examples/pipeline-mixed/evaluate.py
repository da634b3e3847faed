"""Score the R model's coefficients on the test table; log RMSE and R^2, keep the model."""

import argparse
import glob
import os

import numpy as np
import pandas as pd

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--coefficients", required=True)
parser.add_argument("--test", required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()

coefficients = pd.read_parquet(glob.glob(os.path.join(args.coefficients, "*.parquet"))[0])
test = pd.read_parquet(os.path.join(args.test, "test.parquet"))
weights = dict(zip(coefficients["term"], coefficients["estimate"]))
predicted = weights["(Intercept)"] + sum(test[c] * w for c, w in weights.items() if c != "(Intercept)")
residual = test["target"] - predicted
rmse = float(np.sqrt(np.mean(residual ** 2)))
r2 = float(1 - np.sum(residual ** 2) / np.sum((test["target"] - test["target"].mean()) ** 2))
run = Run.get_context()
run.log("test_rmse", rmse)
run.log("test_r2", r2)
coefficients.to_csv(os.path.join(args.model, "coefficients.csv"), index=False)
print(f"test RMSE {rmse:.2f}, R^2 {r2:.3f}")
