#!/usr/bin/env python
"""Metrics through a workspace server: concurrent job processes against `runyard server` vs `mlflow server`.

Both servers run here as subprocesses, each on a fresh database of one throwaway
PostgreSQL server (Debian's binaries, started the way the tests start it), with
their files in a temp folder. Both get the same load: --jobs processes at once,
each logging --count numeric values spread over a few metric names to its own run.

- runyard: each process is a job as the job contract has it: a script run recorded
  Running in the server's workspace, RUNYARD_RUN_ID and RUNYARD_TRACKING_URI=http://...
  set, ``Run.get_context().log(name, value)`` in a loop, and a normal exit, which
  flushes the buffered metrics (the client sends them in batches of 1000).
- MLflow: each process creates its run with ``MlflowClient`` and sends the values
  with ``MlflowClient.log_batch`` in chunks of --batch (1000, MLflow's largest), then
  ``set_terminated`` (peers/mlflow_peer.py server-job).

Every process starts (imports, opens its run) and then waits; the clock starts
when all are released at once and stops when the last one has exited. The time
from launching the processes is reported too. Rounds alternate between the two
sides, after --warmup untimed rounds each; the median of --repeat rounds counts.
After every round each value of each run is read back through the server's API;
a lost or extra value is a broken run. Goals: runyard's metrics/s at least 5x
MLflow's, and at least 30,000/s (five times what MLflow's server managed here,
rounded: the same bar, judged without the peer).

    python benchmarks/bench_server_metrics.py [--jobs 8] [--count 5000] [--repeat 3] [--warmup 1] [--quick] [--no-peer]
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL_RATIO = 5.0
GOAL_RATE = 30_000  # 5x the 5,992/s of mlflow server measured here (README), rounded
NAMES = ("loss", "accuracy", "lr", "grad_norm")
JOB_TIMEOUT_S = 900

JOB_SCRIPT = '''\
import sys
from runyard import Run

job, count, names = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
run = Run.get_context(allow_offline=False)
print("ready", run.id, flush=True)
sys.stdin.readline()  # the start signal: every job starts logging at once
for k in range(count):
    run.log(names[k % len(names)], job * 1_000_000 + k + 0.5)
# a normal end: the metrics still buffered are sent at exit
'''


def metric_value(job: int, k: int) -> float:
    """The k-th value of job ``job`` (JOB_SCRIPT and peers/mlflow_peer.py use the same formula)."""
    return job * 1_000_000 + k + 0.5


def expected_metrics(job: int, count: int) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for k in range(count):
        values.setdefault(NAMES[k % len(NAMES)], []).append(metric_value(job, k))
    return values


def check_stored(side: str, run_id: str, stored: dict[str, Any], expected: dict[str, list[float]]) -> int:
    """Every logged value stored once, in order; the number stored."""
    stored = {name: v if isinstance(v, list) else [v] for name, v in stored.items() if v != []}
    for name in sorted(set(stored) | set(expected)):
        got, want = stored.get(name, []), expected.get(name, [])
        if got != want:
            how = "values differ" if len(got) == len(want) else \
                f"{len(want) - len(got)} lost" if len(got) < len(want) else f"{len(got) - len(want)} extra"
            raise c.BrokenRun(f"{side}: run {run_id}, metric {name!r}: {len(got):,} values stored, "
                              f"{len(want):,} logged ({how})")
    return sum(len(v) for v in stored.values())


# -- timing concurrent jobs -----------------------------------------------------------
def time_jobs(argvs: list[list[str]], envs: list[dict[str, str]], cwd: Path, logs: Path,
              side: str) -> dict[str, Any]:
    """Launch the processes, wait until each prints ``ready RUN_ID``, release them together and
    wait for all to exit. Their run ids and both times."""
    procs: list[subprocess.Popen] = []
    stderr_files = [logs / f"{side}-job{i}.err" for i in range(len(argvs))]

    def kill_all() -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()

    watchdog = threading.Timer(JOB_TIMEOUT_S, kill_all)
    watchdog.start()
    try:
        launched = time.perf_counter()
        for argv, env, err in zip(argvs, envs, stderr_files):
            with open(err, "w") as err_out:
                procs.append(subprocess.Popen(argv, cwd=cwd, env=env, text=True, stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, stderr=err_out))
        ready = [proc.stdout.readline().split() for proc in procs]
        for i, line in enumerate(ready):
            if line[:1] != ["ready"] or len(line) != 2:
                kill_all()
                raise c.BrokenRun(f"{side} job {i} did not get ready (exit {procs[i].wait()}):\n"
                                  f"{stderr_files[i].read_text()[-2000:]}")
        started = time.perf_counter()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.close()
        for proc in procs:
            proc.stdout.read()  # whatever it prints after 'ready'
        codes = [proc.wait() for proc in procs]
        ended = time.perf_counter()
    finally:
        watchdog.cancel()
        kill_all()
        for proc in procs:
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                pipe.close()
    for i, code in enumerate(codes):
        if code != 0:
            raise c.BrokenRun(f"{side} job {i} exited with {code}:\n{stderr_files[i].read_text()[-2000:]}")
    return {"run_ids": [line[1] for line in ready], "seconds": ended - started,
            "launch_seconds": ended - launched}


# -- runyard -----------------------------------------------------------------------
def runyard_round(ws, url: str, src: Path, logs: Path, jobs: int, count: int) -> dict[str, Any]:
    from runyard import Run

    experiment = "bench-server"
    run_ids = []
    for i in range(jobs):  # recorded as a compute target records a job it starts
        row = ws._store.create_run({
            "run_id": f"{experiment}_{int(time.time())}_{uuid.uuid4().hex[:8]}", "experiment": experiment,
            "display_name": f"worker-{i}", "run_type": "script", "status": "Running", "target": "local",
            "start_time": time.time()})
        run_ids.append(row["run_id"])
    base_env = {k: v for k, v in os.environ.items() if k != "RUNYARD_TOKEN"}
    timed = time_jobs(
        [[sys.executable, "job.py", str(i), str(count), ",".join(NAMES)] for i in range(jobs)],
        [dict(base_env, RUNYARD_RUN_ID=run_id, RUNYARD_TRACKING_URI=url) for run_id in run_ids],
        src, logs, "runyard")
    if timed["run_ids"] != run_ids:
        raise c.BrokenRun(f"runyard jobs opened runs {timed['run_ids']}, expected {run_ids}")
    stored = 0
    for i, run_id in enumerate(run_ids):
        ws._store.set_status(run_id, "Completed", exit_code=0)
        stored += check_stored("runyard", run_id, Run.get(ws, run_id).get_metrics(), expected_metrics(i, count))
    return {"seconds": timed["seconds"], "launch_seconds": timed["launch_seconds"], "stored": stored}


@contextlib.contextmanager
def runyard_server(pg, work: Path) -> Iterator[str]:
    """`runyard server` on a fresh database; its address."""
    store_url = pg.create_database(f"runyard_{uuid.uuid4().hex[:12]}")
    port = c.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "runyard.cli", "server", "--store", store_url,
            "--artifacts", str(work / "runyard-artifacts"), "--port", str(port), "--name", "bench"]
    env = {k: v for k, v in os.environ.items() if k != "RUNYARD_TOKEN"}
    with c.http_server(argv, f"{url}/openapi.json", work / "runyard-server.log", "runyard server", env=env):
        yield url


# -- MLflow ------------------------------------------------------------------------
def mlflow_round(url: str, work: Path, jobs: int, count: int, batch: int) -> dict[str, Any]:
    names = ",".join(NAMES)
    timed = time_jobs(
        [[str(c.PEER_PYTHON), str(c.PEER_SCRIPT), "server-job", "--tracking-uri", url, "--job", str(i),
          "--count", str(count), "--batch", str(batch), "--names", names] for i in range(jobs)],
        [c.peer_env()] * jobs, work, work, "mlflow")
    read = c.run_peer("server-read", "--tracking-uri", url, "--run-ids", ",".join(timed["run_ids"]),
                      "--names", names)
    stored = 0
    for i, run_id in enumerate(timed["run_ids"]):
        if read["status"][run_id] != "FINISHED":
            raise c.BrokenRun(f"mlflow: run {run_id} is {read['status'][run_id]}, not FINISHED")
        stored += check_stored("mlflow", run_id, read["runs"][run_id], expected_metrics(i, count))
    return {"seconds": timed["seconds"], "launch_seconds": timed["launch_seconds"], "stored": stored,
            "mlflow_version": read["mlflow_version"]}


@contextlib.contextmanager
def mlflow_server(pg, work: Path, workers: int | None) -> Iterator[str]:
    """`mlflow server` on a fresh database; its address."""
    # MLflow documents psycopg2 as its PostgreSQL driver; setup_peers.sh installs it.
    store_url = pg.create_database(f"mlflow_{uuid.uuid4().hex[:12]}").replace(
        "postgresql://", "postgresql+psycopg2://", 1)
    port = c.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(c.PEER_PYTHON.parent / "mlflow"), "server", "--backend-store-uri", store_url,
            "--artifacts-destination", str(work / "mlflow-artifacts"), "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        argv += ["--workers", str(workers)]
    with c.http_server(argv, f"{url}/health", work / "mlflow-server.log", "mlflow server", env=c.peer_env(),
                       timeout=300):
        yield url


def report(side: str, result: dict[str, Any]) -> dict[str, Any]:
    result["loadavg_1m"] = c.loadavg()  # the jobs' own start-up counts in it too
    print(f"  {side}: {c.fmt_rate(result['stored'] / result['seconds'])} ({c.fmt_s(result['seconds'])}; "
          f"{c.fmt_s(result['launch_seconds'])} from launch); all {result['stored']:,} values read back; "
          f"load average {result['loadavg_1m']}", flush=True)
    return result


def main() -> None:
    p = c.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=None, help="concurrent job processes per side (default 8)")
    p.add_argument("--count", type=int, default=None, help="metric values each job logs (default 5,000)")
    p.add_argument("--repeat", type=int, default=None, help="rounds per side; the median is reported (default 3)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed rounds per side first, as a server that has been up a while (default 1)")
    p.add_argument("--batch", type=int, default=1000, help="MLflow log_batch size (default 1000, its maximum)")
    p.add_argument("--mlflow-workers", type=int, default=None,
                   help="mlflow server --workers (default: MLflow's own default, 4)")
    args = p.parse_args()
    jobs = args.jobs or (4 if args.quick else 8)
    count = args.count or (1000 if args.quick else 5000)
    repeat = args.repeat or (1 if args.quick else 3)
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else 1)
    if min(jobs, count, repeat, args.batch) < 1 or warmup < 0 or args.batch > 1000:
        p.error("--jobs, --count and --repeat must be >= 1, --warmup >= 0, --batch 1-1000")

    peer = not args.no_peer and c.peer_available()
    runyard: list[dict[str, Any]] = []
    mlflow: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        work = stack.enter_context(c.scratch(args.workdir, "runyard-bench-server-"))
        pg = stack.enter_context(c.postgres_server())
        print(c.load_note("start"))
        print(f"PostgreSQL on port {pg.port}; scratch {work}")
        if args.no_peer:
            print("MLflow peer: skipped (--no-peer)")
        elif not peer:
            print(f"MLflow peer: SKIPPED, no peer venv at {c.PEER_PYTHON} (run benchmarks/setup_peers.sh)")
        src = work / "src"
        src.mkdir(parents=True, exist_ok=True)
        (src / "job.py").write_text(JOB_SCRIPT)
        runyard_url = stack.enter_context(runyard_server(pg, work))
        mlflow_url = stack.enter_context(mlflow_server(pg, work, args.mlflow_workers)) if peer else None
        from runyard import Workspace
        ws = Workspace.get(runyard_url)
        # Rounds alternate between the two sides, so that whatever else the machine does
        # weighs on both. The first rounds of a fresh server are slower (MLflow's most: its
        # workers set up their stores); warm-up rounds are checked but not counted.
        for r in range(warmup + repeat):
            counted = r >= warmup
            name = f"round {r - warmup + 1}/{repeat}" if counted else f"warm-up round {r + 1}/{warmup}"
            print(f"\n{name}: {jobs} jobs x {count:,} values on each side", flush=True)
            result = report("runyard", runyard_round(ws, runyard_url, src, work, jobs, count))
            if counted:
                runyard.append(result)
            if mlflow_url:
                result = report("mlflow", mlflow_round(mlflow_url, work, jobs, count, args.batch))
                if counted:
                    mlflow.append(result)

    total = jobs * count
    sides = [("runyard server", "Run.get_context().log, sent in batches of 1000", runyard)]
    if mlflow:
        sides.append((f"mlflow server {mlflow[0]['mlflow_version']} "
                      f"({args.mlflow_workers or 4} workers)", f"MlflowClient.log_batch x{args.batch}", mlflow))
    rows, rates = [], {}
    for label, api, rounds in sides:
        seconds = c.median([r["seconds"] for r in rounds])
        rates[label] = total / seconds
        rows.append([label, api, f"{total:,}", c.fmt_s(seconds), c.fmt_rate(total / seconds),
                     c.fmt_s(c.median([r["launch_seconds"] for r in rounds])), f"median of {len(rounds)}"])
    print(f"\nMetrics through a workspace server: {jobs} jobs x {count:,} values, {len(NAMES)} names, "
          f"PostgreSQL store\n")
    print(c.table(["", "API", "metrics", "start -> all exited", "rate", "launch -> all exited", "rounds"], rows))

    rate = rates[sides[0][0]]
    ratio = rate / rates[sides[1][0]] if mlflow else None
    print("\nGoals")
    print(c.goal_line("runyard metrics/s through the server", c.fmt_rate(rate), f">= {GOAL_RATE:,}/s",
                      rate >= GOAL_RATE))
    print(c.goal_line("runyard / mlflow server metrics/s", f"{ratio:.1f}x" if ratio else "-",
                      f">= {GOAL_RATIO:g}x", None if ratio is None else ratio >= GOAL_RATIO))

    c.finish({"bench": "server_metrics", "jobs": jobs, "count": count, "names": list(NAMES),
              "runyard": runyard, "runyard_rate": rate, "mlflow": mlflow,
              "mlflow_rate": rates[sides[1][0]] if mlflow else None, "ratio": ratio}, args.json)


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
