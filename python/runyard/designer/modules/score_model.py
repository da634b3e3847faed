"""Score Model: the table with the model's predictions ("Scored Labels"; for a classifier with
probabilities, "Scored Probabilities" of the positive or each class too)."""

import argparse
import json
from pathlib import Path

from _frames import SCORING_FILE, read_frame, read_model, write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--input", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()
model, meta = read_model(args.model)
frame = read_frame(args.input)
missing = [c for c in meta["features"] if c not in frame.columns]
if missing:
    raise SystemExit(f"the table lacks the model's feature {missing[0]!r} (trained on: {', '.join(meta['features'])})")
scored = frame.copy()
scored["Scored Labels"] = model.predict(frame[meta["features"]])
if meta["task"] == "classification" and hasattr(model, "predict_proba"):
    probabilities = model.predict_proba(frame[meta["features"]])
    classes = list(model.classes_)
    if len(classes) == 2:
        scored["Scored Probabilities"] = probabilities[:, 1]
    else:
        for i, name in enumerate(classes):
            scored[f"Scored Probabilities_{name}"] = probabilities[:, i]
write_frame(scored, args.output)
# the label and the task travel beside the table, for Evaluate Model
(Path(args.output) / SCORING_FILE).write_text(json.dumps({"label": meta["label"], "task": meta["task"]}))
