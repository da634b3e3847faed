#!/usr/bin/env python
"""Overhead of the R API: submit_experiment() + wait_for_run_completion() of a trivial
script from R, against Experiment.submit() + wait_for_completion() from Python, in one run.

Both sides submit the same `print("hi")` script (no environment: the submitting Python)
to one workspace, after one untimed warm-up each; the R side times its calls inside one
R session with Sys.time(), so R's and reticulate's start-up are not counted, only what
the R API adds per call. Goal: R adds under 0.2 s.

    python benchmarks/bench_r_overhead.py [--repeat 10] [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_R_EXTRA_S = 0.2

R_CODE = r"""
library(runyard)
args <- commandArgs(trailingOnly = TRUE)
ws <- get_workspace(path = args[1])
exp <- experiment(ws, "bench-r")
repeats <- as.integer(args[3])
once <- function() {
  run <- submit_experiment(exp, script_run_config(args[2], "trivial.py"))
  details <- wait_for_run_completion(run, show_output = FALSE)
  if (details$status != "Completed") stop("run ", run$id, " ended ", details$status)
}
once()
times <- vapply(seq_len(repeats), function(i) {
  started <- Sys.time()
  once()
  as.numeric(Sys.time() - started, units = "secs")
}, numeric(1))
cat(jsonlite::toJSON(list(times = times), digits = 6), "\n")
"""


def python_times(ws, src: Path, repeats: int) -> list[float]:
    from runyard import Experiment, ScriptRunConfig
    exp = Experiment(ws, "bench-py")

    def once() -> None:
        details = exp.submit(ScriptRunConfig(str(src), script="trivial.py")).wait_for_completion(
            raise_on_error=False)
        if details["status"] != "Completed":
            raise c.BrokenRun(f"run {details['runId']} ended {details['status']}")

    once()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return times


def r_times(ws_path: Path, src: Path, repeats: int) -> list[float]:
    from runyard.compute.local_env import submitting_interpreter
    env = dict(os.environ, RETICULATE_PYTHON=os.environ.get("RETICULATE_PYTHON") or submitting_interpreter())
    proc = subprocess.run(["Rscript", "-e", R_CODE, str(ws_path), str(src), str(repeats)],
                          capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise c.BrokenRun(f"the R side failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["times"]


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=None, help="timed runs per language (default 10)")
    args = p.parse_args()
    repeats = args.repeat or (3 if args.quick else 10)
    with c.scratch(args.workdir, "runyard-bench-r-") as folder:
        print(c.load_note("start"))
        from runyard import Workspace
        ws = Workspace.create(folder / ".runyard")
        src = c.write_trivial_source(folder)
        # Interleave the languages so a load change hits both alike.
        py, r = [], []
        for _ in range(2):
            py += python_times(ws, src, max(1, repeats // 2))
            r += r_times(ws.path, src, max(1, repeats // 2))
        py_s, r_s = c.median(py), c.median(r)
        extra = r_s - py_s
        print("\nSubmit -> Completed, trivial script, median of", len(py), "runs each\n")
        print(c.table(["caller", "median", "min", "max"],
                      [["Python", c.fmt_s(py_s), c.fmt_s(min(py)), c.fmt_s(max(py))],
                       ["R (runyard R package)", c.fmt_s(r_s), c.fmt_s(min(r)), c.fmt_s(max(r))]]))
        print("\nGoals")
        print(c.goal_line("what R adds over Python", c.fmt_s(extra), "< 0.2 s", extra < GOAL_R_EXTRA_S))
        c.finish({"python_s": py, "r_s": r, "median_python_s": py_s, "median_r_s": r_s,
                  "r_extra_s": extra}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
