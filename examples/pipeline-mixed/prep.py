"""Split scikit-learn's diabetes data (bundled, no download) into train and test tables."""

import argparse
import os

from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--train", required=True)
parser.add_argument("--test", required=True)
parser.add_argument("--test-size", type=float, default=0.25)
args = parser.parse_args()

frame = load_diabetes(as_frame=True).frame  # ten features and "target"
train, test = train_test_split(frame, test_size=args.test_size, random_state=0)
train.to_parquet(os.path.join(args.train, "train.parquet"), index=False)
test.to_parquet(os.path.join(args.test, "test.parquet"), index=False)
print(f"{len(train)} training rows, {len(test)} test rows")
