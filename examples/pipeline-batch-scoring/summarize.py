"""Summarize a batch's predictions: how many, their mean, the share above a threshold."""

import argparse
import os

import pandas as pd

from runyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--scores", required=True)
parser.add_argument("--threshold", type=float, required=True)
args = parser.parse_args()

scores = pd.read_csv(os.path.join(args.scores, "scores.csv"))
run = Run.get_context()
run.log("mean_prediction", float(scores["prediction"].mean()))
run.log("share_above_threshold", float((scores["prediction"] > args.threshold).mean()))
