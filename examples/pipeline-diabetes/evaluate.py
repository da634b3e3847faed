"""Step 3: score the trained model on the held-out test data."""

import argparse
import os
import pickle

import numpy as np
from sklearn.metrics import mean_squared_error, r2_score

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="folder holding test.csv (prep's output)")
parser.add_argument("--model", required=True, help="folder holding model.pkl (train's output)")
args = parser.parse_args()

run = Run.get_context()
test = np.loadtxt(os.path.join(args.data, "test.csv"), delimiter=",")
with open(os.path.join(args.model, "model.pkl"), "rb") as fh:
    model = pickle.load(fh)
predicted = model.predict(test[:, :-1])
run.log("test_r2", r2_score(test[:, -1], predicted))
run.log("test_mse", mean_squared_error(test[:, -1], predicted))
print(f"evaluate: r2 {r2_score(test[:, -1], predicted):.3f}")
