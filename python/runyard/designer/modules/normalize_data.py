"""Normalize Data: rescale the numeric columns named (all numeric ones when none) by z-score or
to [0, 1]."""

import argparse

import pandas as pd

from _frames import columns, read_frame, write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--columns", default="")
parser.add_argument("--method", default="zscore", choices=("zscore", "minmax"))
parser.add_argument("--output", required=True)
args = parser.parse_args()
frame = read_frame(args.input)
named = bool(args.columns.strip())
for name in columns(args.columns, frame):
    if not pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name]):
        if named:
            raise SystemExit(f"columns: {name!r} is not numeric")
        continue
    values = frame[name].astype(float)
    if args.method == "zscore":
        spread = values.std()
        frame[name] = (values - values.mean()) / (spread if spread else 1.0)
    else:
        low, high = values.min(), values.max()
        frame[name] = (values - low) / ((high - low) if high != low else 1.0)
write_frame(frame, args.output)
