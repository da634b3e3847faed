"""Train Model: fit a scikit-learn learner to the label column; text columns are one-hot
encoded and missing numbers imputed inside the model, so Score Model takes the same raw table."""

import argparse
import importlib
import json

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from _frames import columns, read_frame, write_model

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--label", required=True)
parser.add_argument("--learner", required=True)
parser.add_argument("--learner_class", required=True, help="the estimator's import path")
parser.add_argument("--task", required=True, choices=("regression", "classification"))
parser.add_argument("--learner_params", default="{}")
parser.add_argument("--model", required=True)
args = parser.parse_args()
frame = read_frame(args.input)
label = columns(args.label, frame, "label")[0]
try:
    params = json.loads(args.learner_params or "{}")
except ValueError as e:
    raise SystemExit(f"learner_params: not JSON: {e}")
if not isinstance(params, dict):
    raise SystemExit("learner_params: expected a JSON object of parameter -> value")
module, _, name = args.learner_class.rpartition(".")
try:
    learner = getattr(importlib.import_module(module), name)(**params)
except TypeError as e:
    raise SystemExit(f"learner_params: {args.learner} does not take them: {e}")
rows = frame.dropna(subset=[label])
features = rows.drop(columns=[label])
text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
numbers = [c for c in features.columns if c not in text]
prepare = ColumnTransformer([
    ("numbers", SimpleImputer(strategy="mean"), numbers),
    ("text", Pipeline([("fill", SimpleImputer(strategy="most_frequent")),
                       ("one_hot", OneHotEncoder(handle_unknown="ignore"))]), text),
])
model = Pipeline([("prepare", prepare), ("learner", learner)]).fit(features, rows[label])
write_model(model, {"learner": args.learner, "task": args.task, "label": label, "features": list(features.columns),
                    "rows": len(rows), "params": params}, args.model)
print(f"trained {args.learner} on {len(rows)} rows, {len(features.columns)} features, label {label!r}")
