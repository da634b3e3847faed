#!/usr/bin/env python
"""Submit overhead: a trivial script (print("hi")) to Completed, runyard vs plain Python vs `mlflow run`.

Measured, median of --repeat runs each (wall clock):
  plain      `python trivial.py` as a subprocess
  env        Experiment(ws, "bench").submit(ScriptRunConfig(src, script="trivial.py",
             environment=Environment("bench"))).wait_for_completion(), the environment
             already built by an untimed warm-up run (a cache hit)
  none       the same with environment=None (the submitting interpreter)
  mlflow     `mlflow run <project> --env-manager local` (peers/mlflow_peer.py run-overhead)
Goals: runyard - plain <= 0.1 s (a supervisor forked by the launcher, runyard.compute._launcher,
not a new interpreter: that alone took about 0.45 s); mlflow / runyard >= 10x.

    python benchmarks/bench_submit_overhead.py [--repeat 5] [--peer-repeat 3] [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_OVERHEAD_S = 0.1
GOAL_MLFLOW_RATIO = 10.0
PHASES = ("Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed")


def time_plain(src: Path, repeat: int) -> list[float]:
    times = []
    for i in range(repeat + 1):  # the first one warms the page cache and is dropped
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "trivial.py"], cwd=src, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0 or proc.stdout != "hi\n":
            raise c.BrokenRun(f"plain python failed (rc={proc.returncode}): {proc.stdout!r} {proc.stderr!r}")
        if i:
            times.append(elapsed)
    return times


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def submit_once(ws, src: Path, environment) -> dict[str, Any]:
    """One submit -> Completed; wall time plus where it went (from statusHistory)."""
    from runyard import Experiment, ScriptRunConfig

    wall0 = time.time()
    t0 = time.perf_counter()
    run = Experiment(ws, "bench").submit(ScriptRunConfig(str(src), script="trivial.py", environment=environment))
    t_submit = time.perf_counter() - t0
    details = run.wait_for_completion(raise_on_error=False)
    total = time.perf_counter() - t0
    if details["status"] != "Completed":
        raise c.BrokenRun(f"run {run.id} ended {details['status']}: {details.get('error')}")
    driver_log = details["logFiles"].get("logs/driver.log")
    if not driver_log or Path(driver_log).read_text().strip() != "hi":
        raise c.BrokenRun(f"run {run.id}: logs/driver.log does not hold the script's output 'hi'")
    events = {e["status"]: _epoch(e["timeUtc"]) for e in details["statusHistory"]}
    missing = [p for p in PHASES if p not in events]
    if missing:
        raise c.BrokenRun(f"run {run.id}: statusHistory lacks {missing}")
    wall_end = wall0 + total
    # statusHistory times have millisecond resolution.
    phases = {
        "submit() returned": t_submit,
        "-> Preparing (supervisor start)": events["Preparing"] - events["Queued"],
        "-> Starting (environment lookup)": events["Starting"] - events["Preparing"],
        "-> Running (snapshot, spawn)": events["Running"] - events["Starting"],
        "-> Finalizing (script runs)": events["Finalizing"] - events["Running"],
        "-> Completed (collect files)": events["Completed"] - events["Finalizing"],
        "Completed -> wait returned": wall_end - events["Completed"],
    }
    # When the supervisor recorded Completed, i.e. without wait_for_completion's poll latency.
    recorded = events["Completed"] - wall0
    return {"run_id": run.id, "total": total, "recorded": recorded, "phases": phases, "build_log": details["logFiles"].get(
        "logs/environment_build.log")}


def time_runyard(ws, src: Path, environment, repeat: int) -> tuple[list[float], dict[str, float], list[float]]:
    results = [submit_once(ws, src, environment) for _ in range(repeat)]
    if environment is not None:
        for r in results:
            text = Path(r["build_log"]).read_text() if r["build_log"] else ""
            if "cached at" not in text:
                raise c.BrokenRun(f"run {r['run_id']}: the environment was not a cache hit:\n{text}")
    phases = {k: c.median([r["phases"][k] for r in results]) for k in results[0]["phases"]}
    return [r["total"] for r in results], phases, [r["recorded"] for r in results]


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=None, help="timed runs per runyard/plain variant (default 5)")
    p.add_argument("--peer-repeat", type=int, default=None, help="`mlflow run` repeats (default 3)")
    args = p.parse_args()
    repeat = args.repeat or (2 if args.quick else 5)
    peer_repeat = args.peer_repeat or (1 if args.quick else 3)
    if repeat < 1 or peer_repeat < 1:
        p.error("--repeat and --peer-repeat must be >= 1")

    with c.scratch(args.workdir, "runyard-bench-submit-") as work:
        from runyard import Environment, Workspace

        src = c.write_trivial_source(work)
        ws = Workspace.create(work / "ws" / ".runyard")
        env = Environment("bench")
        print(c.load_note("start"))
        print(f"workspace {ws.path}\nRUNYARD_CACHE_DIR {os.environ['RUNYARD_CACHE_DIR']}\n")

        print("warm-up: building Environment('bench') once (not timed in the results) ...", flush=True)
        warm = submit_once(ws, src, env)
        print(f"  warm-up run {fmt(warm['total'])} (environment build "
              f"{fmt(warm['phases']['-> Starting (environment lookup)'])})")
        submit_once(ws, src, None)  # warms the submitting-interpreter path too

        print(f"plain python x{repeat} ...", flush=True)
        plain = time_plain(src, repeat)
        print(f"runyard, cached environment x{repeat} ...", flush=True)
        with_env, env_phases, env_recorded = time_runyard(ws, src, env, repeat)
        print(f"runyard, environment=None x{repeat} ...", flush=True)
        no_env, none_phases, none_recorded = time_runyard(ws, src, None, repeat)

        mlflow = None
        if args.no_peer:
            print("mlflow run: skipped (--no-peer)")
        elif not c.peer_available():
            print(f"mlflow run: SKIPPED, no peer venv at {c.PEER_PYTHON} (run benchmarks/setup_peers.sh)")
        else:
            print(f"mlflow run x{peer_repeat} ...", flush=True)
            mlflow = c.run_peer("run-overhead", "--repeat", str(peer_repeat))

    plain_m, env_m, none_m = c.median(plain), c.median(with_env), c.median(no_env)
    rows = [
        ["python trivial.py", fmt(plain_m), fmt(min(plain)), fmt(max(plain)), repeat, "-"],
        ["runyard, cached env", fmt(env_m), fmt(min(with_env)), fmt(max(with_env)), repeat,
         fmt(env_m - plain_m)],
        ["runyard, environment=None", fmt(none_m), fmt(min(no_env)), fmt(max(no_env)), repeat,
         fmt(none_m - plain_m)],
    ]
    if mlflow:
        rows.append([f"mlflow run (mlflow {mlflow['mlflow_version']})", fmt(mlflow["median_s"]),
                     fmt(min(mlflow["runs"])), fmt(max(mlflow["runs"])), mlflow["repeat"],
                     fmt(mlflow["median_s"] - plain_m)])
    print("\nSubmit -> Completed, trivial script (wall clock)\n")
    print(c.table(["", "median", "min", "max", "n", "over plain"], rows))

    print("\nWhere runyard's time goes (medians; statusHistory has ms resolution)\n")
    print(c.table(["phase", "cached env", "env=None"],
                  [[k, fmt(env_phases[k]), fmt(none_phases[k])] for k in env_phases]
                  + [["submit -> Completed recorded (no poll wait)", fmt(c.median(env_recorded)),
                      fmt(c.median(none_recorded))]]))
    print("(wait_for_completion polls every 25 ms for the first 5 s: a run is noticed up to 25 ms late)")

    overhead = env_m - plain_m
    ratio = mlflow["median_s"] / env_m if mlflow else None
    print("\nGoals")
    print(c.goal_line("runyard overhead over plain python (cached env)", fmt(overhead),
                      f"<= {GOAL_OVERHEAD_S} s", overhead <= GOAL_OVERHEAD_S))
    print(c.goal_line("runyard overhead, environment=None (reference)", fmt(none_m - plain_m),
                      f"<= {GOAL_OVERHEAD_S} s", none_m - plain_m <= GOAL_OVERHEAD_S))
    print(c.goal_line("mlflow run time / runyard time", f"{ratio:.1f}x" if ratio else "-",
                      f">= {GOAL_MLFLOW_RATIO:g}x", None if ratio is None else ratio >= GOAL_MLFLOW_RATIO))

    c.finish({"bench": "submit_overhead", "repeat": repeat,
              "plain_s": plain, "runyard_cached_env_s": with_env, "runyard_no_env_s": no_env,
              "phases_cached_env_s": env_phases, "phases_no_env_s": none_phases,
              "completed_recorded_cached_env_s": env_recorded, "completed_recorded_no_env_s": none_recorded, "mlflow": mlflow,
              "overhead_s": overhead, "mlflow_ratio": ratio}, args.json)


def fmt(seconds: float) -> str:
    return c.fmt_s(seconds)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
