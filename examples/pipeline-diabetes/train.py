"""Step 2: fit a ridge regression on the prepared training data; the model is this step's output."""

import argparse
import os
import pickle

import numpy as np
from sklearn.linear_model import Ridge

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="folder holding train.csv (prep's output)")
parser.add_argument("--alpha", type=float, default=1.0)
parser.add_argument("--model", required=True, help="folder to write model.pkl to")
args = parser.parse_args()

run = Run.get_context()
train = np.loadtxt(os.path.join(args.data, "train.csv"), delimiter=",")
model = Ridge(alpha=args.alpha).fit(train[:, :-1], train[:, -1])
with open(os.path.join(args.model, "model.pkl"), "wb") as fh:
    pickle.dump(model, fh)
run.log("alpha", args.alpha)
run.log("train_r2", model.score(train[:, :-1], train[:, -1]))
