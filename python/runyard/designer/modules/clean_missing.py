"""Clean Missing Data: fill the missing values of the columns named (all when none) with their
mean, median, most frequent value or a constant, or drop the rows that have one."""

import argparse

import pandas as pd

from _frames import columns, read_frame, write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--columns", default="")
parser.add_argument("--mode", default="mean", choices=("mean", "median", "most_frequent", "constant", "remove_row"))
parser.add_argument("--value", default=None)
parser.add_argument("--output", required=True)
args = parser.parse_args()
frame = read_frame(args.input)
names = columns(args.columns, frame)
if args.mode == "remove_row":
    frame = frame.dropna(subset=names).reset_index(drop=True)
elif args.mode == "constant":
    if args.value is None:
        raise SystemExit("mode 'constant' needs a value")
    for name in names:
        value = pd.to_numeric(args.value) if pd.api.types.is_numeric_dtype(frame[name]) else args.value
        frame[name] = frame[name].fillna(value)
else:
    for name in names:
        numeric = pd.api.types.is_numeric_dtype(frame[name])
        if args.mode == "most_frequent" or not numeric:  # text columns take their most frequent value
            modes = frame[name].mode(dropna=True)
            fill = modes.iloc[0] if len(modes) else None
        else:
            fill = frame[name].mean() if args.mode == "mean" else frame[name].median()
        if fill is not None:
            frame[name] = frame[name].fillna(fill)
write_frame(frame, args.output)
