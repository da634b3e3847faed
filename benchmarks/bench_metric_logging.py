#!/usr/bin/env python
"""Metric logging throughput: run.log inside a real runyard job vs MLflow log_metric / log_batch.

The job (submitted to the local target, environment=None) calls
``run.log("m", float(i))`` --count times and ``run.flush()``, timed together
with perf_counter; it logs the seconds as the metric ``log_seconds`` and prints
them as JSON. Afterwards the driver checks that get_metrics()["m"] holds all
--count values, in order. MLflow peers (peers/mlflow_peer.py, SQLite store):
``log-metric`` (one call per metric) and ``log-batch`` (batches of 1000).
Goals: runyard >= 50,000 metrics/s and >= 10x MLflow's log_batch.

    python benchmarks/bench_metric_logging.py [--count 100000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_RATE = 50_000
GOAL_BATCH_RATIO = 10.0

JOB_SCRIPT = '''\
import json, sys, time
from runyard import Run

count = int(sys.argv[1])
run = Run.get_context(allow_offline=False)
t0 = time.perf_counter()
for i in range(count):
    run.log("m", float(i))
run.flush()
seconds = time.perf_counter() - t0
run.log("log_seconds", seconds)
print(json.dumps({"count": count, "seconds": seconds}))
'''


def run_job(ws, src: Path, count: int, profile: bool) -> dict:
    from runyard import Experiment, ScriptRunConfig

    script = "log_metrics_profiled.py" if profile else "log_metrics.py"
    t0 = time.perf_counter()
    run = Experiment(ws, "bench-metrics").submit(
        ScriptRunConfig(str(src), script=script, arguments=[count], environment=None))
    details = run.wait_for_completion(raise_on_error=False)
    job_wall = time.perf_counter() - t0
    if details["status"] != "Completed":
        log = details["logFiles"].get("logs/driver.log")
        tail = Path(log).read_text()[-2000:] if log else ""
        raise c.BrokenRun(f"job {run.id} ended {details['status']}: {details.get('error')}\n{tail}")
    log_text = Path(details["logFiles"]["logs/driver.log"]).read_text()
    try:
        printed = json.loads([line for line in log_text.splitlines() if line.startswith("{")][-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise c.BrokenRun(f"job {run.id} printed no result; driver.log:\n{log_text[-2000:]}") from e

    t1 = time.perf_counter()
    metrics = run.get_metrics()
    read_s = time.perf_counter() - t1
    values = metrics.get("m")
    if count == 1 and not isinstance(values, list):
        values = [values]
    if not isinstance(values, list) or len(values) != count:
        got = len(values) if isinstance(values, list) else values
        raise c.BrokenRun(f"job {run.id}: get_metrics()['m'] has {got} values, expected {count}: data lost")
    if values != [float(i) for i in range(count)]:
        raise c.BrokenRun(f"job {run.id}: get_metrics()['m'] values are not 0..{count - 1} in order")
    seconds = metrics.get("log_seconds")
    if not isinstance(seconds, float) or abs(seconds - printed["seconds"]) > 1e-9:
        raise c.BrokenRun(f"job {run.id}: metric log_seconds={seconds!r} disagrees with stdout {printed}")
    return {"run_id": run.id, "seconds": seconds, "rate": count / seconds, "job_wall_s": job_wall,
            "get_metrics_s": read_s, "profile": log_text if profile else None}


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=None, help="run.log calls per job (default 100,000)")
    p.add_argument("--repeat", type=int, default=None, help="jobs; the median rate is reported (default 3)")
    p.add_argument("--peer-metric-count", type=int, default=None, help="mlflow log_metric calls (default 2,000)")
    p.add_argument("--peer-batch-count", type=int, default=None, help="metrics through log_batch (default 100,000)")
    p.add_argument("--batch", type=int, default=1000, help="log_batch batch size (default 1000)")
    p.add_argument("--profile", action="store_true",
                   help="run one extra job under cProfile and print its top functions")
    args = p.parse_args()
    count = args.count or (10_000 if args.quick else 100_000)
    repeat = args.repeat or (1 if args.quick else 3)
    metric_count = args.peer_metric_count or (200 if args.quick else 2000)
    batch_count = args.peer_batch_count or (10_000 if args.quick else 100_000)
    if min(count, repeat, metric_count, batch_count, args.batch) < 1:
        p.error("counts, --repeat and --batch must be >= 1")

    with c.scratch(args.workdir, "runyard-bench-metrics-") as work:
        from runyard import Workspace

        src = work / "src"
        src.mkdir(parents=True, exist_ok=True)
        (src / "log_metrics.py").write_text(JOB_SCRIPT)
        (src / "log_metrics_profiled.py").write_text(
            "import cProfile, pstats, runpy, sys\n"
            "prof = cProfile.Profile()\nprof.enable()\n"
            "runpy.run_path('log_metrics.py', run_name='__main__')\n"
            "prof.disable()\n"
            "print('PROFILE')\npstats.Stats(prof, stream=sys.stdout).sort_stats('tottime').print_stats(18)\n")
        ws = Workspace.create(work / "ws" / ".runyard")
        print(c.load_note("start"))
        print(f"workspace {ws.path}\n")

        jobs = []
        for i in range(repeat):
            print(f"runyard job {i + 1}/{repeat}: {count:,} x run.log ...", flush=True)
            job = run_job(ws, src, count, profile=False)
            print(f"  {c.fmt_rate(job['rate'])} ({c.fmt_s(job['seconds'])}); all {count:,} values read back "
                  f"in {c.fmt_s(job['get_metrics_s'])}", flush=True)
            jobs.append(job)
        profile_text = None
        if args.profile:
            print("profiled job ...", flush=True)
            profile_text = run_job(ws, src, count, profile=True)["profile"]

        log_metric = log_batch = None
        if args.no_peer:
            print("MLflow peers: skipped (--no-peer)")
        elif not c.peer_available():
            print(f"MLflow peers: SKIPPED, no peer venv at {c.PEER_PYTHON} (run benchmarks/setup_peers.sh)")
        else:
            log_metric = c.run_peer("log-metric", "--count", str(metric_count))
            log_batch = c.run_peer("log-batch", "--count", str(batch_count), "--batch", str(args.batch))

    rate = c.median([j["rate"] for j in jobs])
    rows = [["runyard run.log + flush (in a job)", f"{count:,}", c.fmt_s(c.median([j["seconds"] for j in jobs])),
             c.fmt_rate(rate), f"median of {repeat}"]]
    if log_metric:
        rows.append([f"mlflow.log_metric ({log_metric['mlflow_version']}, SQLite)", f"{log_metric['count']:,}",
                     c.fmt_s(log_metric["seconds"]), c.fmt_rate(log_metric["metrics_per_s"]), "1"])
    if log_batch:
        rows.append([f"MlflowClient.log_batch x{log_batch['batch']}", f"{log_batch['count']:,}",
                     c.fmt_s(log_batch["seconds"]), c.fmt_rate(log_batch["metrics_per_s"]), "1"])
    print("\nMetric logging throughput\n")
    print(c.table(["", "metrics", "time", "rate", "runs"], rows))
    print(f"\nrunyard rates per job: {', '.join(c.fmt_rate(j['rate']) for j in jobs)}; "
          f"get_metrics() of {count:,} values: {c.fmt_s(c.median([j['get_metrics_s'] for j in jobs]))}")
    if profile_text:
        print("\ncProfile of one job (sorted by own time)\n")
        print(profile_text.split("PROFILE", 1)[-1].strip())

    batch_ratio = rate / log_batch["metrics_per_s"] if log_batch else None
    metric_ratio = rate / log_metric["metrics_per_s"] if log_metric else None
    print("\nGoals")
    print(c.goal_line("runyard metrics/s", c.fmt_rate(rate), f">= {GOAL_RATE:,}/s", rate >= GOAL_RATE))
    print(c.goal_line("runyard / mlflow log_batch", f"{batch_ratio:.1f}x" if batch_ratio else "-",
                      f">= {GOAL_BATCH_RATIO:g}x", None if batch_ratio is None else batch_ratio >= GOAL_BATCH_RATIO))
    if metric_ratio:
        print(f"  (runyard / mlflow log_metric: {metric_ratio:,.0f}x, no goal)")

    c.finish({"bench": "metric_logging", "count": count,
              "runyard": [{k: v for k, v in j.items() if k != "profile"} for j in jobs],
              "runyard_rate": rate, "mlflow_log_metric": log_metric, "mlflow_log_batch": log_batch,
              "ratio_log_batch": batch_ratio, "ratio_log_metric": metric_ratio}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
