"""AutoGluon's TabularPredictor (presets="medium_quality") on a train/test split, for
bench_automl.py (run with .peers/autogluon-venv).

    python autogluon_peer.py TRAIN.parquet TEST.parquet LABEL TASK METRIC BUDGET_S SEED

Prints one JSON line: the wall clock of fit (import excluded), the held-out score (the same
metric the runyard run optimises, computed by scikit-learn), AutoGluon's best model. The venv
has no PyTorch, so AutoGluon leaves out its neural networks (its own warning says so).
"""

import json
import sys
import tempfile
import time

import pandas as pd
from autogluon.tabular import TabularPredictor
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

train_path, test_path, label, task, metric, budget, seed = sys.argv[1:8]
train, test = pd.read_parquet(train_path), pd.read_parquet(test_path)
problem = "regression" if task == "regression" else ("binary" if train[label].nunique() == 2 else "multiclass")
eval_metric = {"accuracy": "accuracy", "r2_score": "r2",
               "AUC_weighted": "roc_auc" if problem == "binary" else "roc_auc_ovr_weighted"}[metric]
with tempfile.TemporaryDirectory(prefix="autogluon-peer-") as folder:
    started = time.perf_counter()
    predictor = TabularPredictor(label=label, problem_type=problem, eval_metric=eval_metric, path=folder,
                                 verbosity=0).fit(train, time_limit=float(budget), presets="medium_quality",
                                                  num_cpus=2, ag_args_fit={"random_seed": int(seed)})
    wall = time.perf_counter() - started
    Xt, yt = test.drop(columns=[label]), test[label]
    if metric == "accuracy":
        score = accuracy_score(yt, predictor.predict(Xt))
    elif metric == "r2_score":
        score = r2_score(yt, predictor.predict(Xt))
    else:
        proba = predictor.predict_proba(Xt)
        score = roc_auc_score(yt, proba.iloc[:, 1] if proba.shape[1] == 2 else proba, multi_class="ovr",
                              average="weighted")
    print(json.dumps({"wall_s": wall, "score": float(score), "best": predictor.model_best}))
