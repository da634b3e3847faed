#!/usr/bin/env python
"""The studio's queries on a big workspace: runyard's server against MLflow's tracking server.

The same --runs runs (default 100,000) go into both systems' stores, on SQLite and on
PostgreSQL (one throwaway server, a fresh database per system): each run a name, a status, a
start and end, a tag ``team``, a property (MLflow: a param) ``lr``, and three steps of two
metrics, ``loss`` and ``acc`` (the same values on both sides: ``run_values``). runyard's rows go
in through ``SqlStore`` (runs and their tags and properties in bulk, metrics through
``log_metrics``, which keeps each one's latest value); MLflow's through its own ORM models
(``peers/mlflow_peer.py studio-populate``). Then each system's server, one process each, answers
the three requests a runs table makes, over HTTP from this process:

  first page     the experiment's 50 newest runs
  sorted         the 50 runs with the lowest latest ``loss``
  filtered       completed runs with latest ``acc`` > 0.9 and tag ``team`` = ``a``, newest first

runyard: ``POST /api/v1/runs/query`` as its table asks (the page with ``total: false``, its rows
drawn first; the count, asked for beside it with ``limit: 0``, is timed and shown apart); MLflow:
``POST /api/2.0/mlflow/runs/search`` (no total). The median of --repeat requests counts, after two
untimed ones. Then one run's metric of --points values (default 1,000,000): runyard's chart
request (``POST /api/v1/metrics/series``, 1,000 points keeping each bucket's extremes) against
MLflow's sampled history (``/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval``, the
request its UI charts with, 1,000 points). And a live log's latency: a line appended to a
running run's ``logs/driver.log`` until a long-polling reader (``GET .../logs/driver.log?wait=``)
has it (MLflow has no live logs).

Goals: each runs-table request <= 300 ms and >= 5x MLflow's speed, on both stores; the metric's
chart <= 500 ms; a log line's latency <= 1 s. The goals judge the pages as drawn in Debian's
Chromium (``_studio_browser.py``: from the click, or a fresh tab's navigation, to the rows or the
chart on screen), the server's times shown beside them.

    python benchmarks/bench_studio.py [--runs 100000] [--points 1000000] [--repeat 10] [--quick] [--no-peer]
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
import _studio_browser  # noqa: E402

GOAL_QUERY_S, GOAL_RATIO, GOAL_CHART_S, GOAL_LOG_S = 0.300, 5.0, 0.500, 1.0
#: a request that takes longer is stopped and counted as this long (a lower bound: "> 120 s")
REQUEST_LIMIT_S = 120.0
EXPERIMENT = "studio"
PAGE = 50
START_MS = 1_700_000_000_000
LOG_LINES = 20


def run_values(i: int) -> dict[str, Any]:
    """Run ``i``'s values (peers/mlflow_peer.py studio-populate uses the same formulas)."""
    return {"name": f"trial-{i}", "failed": i % 10 == 0, "start_ms": START_MS + i * 1000,
            "end_ms": START_MS + i * 1000 + (i % 100 + 1) * 1000, "team": "abc"[i % 3], "lr": f"{(i % 50) / 1000:.3f}",
            "loss": [1.0 / (1 + (i * 7919 + step) % 1000) for step in range(3)],
            "acc": [((i * 104729 + step) % 1000) / 1000 for step in range(3)]}


