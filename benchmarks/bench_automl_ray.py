#!/usr/bin/env python
"""AutoML iterations across a Ray cluster's nodes: iterations per minute, 2 at a time against 1.

A loopback Ray cluster of two nodes of one CPU each (started here unless --address names
one), a folder workspace, and the same AutoML run twice: Friedman #1 (2,000 rows, 10
columns), 3-fold cross-validation, random forests and extra trees (CPU-bound, one core each),
no early stopping, ensembles or explanation, a --budget of wall clock. Each iteration reserves
one CPU (max_cores_per_iteration=1), so Ray places two at a time on the two nodes.
  one at a time   max_concurrent_iterations=1
  two at a time   max_concurrent_iterations=2
The rate is the iterations completed divided by the time from the first iteration's start to
the last one's end. Goal: two at a time completes at least 1.6 x the iterations per minute of
one at a time. --quick: a 30 s budget.

    python benchmarks/bench_automl_ray.py [--budget 120] [--address http://127.0.0.1:8265]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_RATIO = 1.6
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"


def friedman() -> Any:
    import pandas as pd
    from sklearn.datasets import make_friedman1
    X, y = make_friedman1(2000, 10, noise=1.0, random_state=2)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(10)]).assign(label=y)


def run_automl(ws: Any, frame: Any, concurrency: int, budget: float) -> dict[str, Any]:
    from runyard import AutoMLConfig, Experiment
    config = AutoMLConfig(task="regression", training_data=frame, label_column_name="label", compute_target="ray",
                          n_cross_validations=3, allowed_models=["RandomForest", "ExtremeRandomTrees"],
                          experiment_timeout_minutes=budget / 60, max_concurrent_iterations=concurrency,
                          max_cores_per_iteration=1, enable_early_stopping=False, enable_voting_ensemble=False,
                          enable_stack_ensemble=False, model_explainability=False)
    run = Experiment(ws, f"bench-ray-{concurrency}").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    if details["status"] != "Completed":
        raise c.BrokenRun(f"AutoML run {run.id} ({concurrency} at a time) ended {details['status']}: "
                          f"{details.get('error')}")
    done = [child._row for child in run.get_children() if child.get_status() == "Completed"]
    if not done:
        raise c.BrokenRun(f"AutoML run {run.id}: no iteration completed")
    span = max(r["end_time"] for r in done) - min(r["start_time"] for r in done)
    return {"run_id": run.id, "iterations": len(done), "span_s": span, "per_minute": 60 * len(done) / span}


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--budget", type=float, default=None, help="seconds per AutoML run (default 120; --quick: 30)")
    p.add_argument("--address", default=None, help="an existing cluster's dashboard address (default: start one)")
    args = p.parse_args()
    budget = args.budget or (30.0 if args.quick else 120.0)
    with c.scratch(args.workdir, "runyard-bench-automl-ray-") as work:
        from runyard import RayCluster, Workspace
        cluster = None
        address = args.address
        if address is None:
            sys.path.insert(0, str(TESTS_DIR))
            from ray_services import LoopbackCluster, RayServiceError
            print("starting a loopback Ray cluster (two nodes of one CPU each) ...", flush=True)
            cluster = LoopbackCluster(work / "ray", head_cpus=1)
            try:
                cluster.start()
                cluster.add_worker(num_cpus=1)
            except RayServiceError as e:
                cluster.stop()
                raise c.BrokenRun(str(e)) from e
            address = cluster.address
        try:
            print(c.load_note("start"))
            ws = Workspace.create(work / "ws" / ".runyard")
            ws.compute_targets.attach("ray", RayCluster(address=address))
            frame = friedman()
            results = {}
            for concurrency in (1, 2):
                print(f"{concurrency} at a time, {budget:g} s ...", flush=True)
                results[concurrency] = run_automl(ws, frame, concurrency, budget)
            print(c.load_note("end"))
        finally:
            if cluster is not None:
                cluster.stop()
    print(c.table(["", "iterations", "from first start to last end", "iterations per minute"],
                  [[f"{k} at a time", v["iterations"], c.fmt_s(v["span_s"]), f"{v['per_minute']:.1f}"]
                   for k, v in results.items()]))
    ratio = results[2]["per_minute"] / results[1]["per_minute"]
    print("\nGoals")
    print(c.goal_line("iterations per minute, 2 at a time / 1 at a time", f"{ratio:.2f}", f">= {GOAL_RATIO}",
                      ratio >= GOAL_RATIO))
    c.finish({"bench": "automl_ray", "budget_s": budget, "results": results, "ratio": ratio}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
