"""Evaluate Model: metrics of scored rows, logged to the step's run and written as a table
(regression: MAE, RMSE, R²; classification: accuracy, precision, recall, F1, and AUC for two
classes with probabilities)."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics

from _frames import SCORING_FILE, read_frame, write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()
frame = read_frame(args.input)
scoring = Path(args.input) / SCORING_FILE
if "Scored Labels" not in frame.columns or not scoring.is_file():
    raise SystemExit("Evaluate Model takes the output of Score Model")
meta = json.loads(scoring.read_text())
label, task = meta["label"], meta["task"]
truth, predicted = frame[label], frame["Scored Labels"]
if task == "regression":
    found = {"Mean Absolute Error": metrics.mean_absolute_error(truth, predicted),
             "Root Mean Squared Error": float(np.sqrt(metrics.mean_squared_error(truth, predicted))),
             "Coefficient of Determination": metrics.r2_score(truth, predicted)}
else:
    found = {"Accuracy": metrics.accuracy_score(truth, predicted),
             "Precision": metrics.precision_score(truth, predicted, average="weighted", zero_division=0),
             "Recall": metrics.recall_score(truth, predicted, average="weighted", zero_division=0),
             "F1 Score": metrics.f1_score(truth, predicted, average="weighted", zero_division=0)}
    if "Scored Probabilities" in frame.columns and truth.nunique() == 2:
        positive = sorted(truth.unique())[1]
        found["AUC"] = metrics.roc_auc_score(truth == positive, frame["Scored Probabilities"])

from runyard import Run  # noqa: E402

run = Run.get_context()
for name, value in found.items():
    run.log(name, float(value))
    print(f"{name}: {value:.6g}")
write_frame(pd.DataFrame({"Metric": list(found), "Value": [float(v) for v in found.values()]}), args.output)