# -- runyard's side ------------------------------------------------------------------
def populate_runyard(store_url: str, runs: int, points: int) -> str:
    """The runs, then the long metric's run; the long run's id."""
    import sqlalchemy as sa
    from runyard.store import schema as t
    from runyard.store.sql import SqlStore
    store = SqlStore(store_url)
    first = store.create_run({"run_id": "run_0", "experiment": EXPERIMENT, "run_type": "script",
                              "status": "Completed"})
    batch = 5000
    for start in range(0, runs, batch):
        rows, tags, props, metrics = [], [], [], []
        for i in range(start, min(runs, start + batch)):
            v, run_id = run_values(i), f"run_{i}"
            if i > 0:
                rows.append({"run_id": run_id, "experiment": EXPERIMENT, "run_number": i + 1, "run_type": "script",
                             "status": "Failed" if v["failed"] else "Completed", "display_name": v["name"],
                             "created_at": v["start_ms"] / 1000, "start_time": v["start_ms"] / 1000,
                             "end_time": v["end_ms"] / 1000})
            tags.append({"run_id": run_id, "key": "team", "value": v["team"]})
            props.append({"run_id": run_id, "key": "lr", "value": v["lr"]})
            for name in ("loss", "acc"):
                metrics += [{"run_id": run_id, "name": name, "kind": "scalar", "value_num": value, "value_text": None,
                             "logged_at": v["start_ms"] / 1000 + step, "step": step}
                            for step, value in enumerate(v[name])]
        with store.engine.begin() as conn:
            if rows:
                conn.execute(sa.insert(t.runs), rows)
            if start == 0:
                v = run_values(0)
                conn.execute(sa.update(t.runs).where(t.runs.c.run_id == first["run_id"]).values(
                    display_name=v["name"], status="Failed" if v["failed"] else "Completed",
                    created_at=v["start_ms"] / 1000, start_time=v["start_ms"] / 1000, end_time=v["end_ms"] / 1000))
            conn.execute(sa.insert(t.tags), tags)
            conn.execute(sa.insert(t.properties), props)
        store.log_metrics(metrics)
        print(f"  runyard: {min(runs, start + batch):,} of {runs:,} runs", end="\r", flush=True)
    long_run = store.create_run({"run_id": f"long_{uuid.uuid4().hex[:8]}", "experiment": "long",
                                 "run_type": "script", "status": "Running", "display_name": "long run"})["run_id"]
    for start in range(0, points, 100_000):
        store.log_metrics([{"run_id": long_run, "name": "loss", "kind": "scalar", "value_num": _wave(k),
                            "value_text": None, "logged_at": k, "step": k}
                           for k in range(start, min(points, start + 100_000))])
    print(f"  runyard: {runs:,} runs and {points:,} points stored      ", flush=True)
    if store.engine.dialect.name == "postgresql":  # statistics, as autovacuum would have them
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    store.engine.dispose()
    return long_run


def _wave(k: int) -> float:
    """The long metric (peers/mlflow_peer.py studio-populate uses the same)."""
    return ((k * 2654435761) % 1000) / 1000 + k / 1_000_000


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=REQUEST_LIMIT_S) as answer:
        return json.loads(answer.read())


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=REQUEST_LIMIT_S) as answer:
        return json.loads(answer.read())


