"""Split Data: a fraction of the rows, chosen at random with the seed, in the first output, the
rest in the second (stratified by a column when one is named)."""

import argparse

from sklearn.model_selection import train_test_split

from _frames import columns, read_frame, write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--fraction", type=float, default=0.7)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--stratify_column", default="")
parser.add_argument("--output1", required=True)
parser.add_argument("--output2", required=True)
args = parser.parse_args()
if not 0 < args.fraction < 1:
    raise SystemExit(f"fraction: {args.fraction} is not between 0 and 1")
frame = read_frame(args.input)
stratify = frame[columns(args.stratify_column, frame, "stratify_column")[0]] if args.stratify_column else None
first, second = train_test_split(frame, train_size=args.fraction, random_state=args.seed, stratify=stratify)
write_frame(first.reset_index(drop=True), args.output1)
write_frame(second.reset_index(drop=True), args.output2)
