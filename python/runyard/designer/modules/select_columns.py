"""Select Columns in Dataset: keep the columns named, in that order."""

import argparse

from _frames import columns, read_frame, write_frame

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--columns", required=True, help="comma-separated")
parser.add_argument("--output", required=True)
args = parser.parse_args()
frame = read_frame(args.input)
write_frame(frame[columns(args.columns, frame)], args.output)