class TooSlow(Exception):
    """A request past REQUEST_LIMIT_S."""


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median seconds of ``repeat`` calls after two untimed ones; the last answer. A call
    past REQUEST_LIMIT_S ends the measurement: ``TooSlow``."""
    answer = None
    times = []
    for n in range(2 + repeat):
        started = time.perf_counter()
        try:
            answer = call()
        except TimeoutError as e:
            raise TooSlow() from e
        if n >= 2:
            times.append(time.perf_counter() - started)
    return c.median(times), answer


RUNYARD_QUERIES = {
    "first page": {"experiment": EXPERIMENT, "limit": PAGE},
    "sorted": {"experiment": EXPERIMENT, "sort": "metric:loss", "descending": False, "limit": PAGE,
               "columns": ["loss", "acc"]},
    "filtered": {"experiment": EXPERIMENT, "status": ["Completed"], "tags": {"team": "a"},
                 "metrics": [{"name": "acc", "op": ">", "value": 0.9}], "limit": PAGE, "columns": ["acc"]},
}


def expected_filtered(runs: int) -> int:
    return sum(1 for i in range(runs) if not (v := run_values(i))["failed"] and v["team"] == "a" and v["acc"][-1] > 0.9)


def measure_runyard(store_url: str, folder: Path, runs: int, points: int, long_run: str, repeat: int) -> dict:
    port = c.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "runyard.cli", "server", "--store", store_url, "--artifacts", str(folder / "files"),
            "--port", str(port), "--no-scheduler"]
    out: dict[str, Any] = {}
    with c.http_server(argv, f"{url}/openapi.json", folder / "runyard-server.log", "runyard server"):
        for label, body in RUNYARD_QUERIES.items():
            # the page as the table asks for it (its rows first), then the count it asks beside it
            seconds, answer = timed(lambda: post(f"{url}/api/v1/runs/query", {**body, "total": False}), repeat)
            out[label] = seconds
            check_page(label, answer["runs"], answer["total"], runs, lambda r: r["run_id"], lambda r: r["display_name"])
            seconds, answer = timed(lambda: post(f"{url}/api/v1/runs/query", {**body, "limit": 0}), repeat)
            out[f"{label} count"] = seconds
            check_page(label, [], answer["total"], runs, None, None, count_only=True)
        seconds, series = timed(lambda: post(f"{url}/api/v1/metrics/series",
                                             {"run_ids": [long_run], "name": "loss", "points": 1000}), repeat)
        if series[0]["count"] != points or not 500 <= len(series[0]["value"]) <= 1000:
            raise c.BrokenRun(f"runyard's series: {series[0]['count']} points, {len(series[0]['value'])} kept")
        out["chart"] = seconds
        out["log latency"] = log_latency(url, folder / "files", long_run)
        out["browser"] = _studio_browser.measure(url, EXPERIMENT, browser_expectations(runs), long_run, points, repeat)
    return out


def browser_expectations(runs: int) -> dict[str, Any]:
    """What the runs table's pages show first, worked out from ``run_values``."""
    values = [run_values(i) for i in range(runs)]
    lowest = min(v["loss"][-1] for v in values)
    typed = [i for i in range(runs) if values[i]["team"] == "a" and values[i]["acc"][-1] > 0.9]
    selected = [i for i in typed if not values[i]["failed"]]
    return {"newest": values[-1]["name"], "other experiment": "long", "other newest": "long run",
            "lowest loss": [v["name"] for v in values if v["loss"][-1] == lowest],
            "typed count": len(typed), "failed first": values[max(i for i in typed if values[i]["failed"])]["name"],
            "filtered": values[max(selected)]["name"], "filtered count": len(selected)}


def check_page(label: str, page: list, total: int | None, runs: int, run_id: Callable | None, name: Callable | None,
               count_only: bool = False) -> None:
    """The page each side answers is the one the data makes (``count_only``: its total)."""
    if count_only:
        want = {"first page": runs, "sorted": runs, "filtered": expected_filtered(runs)}[label]
        if total != want:
            raise c.BrokenRun(f"{label}: the count is {total}, the data makes {want}")
        return
    names = [name(r) for r in page]
    if label == "first page":
        want = [run_values(i)["name"] for i in range(runs - 1, max(-1, runs - 1 - PAGE), -1)]
        ok = names == want and total in (None, runs)
    elif label == "sorted":
        best = sorted(range(runs), key=lambda i: run_values(i)["loss"][-1])[:PAGE]
        ok = sorted(run_values(i)["loss"][-1] for i in best) == sorted(
            run_values(int(n.split("-")[1]))["loss"][-1] for n in names)
    else:
        ok = (len(names) == min(PAGE, expected_filtered(runs)) and total in (None, expected_filtered(runs))
              and all((v := run_values(int(n.split("-")[1])))["team"] == "a" and v["acc"][-1] > 0.9 for n in names))
    if not ok:
        raise c.BrokenRun(f"{label}: the page does not hold the runs the data makes: {names[:5]}... (total {total})")


def log_latency(url: str, files: Path, run_id: str) -> float:
    """The median seconds from a line appended to a running run's log to a long-polling reader
    having it."""
    log = files / "runs" / run_id / "logs" / "driver.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    received: dict[int, float] = {}

    def read() -> None:
        offset, text = 0, ""
        while len(received) < LOG_LINES:
            chunk = get(f"{url}/api/v1/runs/{run_id}/logs/driver.log?offset={offset}&wait=10")
            offset, text = chunk["next_offset"], text + chunk["text"]
            while "\n" in text:
                line, text = text.split("\n", 1)
                received[int(line.split()[1])] = time.perf_counter()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    written = {}
    with open(log, "a") as out:
        for n in range(LOG_LINES):
            time.sleep(0.2)
            written[n] = time.perf_counter()
            out.write(f"line {n} of the live log\n")
            out.flush()
    reader.join(timeout=60)
    if len(received) < LOG_LINES:
        raise c.BrokenRun(f"the live log reader had {len(received)} of {LOG_LINES} lines after 60 s")
    return c.median([received[n] - written[n] for n in range(LOG_LINES)])


