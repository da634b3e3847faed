"""Logistic regression on scikit-learn's iris data; the SKLearn estimator's example.

    from runyard import Experiment, SKLearn, Workspace
    est = SKLearn("examples/sklearn-iris", entry_script="train.py", script_params={"--C": 1.0})
    run = Experiment(Workspace.create(".runyard"), "iris").submit(est)
"""

import argparse
import os

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--max-iter", type=int, default=500)
args = parser.parse_args()

run = Run.get_context()
X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(X_train, y_train)
accuracy = model.score(X_test, y_test)
run.log("C", args.C)
run.log("accuracy", accuracy)
os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.joblib")
print(f"accuracy {accuracy:.3f}")
