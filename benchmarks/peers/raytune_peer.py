#!/usr/bin/env python
"""Ray Tune peer for ../bench_hyperdrive.py: the same trials as a runyard sweep, run by Ray Tune.

Run with the Ray Tune peer venv's interpreter (see ../setup_peers.sh):

    benchmarks/.peers/raytune-venv/bin/python benchmarks/peers/raytune_peer.py trials \\
        --python /path/to/runyard/python --src SRC --script trivial_metric.py --values values.json

``trials`` starts a loopback Ray of its own (``ray.init(num_cpus=2, include_dashboard=False)``)
and runs one Tune trial per value in ``--values`` (a JSON list of numbers; a grid search over
them, so each value is tried once and Tune samples nothing). Each trial is a function trainable
that runs ``PYTHON SCRIPT --x VALUE`` in SRC as a subprocess, exactly the process a runyard
trial and a trial by hand run, reads the metric the script printed and reports it with
``tune.report``. At most ``--concurrency`` trials run at once (1 CPU each).

The trials run twice on the same Ray instance: with Tune's defaults (a new actor, so a new
worker process, per trial: ``reuse_actors=False``), then with ``reuse_actors=True``, the knob
Tune documents for many short trials. It prints exactly one JSON object on stdout: Ray's
start-up (``init_s``), then per run ``Tuner.fit()``'s wall clock (``fit_s``), how many trials
ended, failed and reported the value they were given, and the median time of the trainable
itself inside its actor.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: what the trivial script prints through an offline runyard run: ``[runyard offline] m: 0.42``
METRIC_LINE = re.compile(r"^\[runyard offline\] m: (?P<value>\S+)$", re.MULTILINE)
#: variables of this venv's processes that must not reach the script's (runyard's) interpreter
NOT_PASSED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def trials(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report at start
    # Ray's token authentication stays on (its default), with a token of this run's own in the
    # environment its processes inherit: the default, ~/.ray/auth_token, is shared by every Ray
    # on the machine, and another one removing it made each new worker crash at start (each trial
    # then waited 60 s for a worker that never registered)
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    import ray
    from ray import tune

    values = json.loads(Path(args.values).read_text())
    python, src, script = args.python, args.src, args.script
    script_env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED}

    def trial(config: dict) -> None:
        proc = subprocess.run([python, script, "--x", str(config["x"])], cwd=src, capture_output=True, text=True,
                              env=script_env)
        if proc.returncode != 0:
            raise RuntimeError(f"{script} failed (rc={proc.returncode}): {proc.stderr[-2000:]}")
        found = METRIC_LINE.search(proc.stdout)
        if "hi" not in proc.stdout.splitlines() or found is None:
            raise RuntimeError(f"{script} did not print hi and its metric: {proc.stdout[-2000:]!r}")
        tune.report({"m": float(found["value"])})

    def fit(reuse_actors: bool, storage: Path) -> dict[str, Any]:
        tuner = tune.Tuner(
            tune.with_resources(trial, {"cpu": 1}),
            param_space={"x": tune.grid_search(values)},
            tune_config=tune.TuneConfig(metric="m", mode="max", max_concurrent_trials=args.concurrency,
                                        reuse_actors=reuse_actors),
            run_config=tune.RunConfig(name=f"bench-reuse-{reuse_actors}", storage_path=str(storage), verbose=0),
        )
        t0 = time.perf_counter()
        grid = tuner.fit()
        fit_s = time.perf_counter() - t0
        reported = sorted(r.metrics.get("m") for r in grid if r.error is None and r.metrics.get("m") is not None)
        return {
            "reuse_actors": reuse_actors, "fit_s": fit_s, "trials": len(grid), "errors": grid.num_errors,
            "values_ok": reported == sorted(float(v) for v in values),
            "trial_s_median": statistics.median(r.metrics.get("time_total_s", math.nan) for r in grid),
            "first_error": next((str(r.error)[-1000:] for r in grid if r.error is not None), None),
        }

    storage = Path(tempfile.mkdtemp(prefix="runyard-raytune-peer-"))
    # Ray's session folder, removed at the end too (short: it holds Unix sockets, 107 bytes at most)
    ray_temp = Path(tempfile.mkdtemp(prefix="rt-"))
    try:
        t0 = time.perf_counter()
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, _temp_dir=str(ray_temp))
        result: dict[str, Any] = {"ray_version": ray.__version__, "python": sys.version.split()[0],
                                  "num_cpus": args.num_cpus, "concurrency": args.concurrency,
                                  "init_s": time.perf_counter() - t0}
        result["fits"] = [fit(reuse, storage) for reuse in (False, True)]
        t0 = time.perf_counter()
        ray.shutdown()
        result["shutdown_s"] = time.perf_counter() - t0
        return result
    finally:
        if ray.is_initialized():
            ray.shutdown()
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(ray_temp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("trials", help="run one Tune trial per value; each runs SCRIPT --x VALUE")
    t.add_argument("--python", required=True, help="the interpreter that runs the script (runyard's)")
    t.add_argument("--src", required=True, help="the folder the script runs in")
    t.add_argument("--script", required=True)
    t.add_argument("--values", required=True, help="a JSON file: the list of values, one trial each")
    t.add_argument("--concurrency", type=int, default=2)
    t.add_argument("--num-cpus", type=int, default=2)
    args = p.parse_args()
    result = trials(args)
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
