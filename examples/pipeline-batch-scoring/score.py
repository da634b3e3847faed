"""Score one batch of rows with the registered model; write the predictions as CSV."""

import argparse
import os
import pickle

import pandas as pd

from runyard import Model, Run

parser = argparse.ArgumentParser()
parser.add_argument("--batch", required=True, help="the batch dataset's files (a folder or one CSV)")
parser.add_argument("--model", required=True, help="the model's id, NAME:VERSION")
parser.add_argument("--out", required=True)
args = parser.parse_args()

run = Run.get_context()
model = Model(run.experiment.workspace, id=args.model)
path = model.download(target_dir=os.path.join(os.getcwd(), "model"), exist_ok=True)
with open(path, "rb") as fh:
    regressor = pickle.load(fh)
files = [os.path.join(args.batch, f) for f in sorted(os.listdir(args.batch))] if os.path.isdir(args.batch) \
    else [args.batch]
rows = pd.concat([pd.read_csv(f) for f in files if f.endswith(".csv")], ignore_index=True)
scored = rows.assign(prediction=regressor.predict(rows[regressor.feature_names_in_]))
scored.to_csv(os.path.join(args.out, "scores.csv"), index=False)
run.log("rows_scored", len(scored))
run.log("model_version", model.version)
print(f"scored {len(scored)} rows with {model.id}")