# -- MLflow's side ---------------------------------------------------------------------
MLFLOW_QUERIES = {
    "first page": {"max_results": PAGE, "order_by": ["attributes.start_time DESC"]},
    "sorted": {"max_results": PAGE, "order_by": ["metrics.loss ASC"]},
    "filtered": {"max_results": PAGE, "filter": "attributes.status = 'FINISHED' and metrics.acc > 0.9 and tags.team = 'a'",
                 "order_by": ["attributes.start_time DESC"]},
}


def measure_mlflow(store_url: str, folder: Path, runs: int, points: int, repeat: int) -> dict:
    populated = c.run_peer("studio-populate", "--uri", store_url, "--runs", str(runs), "--points", str(points),
                           timeout=7200)
    port = c.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(c.PEER_PYTHON.parent / "mlflow"), "server", "--backend-store-uri", store_url,
            "--default-artifact-root", str(folder / "mlflow-artifacts"), "--host", "127.0.0.1", "--port", str(port)]
    out: dict[str, Any] = {}
    with c.http_server(argv, f"{url}/health", folder / "mlflow-server.log", "mlflow server", env=c.peer_env(),
                       timeout=300):
        for label, body in MLFLOW_QUERIES.items():
            request = {"experiment_ids": [populated["experiment_id"]], **body}
            try:
                seconds, answer = timed(lambda: post(f"{url}/api/2.0/mlflow/runs/search", request), repeat)
            except TooSlow:
                print(f"  MLflow {label}: a request took over {REQUEST_LIMIT_S:.0f} s; counted as that", flush=True)
                out[label] = REQUEST_LIMIT_S
                out.setdefault("too slow", []).append(label)
                continue
            out[label] = seconds
            check_page(label, answer.get("runs", []), None, runs, lambda r: r["info"]["run_id"],
                       lambda r: r["info"]["run_name"])
        chart = (f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={populated['long_run']}"
                 f"&metric_key=loss&max_results=1000")
        try:
            seconds, answer = timed(lambda: get(chart), repeat)
            if not answer.get("metrics"):
                raise c.BrokenRun("MLflow's sampled history came back empty")
        except TooSlow:
            seconds = REQUEST_LIMIT_S
            out.setdefault("too slow", []).append("chart")
        out["chart"] = seconds
    return out


# -- the run ---------------------------------------------------------------------------
def main() -> None:
    p = c.base_parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs in the workspace (default 100,000; --quick 3,000)")
    p.add_argument("--points", type=int, default=None, help="values of the long metric (default 1,000,000; "
                                                            "--quick 100,000)")
    p.add_argument("--repeat", type=int, default=None, help="timed requests of each kind (default 10; --quick 3)")
    p.add_argument("--stores", default=None, help="sqlite,postgresql (default both; --quick sqlite)")
    args = p.parse_args()
    runs = args.runs or (3000 if args.quick else 100_000)
    points = args.points or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (3 if args.quick else 10)
    stores = (args.stores or ("sqlite" if args.quick else "sqlite,postgresql")).split(",")
    peer = not args.no_peer and c.peer_available()
    print(c.load_note("start"))
    results: dict[str, Any] = {"runs": runs, "points": points, "repeat": repeat, "stores": {}}
    with c.scratch(args.workdir, "bench-studio-") as folder:
        for kind in stores:
            print(f"{kind}: {runs:,} runs, a metric of {points:,} values", flush=True)
            results["stores"][kind] = measure_store(kind, folder / kind, runs, points, repeat, peer)
    report(results, peer)
    c.finish(results, args.json)


