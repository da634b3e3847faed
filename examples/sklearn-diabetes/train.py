"""Ridge regression on scikit-learn's diabetes data: one model per alpha.

Runs as a runyard job (metrics go to the run) or as plain `python train.py`
(an offline run prints them).
"""

import argparse
import os

import joblib
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--alpha-start", type=float, default=0.0)
parser.add_argument("--alpha-stop", type=float, default=1.0)
parser.add_argument("--alpha-step", type=float, default=0.1)
parser.add_argument("--test-size", type=float, default=0.2)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

run = Run.get_context()
X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=args.seed)
run.log("data_rows", len(X))

os.makedirs("outputs", exist_ok=True)
alphas = np.arange(args.alpha_start, args.alpha_stop, args.alpha_step)
errors = []
for alpha in alphas:
    model = Ridge(alpha=alpha).fit(X_train, y_train)
    mse = mean_squared_error(y_test, model.predict(X_test))
    run.log("alpha", float(alpha))
    run.log("mse", float(mse))
    errors.append(mse)
    model_file = f"ridge_{alpha:.2f}.pkl"
    joblib.dump(model, os.path.join("outputs", model_file))
    print(f"alpha={alpha:.2f}  mse={mse:.1f}  saved outputs/{model_file}")

best = int(np.argmin(errors))
run.tag("best_alpha", f"{alphas[best]:.2f}")
print(f"best alpha {alphas[best]:.2f} (mse {errors[best]:.1f})")
