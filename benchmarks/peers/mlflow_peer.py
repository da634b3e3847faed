#!/usr/bin/env python
"""MLflow peer benchmarks for runyard.

Run with the peer venv's interpreter (see ../setup_peers.sh):

    benchmarks/.peers/mlflow-venv/bin/python benchmarks/peers/mlflow_peer.py run-overhead --repeat 3
    benchmarks/.peers/mlflow-venv/bin/python benchmarks/peers/mlflow_peer.py log-metric --count 2000
    benchmarks/.peers/mlflow-venv/bin/python benchmarks/peers/mlflow_peer.py log-batch --count 100000 --batch 1000

Each subcommand prints exactly one JSON object on stdout; everything MLflow
prints goes to stderr. Every subcommand works in its own temporary directory
(SQLite backend, artifacts, MLproject) and removes it afterwards.

``studio-populate`` fills a store with ../bench_studio.py's runs. Two more serve
../bench_server_metrics.py, which starts ``mlflow server`` itself
and times its job processes: ``server-job`` is one job (it creates its run,
prints ``ready RUN_ID``, waits for a line on stdin, logs, ends the run, then
prints its JSON), ``server-read`` reads back what the server stored.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN_DIR = Path(sys.executable).parent
MLFLOW_EXE = BIN_DIR / "mlflow"

MLPROJECT = """\
name: runyard-peer-hello
entry_points:
  main:
    command: "python hello.py"
"""
HELLO_PY = 'print("hello")\n'


def _sqlite_uri(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'mlflow.db'}"


@contextlib.contextmanager
def _workdir(prefix: str):
    """Temp dir that is also the cwd (MLflow's default artifact root is ./mlruns)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    old_cwd = os.getcwd()
    os.chdir(tmp)
    try:
        yield tmp
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(tmp, ignore_errors=True)


def _init_store(uri: str) -> float:
    """Create the SQLite DB (runs the schema migrations); returns seconds taken."""
    from mlflow.tracking import MlflowClient

    t0 = time.perf_counter()
    MlflowClient(tracking_uri=uri).search_experiments()
    return time.perf_counter() - t0


def _env_info() -> dict:
    import mlflow

    return {
        "mlflow_version": mlflow.__version__,
        "python": sys.version.split()[0],
        "telemetry_disabled": os.environ.get("MLFLOW_DISABLE_TELEMETRY", "").lower()
        in ("1", "true"),
    }


def cmd_run_overhead(args: argparse.Namespace) -> dict:
    if not MLFLOW_EXE.exists():
        raise SystemExit(f"mlflow executable not found next to {sys.executable}")
    with _workdir("runyard-mlflow-run-") as tmp:
        project = tmp / "project"
        project.mkdir()
        (project / "MLproject").write_text(MLPROJECT)
        (project / "hello.py").write_text(HELLO_PY)
        uri = _sqlite_uri(tmp)
        # DB creation + migrations happen once, outside the timed runs.
        db_init_s = _init_store(uri)

        env = dict(os.environ)
        env["MLFLOW_TRACKING_URI"] = uri
        # `mlflow run` leaves an empty temp dir per run; keep those inside tmp.
        (tmp / "tmp").mkdir()
        env["TMPDIR"] = str(tmp / "tmp")
        # The project's `python` must be the venv's (env-manager local = current env).
        env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
        cmd = [str(MLFLOW_EXE), "run", str(project), "--env-manager", "local"]

        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            if proc.returncode != 0 or "hello" not in proc.stdout:
                sys.stderr.write(proc.stdout + proc.stderr)
                raise SystemExit(f"mlflow run failed (rc={proc.returncode})")
            runs.append(round(elapsed, 4))
    return {
        "bench": "run-overhead",
        "command": "mlflow run <project> --env-manager local",
        "repeat": args.repeat,
        "median_s": round(statistics.median(runs), 4),
        "runs": runs,
        "db_init_s": round(db_init_s, 4),
        **_env_info(),
    }


def cmd_log_metric(args: argparse.Namespace) -> dict:
    import mlflow

    with _workdir("runyard-mlflow-metric-") as tmp:
        mlflow.set_tracking_uri(_sqlite_uri(tmp))
        with mlflow.start_run():  # creates the DB (migrations) + run: not timed
            t0 = time.perf_counter()
            for i in range(args.count):
                mlflow.log_metric("m", float(i), step=i)
            seconds = time.perf_counter() - t0
    return {
        "bench": "log-metric",
        "count": args.count,
        "seconds": round(seconds, 4),
        "metrics_per_s": round(args.count / seconds, 1),
        **_env_info(),
    }


def cmd_log_batch(args: argparse.Namespace) -> dict:
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    with _workdir("runyard-mlflow-batch-") as tmp:
        uri = _sqlite_uri(tmp)
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(tracking_uri=uri)
        run_id = client.create_run("0").info.run_id  # DB creation: not timed
        ts = int(time.time() * 1000)
        t0 = time.perf_counter()
        for start in range(0, args.count, args.batch):
            stop = min(start + args.batch, args.count)
            client.log_batch(
                run_id,
                metrics=[Metric("m", float(i), ts, i) for i in range(start, stop)],
            )
        seconds = time.perf_counter() - t0
        client.set_terminated(run_id)
    return {
        "bench": "log-batch",
        "count": args.count,
        "batch": args.batch,
        "seconds": round(seconds, 4),
        "metrics_per_s": round(args.count / seconds, 1),
        **_env_info(),
    }


def server_metric_value(job: int, k: int) -> float:
    """The k-th value job ``job`` logs (bench_server_metrics.py uses the same formula)."""
    return job * 1_000_000 + k + 0.5


def cmd_server_job(args: argparse.Namespace) -> dict:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    names = args.names.split(",")
    client = MlflowClient(tracking_uri=args.tracking_uri)
    run_id = client.create_run("0", run_name=f"worker-{args.job}").info.run_id
    print(f"ready {run_id}", file=sys.__stdout__, flush=True)
    sys.stdin.readline()  # the start signal: every job starts logging at once
    t0 = time.perf_counter()
    for start in range(0, args.count, args.batch):
        stamp = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[
            Metric(names[k % len(names)], server_metric_value(args.job, k), stamp, k // len(names))
            for k in range(start, min(start + args.batch, args.count))])
    client.set_terminated(run_id)
    return {"bench": "server-job", "run_id": run_id, "count": args.count, "batch": args.batch,
            "seconds": round(time.perf_counter() - t0, 4), **_env_info()}


def cmd_server_read(args: argparse.Namespace) -> dict:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=args.tracking_uri)
    runs, status = {}, {}
    for run_id in args.run_ids.split(","):
        status[run_id] = client.get_run(run_id).info.status
        runs[run_id] = {name: [m.value for m in sorted(client.get_metric_history(run_id, name),
                                                       key=lambda m: m.step)]
                        for name in args.names.split(",")}
    return {"bench": "server-read", "runs": runs, "status": status, **_env_info()}


