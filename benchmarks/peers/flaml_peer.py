"""FLAML's AutoML.fit on a train/test split, for bench_automl.py (run with .peers/flaml-venv).

    python flaml_peer.py TRAIN.parquet TEST.parquet LABEL TASK METRIC BUDGET_S SEED

Prints one JSON line: the wall clock of fit (import excluded), the held-out score (the same
metric the runyard run optimises, computed by scikit-learn), FLAML's best learner.
"""

import json
import sys
import time

import pandas as pd
from flaml import AutoML
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

train_path, test_path, label, task, metric, budget, seed = sys.argv[1:8]
train, test = pd.read_parquet(train_path), pd.read_parquet(test_path)
X, y = train.drop(columns=[label]), train[label]
automl = AutoML()
started = time.perf_counter()
automl.fit(X, y, task=task, metric={"accuracy": "accuracy", "r2_score": "r2", "AUC_weighted": "roc_auc_weighted"}
           .get(metric, metric), time_budget=float(budget), n_jobs=2, seed=int(seed), verbose=0)
wall = time.perf_counter() - started
Xt, yt = test.drop(columns=[label]), test[label]
if metric == "accuracy":
    score = accuracy_score(yt, automl.predict(Xt))
elif metric == "r2_score":
    score = r2_score(yt, automl.predict(Xt))
else:
    proba = automl.predict_proba(Xt)
    score = roc_auc_score(yt, proba if proba.shape[1] > 2 else proba[:, 1], multi_class="ovr", average="weighted")
print(json.dumps({"wall_s": wall, "score": float(score), "best": automl.best_estimator}))
