#!/usr/bin/env python
"""AutoML: the held-out score at equal wall clock against FLAML, and the budget kept.

Each dataset ships offline (scikit-learn's bundled sets and generators), is split 75/25 with
the seed (stratified for classification), and both systems get the same training rows, the same
budget and 2 cores:

  runyard   AutoMLConfig(primary_metric, experiment_timeout_minutes=budget, max_concurrent_iterations=2),
            its other settings Azure's defaults (ensembles, explanations); the wall clock runs from
            submit to Completed; the score is the best model's on the test rows.
  FLAML     AutoML.fit(time_budget=budget, n_jobs=2) in its own venv (peers/flaml_peer.py,
            .peers/flaml-venv; --no-peer or no venv: NOT MEASURED).
  AutoGluon TabularPredictor.fit(time_limit=budget, presets="medium_quality", num_cpus=2) in its
            own venv (peers/autogluon_peer.py, .peers/autogluon-venv; likewise NOT MEASURED
            without it).

Goals: runyard's held-out score >= FLAML's on at least half the datasets and on average, and
>= AutoGluon medium_quality's on average; the wall clock of every runyard run <= 1.10 x
budget + 10 s (the peers' beside it).
--quick: two datasets, one seed, a 20 s budget.

    python benchmarks/bench_automl.py [--budgets 60,300] [--seeds 3] [--datasets a,b]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

FLAML_SCRIPT = c.BENCH_DIR / "peers" / "flaml_peer.py"
FLAML_PYTHON = Path(os.environ.get("RUNYARD_BENCH_FLAML_PYTHON") or c.BENCH_DIR / ".peers" / "flaml-venv" / "bin" / "python")
AUTOGLUON_SCRIPT = c.BENCH_DIR / "peers" / "autogluon_peer.py"
AUTOGLUON_PYTHON = Path(os.environ.get("RUNYARD_BENCH_AUTOGLUON_PYTHON")
                        or c.BENCH_DIR / ".peers" / "autogluon-venv" / "bin" / "python")
BUDGET_FACTOR, BUDGET_SLACK_S = 1.10, 10.0


def datasets() -> dict[str, Any]:
    """name -> (task, metric, loader returning a frame with a 'label' column), all offline."""
    import numpy as np
    import pandas as pd
    from sklearn import datasets as d

    def bundled(loader):
        def load():
            frame = loader(as_frame=True).frame
            return frame.rename(columns={frame.columns[-1]: "label"})
        return load

    def imbalanced():
        X, y = d.make_classification(3000, 20, n_informative=8, weights=[0.85, 0.15], random_state=1)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
        frame["segment"] = np.random.default_rng(1).choice(["a", "b", "c", "d"], len(frame))
        return frame.assign(label=np.where(y == 1, "yes", "no"))

    def friedman():
        X, y = d.make_friedman1(2000, 10, noise=1.0, random_state=2)
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(10)]).assign(label=y)

    def sparse_regression():
        X, y = d.make_regression(1500, 40, n_informative=10, noise=10, random_state=3)
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(40)]).assign(label=y)

    return {
        "breast_cancer": ("classification", "accuracy", bundled(d.load_breast_cancer)),
        "wine": ("classification", "accuracy", bundled(d.load_wine)),
        "digits": ("classification", "accuracy", bundled(d.load_digits)),
        "imbalanced": ("classification", "AUC_weighted", imbalanced),
        "diabetes": ("regression", "r2_score", bundled(d.load_diabetes)),
        "friedman1": ("regression", "r2_score", friedman),
        "linear": ("regression", "r2_score", sparse_regression),
        "iris": ("classification", "accuracy", bundled(d.load_iris)),
    }


def split(frame: Any, task: str, seed: int) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split
    return train_test_split(frame, test_size=0.25, random_state=seed,
                            stratify=frame["label"] if task == "classification" else None)


def held_out(task: str, metric: str, model: Any, test: Any) -> float:
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
    X, y = test.drop(columns=["label"]), test["label"]
    if metric == "accuracy":
        return float(accuracy_score(y, model.predict(X)))
    if metric == "r2_score":
        return float(r2_score(y, model.predict(X)))
    proba = model.predict_proba(X)
    return float(roc_auc_score(y, proba if proba.shape[1] > 2 else proba[:, 1], multi_class="ovr",
                               average="weighted"))


def run_runyard(ws, name: str, task: str, metric: str, train: Any, test: Any, budget: float) -> dict[str, Any]:
    from runyard import AutoMLConfig, Experiment
    config = AutoMLConfig(task=task, primary_metric=metric, training_data=train, label_column_name="label",
                          experiment_timeout_minutes=budget / 60, max_concurrent_iterations=2)
    started = time.perf_counter()
    run = Experiment(ws, f"bench-{name}").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    wall = time.perf_counter() - started
    if details["status"] != "Completed":
        raise c.BrokenRun(f"AutoML run {run.id} on {name} ended {details['status']}: {details.get('error')}")
    best, model = run.get_output()
    return {"wall_s": wall, "score": held_out(task, metric, model, test), "iterations": len(run.get_children()),
            "best": best.get_properties().get("run_algorithm")}


def run_peer(python: Path, script: Path, peer: str, work: Path, name: str, task: str, metric: str, train: Any,
             test: Any, budget: float, seed: int) -> dict[str, Any]:
    folder = work / "data" / name
    folder.mkdir(parents=True, exist_ok=True)
    train.to_parquet(folder / f"train-{seed}.parquet")
    test.to_parquet(folder / f"test-{seed}.parquet")
    done = subprocess.run([str(python), str(script), str(folder / f"train-{seed}.parquet"),
                           str(folder / f"test-{seed}.parquet"), "label", task, metric, str(budget), str(seed)],
                          capture_output=True, text=True, timeout=budget * 3 + 300)
    if done.returncode != 0:
        raise c.BrokenRun(f"{peer} peer failed on {name}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--budgets", default=None, help="budgets in seconds (default 60,300; --quick: 20)")
    p.add_argument("--seeds", type=int, default=None, help="seeds per dataset (default 3; --quick: 1)")
    p.add_argument("--datasets", default=None, help="which datasets (default all 8; --quick: breast_cancer,diabetes)")
    args = p.parse_args()
    budgets = [float(b) for b in (args.budgets or ("20" if args.quick else "60,300")).split(",")]
    seeds = list(range(args.seeds or (1 if args.quick else 3)))
    table = datasets()
    names = (args.datasets or ("breast_cancer,diabetes" if args.quick else ",".join(table))).split(",")
    unknown = [n for n in names if n not in table]
    if unknown:
        p.error(f"unknown dataset {unknown[0]!r}; valid: {', '.join(table)}")
    peer = not args.no_peer and FLAML_PYTHON.is_file()
    if not args.no_peer and not peer:
        print(f"FLAML: no peer venv at {FLAML_PYTHON} (run benchmarks/setup_peers.sh)")
    gluon = not args.no_peer and AUTOGLUON_PYTHON.is_file()
    if not args.no_peer and not gluon:
        print(f"AutoGluon: no peer venv at {AUTOGLUON_PYTHON} (run benchmarks/setup_peers.sh)")
    cases = []
    with c.scratch(args.workdir, "runyard-bench-automl-") as work:
        from runyard import Workspace
        ws = Workspace.create(work / "ws" / ".runyard")
        print(c.load_note("start"))
        for budget in budgets:
            for name in names:
                task, metric, load = table[name]
                frame = load()
                for seed in seeds:
                    train, test = split(frame, task, seed)
                    print(f"{name}, seed {seed}, {budget:g} s ...", flush=True)
                    case = {"dataset": name, "task": task, "metric": metric, "seed": seed, "budget_s": budget,
                            "rows": len(frame), "runyard": run_runyard(ws, name, task, metric, train, test, budget)}
                    if peer:
                        case["flaml"] = run_peer(FLAML_PYTHON, FLAML_SCRIPT, "FLAML", work, name, task, metric,
                                                 train, test, budget, seed)
                    if gluon:
                        case["autogluon"] = run_peer(AUTOGLUON_PYTHON, AUTOGLUON_SCRIPT, "AutoGluon", work, name,
                                                     task, metric, train, test, budget, seed)
                    cases.append(case)
        print(c.load_note("end"))
    rows = []
    for case in cases:
        r, f, g = case["runyard"], case.get("flaml"), case.get("autogluon")
        rows.append([case["dataset"], case["seed"], f"{case['budget_s']:g} s", case["metric"], f"{r['score']:.4f}",
                     "-" if f is None else f"{f['score']:.4f}", "-" if g is None else f"{g['score']:.4f}",
                     c.fmt_s(r["wall_s"]), "-" if f is None else c.fmt_s(f["wall_s"]),
                     "-" if g is None else c.fmt_s(g["wall_s"]), r["iterations"], r["best"]])
    print(c.table(["dataset", "seed", "budget", "metric", "runyard", "FLAML", "AutoGluon", "runyard wall",
                   "FLAML wall", "AutoGluon wall", "iterations", "best"], rows))
    goals = []
    over = [case for case in cases if case["runyard"]["wall_s"] > BUDGET_FACTOR * case["budget_s"] + BUDGET_SLACK_S]
    worst = max(cases, key=lambda k: k["runyard"]["wall_s"] / k["budget_s"])
    goals.append(("budget kept (every run within 1.10 x budget + 10 s)",
                  f"{len(cases) - len(over)}/{len(cases)}; worst {worst['runyard']['wall_s']:.0f} s of {worst['budget_s']:g}",
                  "all", not over))
    if peer:
        for budget in budgets:
            by_dataset: dict[str, list[tuple[float, float]]] = {}
            for case in (k for k in cases if k["budget_s"] == budget):
                by_dataset.setdefault(case["dataset"], []).append((case["runyard"]["score"], case["flaml"]["score"]))
            means = {n: (statistics.fmean(a for a, _ in v), statistics.fmean(b for _, b in v))
                     for n, v in by_dataset.items()}
            wins = sum(a >= b for a, b in means.values())
            goals.append((f"{budget:g} s: datasets where runyard >= FLAML", f"{wins}/{len(means)}",
                          f">= {(len(means) + 1) // 2}", wins >= (len(means) + 1) / 2))
            gap = statistics.fmean(a - b for a, b in means.values())
            goals.append((f"{budget:g} s: mean score, runyard - FLAML", f"{gap:+.4f}", ">= 0", gap >= 0))
    else:
        goals.append(("held-out score >= FLAML's on half the datasets and on average", "-", "", None))
    if gluon:
        for budget in budgets:
            pairs: dict[str, list[tuple[float, float]]] = {}
            for case in (k for k in cases if k["budget_s"] == budget):
                pairs.setdefault(case["dataset"], []).append((case["runyard"]["score"], case["autogluon"]["score"]))
            gap = statistics.fmean(statistics.fmean(a for a, _ in v) - statistics.fmean(b for _, b in v)
                                   for v in pairs.values())
            goals.append((f"{budget:g} s: mean score, runyard - AutoGluon medium_quality", f"{gap:+.4f}", ">= 0",
                          gap >= 0))
    else:
        goals.append(("held-out score >= AutoGluon medium_quality on average", "-", "", None))
    print("\nGoals")
    verdicts = {}
    for label, value, goal, met in goals:
        print(c.goal_line(label, value, goal, met))
        verdicts[label] = c.verdict(met)
    c.finish({"bench": "automl", "budgets_s": budgets, "seeds": seeds, "cases": cases, "verdicts": verdicts},
             args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
