"""Step 1: split scikit-learn's bundled diabetes data into train and test files."""

import argparse
import os

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True, help="folder to write train.csv and test.csv to")
parser.add_argument("--test-size", type=float, default=0.2)
args = parser.parse_args()

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=0)
np.savetxt(os.path.join(args.out, "train.csv"), np.column_stack([X_train, y_train]), delimiter=",")
np.savetxt(os.path.join(args.out, "test.csv"), np.column_stack([X_test, y_test]), delimiter=",")
print(f"prep: {len(y_train)} training rows, {len(y_test)} test rows -> {args.out}")
