"""Enter Data Manually: a table typed in as CSV."""

import argparse

import pandas as pd

from _frames import write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="a CSV file")
parser.add_argument("--has_header", default="true")
parser.add_argument("--output", required=True)
args = parser.parse_args()
header = 0 if args.has_header.lower() in ("true", "1", "yes") else None
frame = pd.read_csv(args.data, header=header)
if header is None:
    frame.columns = [f"Col{i + 1}" for i in range(len(frame.columns))]
write_frame(frame, args.output)