STUDIO_START_MS = 1_700_000_000_000


def studio_run_values(i: int) -> dict:
    """Run ``i`` of ../bench_studio.py (its ``run_values``: the same formulas)."""
    return {"name": f"trial-{i}", "failed": i % 10 == 0, "start_ms": STUDIO_START_MS + i * 1000,
            "end_ms": STUDIO_START_MS + i * 1000 + (i % 100 + 1) * 1000, "team": "abc"[i % 3],
            "lr": f"{(i % 50) / 1000:.3f}",
            "loss": [1.0 / (1 + (i * 7919 + step) % 1000) for step in range(3)],
            "acc": [((i * 104729 + step) % 1000) / 1000 for step in range(3)]}


def studio_wave(k: int) -> float:
    return ((k * 2654435761) % 1000) / 1000 + k / 1_000_000


def cmd_studio_populate(args: argparse.Namespace) -> dict:
    """bench_studio.py's runs into MLflow's store at --uri, through MLflow's own ORM models (its
    schema, its migrations, its latest_metrics rows), in bulk: the per-run API would take hours."""
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels import models as m
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(args.uri, tempfile.mkdtemp(prefix="mlflow-studio-"))
    experiment_id, long_experiment = store.create_experiment("studio"), store.create_experiment("long")
    started = time.monotonic()

    def metric_rows(run_id: str, name: str, values: list, start_ms: int) -> list:
        return [{"key": name, "value": v, "timestamp": start_ms + step * 1000, "step": step, "is_nan": False,
                 "run_uuid": run_id} for step, v in enumerate(values)]

    with store.ManagedSessionMaker() as session:
        conn = session.connection()
        batch = 5000
        for start in range(0, args.runs, batch):
            runs, tags, params, metrics, latest = [], [], [], [], []
            for i in range(start, min(args.runs, start + batch)):
                v, run_id = studio_run_values(i), f"{i:032x}"
                runs.append({"run_uuid": run_id, "name": v["name"], "source_type": "LOCAL", "source_name": "",
                             "entry_point_name": "", "user_id": "bench", "status": "FAILED" if v["failed"] else "FINISHED",
                             "start_time": v["start_ms"], "end_time": v["end_ms"], "source_version": "",
                             "lifecycle_stage": "active", "artifact_uri": f"/tmp/mlflow-studio/{run_id}",
                             "experiment_id": int(experiment_id)})
                tags += [{"key": "team", "value": v["team"], "run_uuid": run_id},
                         {"key": "mlflow.runName", "value": v["name"], "run_uuid": run_id}]
                params.append({"key": "lr", "value": v["lr"], "run_uuid": run_id})
                for name in ("loss", "acc"):
                    rows = metric_rows(run_id, name, v[name], v["start_ms"])
                    metrics += rows
                    latest.append(rows[-1])
            conn.execute(sa.insert(m.SqlRun.__table__), runs)
            conn.execute(sa.insert(m.SqlTag.__table__), tags)
            conn.execute(sa.insert(m.SqlParam.__table__), params)
            conn.execute(sa.insert(m.SqlMetric.__table__), metrics)
            conn.execute(sa.insert(m.SqlLatestMetric.__table__), latest)
        long_run = f"{args.runs + 1:032x}"
        conn.execute(sa.insert(m.SqlRun.__table__), [{
            "run_uuid": long_run, "name": "long", "source_type": "LOCAL", "source_name": "", "entry_point_name": "",
            "user_id": "bench", "status": "RUNNING", "start_time": STUDIO_START_MS, "end_time": None,
            "source_version": "", "lifecycle_stage": "active", "artifact_uri": f"/tmp/mlflow-studio/{long_run}",
            "experiment_id": int(long_experiment)}])
        for start in range(0, args.points, 100_000):
            rows = [{"key": "loss", "value": studio_wave(k), "timestamp": k * 1000, "step": k, "is_nan": False,
                     "run_uuid": long_run} for k in range(start, min(args.points, start + 100_000))]
            conn.execute(sa.insert(m.SqlMetric.__table__), rows)
        conn.execute(sa.insert(m.SqlLatestMetric.__table__), [rows[-1]])
    if store.engine.dialect.name == "postgresql":  # statistics, as autovacuum would have them
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return {"bench": "studio-populate", "experiment_id": experiment_id, "long_run": long_run,
            "seconds": round(time.monotonic() - started, 1), **_env_info()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--disable-telemetry",
        action="store_true",
        help="set MLFLOW_DISABLE_TELEMETRY=true (default: MLflow as shipped)",
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("run-overhead", help="wall clock of `mlflow run` on a hello-world MLproject")
    s.add_argument("--repeat", type=int, default=3)
    s.set_defaults(func=cmd_run_overhead)
    s = sub.add_parser("log-metric", help="mlflow.log_metric throughput (SQLite)")
    s.add_argument("--count", type=int, default=2000)
    s.set_defaults(func=cmd_log_metric)
    s = sub.add_parser("log-batch", help="MlflowClient.log_batch throughput (SQLite)")
    s.add_argument("--count", type=int, default=100_000)
    s.add_argument("--batch", type=int, default=1000)
    s.set_defaults(func=cmd_log_batch)
    s = sub.add_parser("server-job", help="one job of bench_server_metrics.py: log_batch to an mlflow server")
    s.add_argument("--tracking-uri", required=True)
    s.add_argument("--job", type=int, required=True)
    s.add_argument("--count", type=int, default=5000)
    s.add_argument("--batch", type=int, default=1000)
    s.add_argument("--names", default="loss,accuracy,lr,grad_norm")
    s.set_defaults(func=cmd_server_job)
    s = sub.add_parser("server-read", help="metric histories of runs on an mlflow server, by step")
    s.add_argument("--tracking-uri", required=True)
    s.add_argument("--run-ids", required=True, help="comma-separated")
    s.add_argument("--names", default="loss,accuracy,lr,grad_norm")
    s.set_defaults(func=cmd_server_read)
    s = sub.add_parser("studio-populate", help="bench_studio.py's runs into MLflow's store, in bulk")
    s.add_argument("--uri", required=True)
    s.add_argument("--runs", type=int, default=100_000)
    s.add_argument("--points", type=int, default=1_000_000)
    s.set_defaults(func=cmd_studio_populate)
    args = p.parse_args(argv)
    for name in ("repeat", "count", "batch"):
        if getattr(args, name, 1) < 1:
            p.error(f"--{name} must be >= 1")

    if args.disable_telemetry:
        os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    # Anything MLflow prints goes to stderr so stdout carries only the JSON.
    with contextlib.redirect_stdout(sys.stderr):
        result = args.func(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