def measure_store(kind: str, folder: Path, runs: int, points: int, repeat: int, peer: bool) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        ours, theirs = f"sqlite:///{folder / 'runyard.db'}", f"sqlite:///{folder / 'mlflow.db'}"
        return measure_both(ours, theirs, folder, runs, points, repeat, peer)
    if kind != "postgresql":
        raise SystemExit(f"--stores: {kind!r} is not sqlite or postgresql")
    with c.postgres_server() as server:
        ours = server.create_database(f"runyard_{uuid.uuid4().hex[:8]}")
        # MLflow documents psycopg2 as its PostgreSQL driver; setup_peers.sh installs it
        theirs = server.create_database(f"mlflow_{uuid.uuid4().hex[:8]}").replace("postgresql://",
                                                                                  "postgresql+psycopg2://", 1)
        return measure_both(ours, theirs, folder, runs, points, repeat, peer)


def measure_both(ours: str, theirs: str, folder: Path, runs: int, points: int, repeat: int, peer: bool) -> dict:
    started = time.monotonic()
    long_run = populate_runyard(ours, runs, points)
    print(f"  runyard populated in {time.monotonic() - started:.0f} s", flush=True)
    out = {"runyard": measure_runyard(ours, folder, runs, points, long_run, repeat), "mlflow": None}
    if peer:
        out["mlflow"] = measure_mlflow(theirs, folder, runs, points, repeat)
    return out


def report(results: dict, peer: bool) -> None:
    """Per store, each request's server time, its time to drawn in the browser, and MLflow's
    server; the goals judge what the user sees: the browser's time (the server's when Chromium
    is missing, said so)."""
    for kind, figures in results["stores"].items():
        ours, theirs, seen = figures["runyard"], figures["mlflow"], figures["runyard"]["browser"]
        print(f"\n{kind}, {results['runs']:,} runs:")
        rows = []
        for label in (*RUNYARD_QUERIES, "chart"):
            shown = seen[label] if seen else ours[label]
            ratio = theirs[label] / shown if theirs else None
            over = ">" if theirs and label in theirs.get("too slow", []) else ""
            rows.append((label, c.fmt_s(ours[label]), c.fmt_s(seen[label] if seen else None),
                         over + c.fmt_s(theirs[label] if theirs else None), f"{over}{ratio:.1f}x" if ratio else "-"))
        print(c.table(["request", "runyard server", "runyard drawn in the browser", "MLflow server",
                       "MLflow / runyard"], rows))
        if seen:
            print(f"  the first page in a fresh tab (the page's scripts loaded first): {c.fmt_s(seen['fresh tab'])}")
        print("  the count a table asks for beside its rows: " + ", ".join(
            f"{label} {c.fmt_s(ours[f'{label} count'])}" for label in RUNYARD_QUERIES))
        print(f"  live log line latency (median of {LOG_LINES}): {c.fmt_s(ours['log latency'])}")
    print("\nGoals:")
    for kind, figures in results["stores"].items():
        ours, theirs, seen = figures["runyard"], figures["mlflow"], figures["runyard"]["browser"]
        where = "in the browser" if seen else "(server only: no chromium)"
        for label in RUNYARD_QUERIES:
            shown = seen[label] if seen else ours[label]
            print(c.goal_line(f"{kind} {label} {where} <= 300 ms", c.fmt_s(shown), "<= 300 ms",
                              shown <= GOAL_QUERY_S))
            ratio = theirs[label] / shown if theirs else None
            print(c.goal_line(f"{kind} {label} vs MLflow", f"{ratio:.1f}x" if ratio else "-", ">= 5x",
                              None if ratio is None else ratio >= GOAL_RATIO))
        if seen:
            print(c.goal_line(f"{kind} first page in a fresh tab <= 300 ms", c.fmt_s(seen["fresh tab"]), "<= 300 ms",
                              seen["fresh tab"] <= GOAL_QUERY_S))
        shown = seen["chart"] if seen else ours["chart"]
        print(c.goal_line(f"{kind} chart of {results['points']:,} points {where}", c.fmt_s(shown), "<= 500 ms",
                          shown <= GOAL_CHART_S))
        print(c.goal_line(f"{kind} live log latency", c.fmt_s(ours["log latency"]), "<= 1 s",
                          ours["log latency"] <= GOAL_LOG_S))
    if not peer:
        print("  (MLflow peer not measured: --no-peer, or run benchmarks/setup_peers.sh)")


if __name__ == "__main__":
    sys.exit(c.main_wrapper(main))
