"""The workspace server under load and under lost answers: many job processes at once, and
writes whose answer never reaches the client, which then sends them again with the same
Idempotency-Key. Nothing may be lost and nothing stored twice.

test_server.py already covers the plain cases (8 jobs logging one metric each, a key sent
twice with both answers received); here every answer may be dropped on the way back by a
proxy between the clients and a real ``runyard server`` on PostgreSQL.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from runyard import Experiment, Workspace
from runyard.store import schema
from runyard.store.http import HttpStore
from server_service import server_env, start_server, stop_server

pytestmark = pytest.mark.postgres

JOBS = 8
METRICS_PER_JOB = 5000
NAMES = ("loss", "accuracy", "lr", "grad_norm")
# Every job logs value(job, k) under NAMES[k % 4]; it waits for a line on stdin first so
# that all of them log at the same time.
JOB_SCRIPT = """\
import sys
from runyard import Run
job, count, names = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
run = Run.get_context(allow_offline=False)
print("ready", flush=True)
sys.stdin.readline()
for k in range(count):
    run.log(names[k % len(names)], job * 1_000_000 + k + 0.5)
"""
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"})


class AnswerDroppingProxy:
    """An HTTP proxy in front of the server. It forwards every request and waits for the
    server's whole answer; for the requests ``drop(method, path, key)`` picks it then closes
    the client's connection instead of passing the answer on: the write was applied, but the
    client cannot know."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self.drop: Callable[[str, str, str | None], bool] = lambda method, path, key: False
        self.forwarded: list[tuple[str, str, str | None, int]] = []  # method, path, key, status
        self.dropped: list[str | None] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60  # an idle keep-alive connection ends

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                status, headers, data = proxy._send_upstream(self.command, self.path, self.headers, body)
                key = self.headers.get("Idempotency-Key")
                with proxy._lock:
                    proxy.forwarded.append((self.command, self.path, key, status))
                    dropping = proxy.drop(self.command, self.path, key)
                    if dropping:
                        proxy.dropped.append(key)
                if dropping:
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def _send_upstream(self, method, path, headers, body):
        conn = http.client.HTTPConnection(*self._upstream, timeout=120)
        try:
            conn.request(method, path, body=body, headers={
                k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}})
            answer = conn.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            conn.close()

    def drop_first_answer_of_each_key(self, method: str, path: str, every: int = 1) -> None:
        """Drop the answer to the first try of every ``every``-th new key sent to ``path``."""
        seen: set[str | None] = set()

        def drop(m: str, p: str, key: str | None) -> bool:
            if m != method or p != path or key in seen:
                return False
            seen.add(key)
            return len(seen) % every == 0

        self.drop = drop

    def tries(self, key: str) -> list[int]:
        """The server's status for each time a request with ``key`` came through."""
        return [status for _m, _p, k, status in self.forwarded if k == key]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Served:
    url: str
    store_url: str
    proxy: AnswerDroppingProxy


@pytest.fixture(scope="module")
def served(postgres, tmp_path_factory):
    folder = tmp_path_factory.mktemp("load-server")
    store_url = postgres.create_database(f"load_{uuid.uuid4().hex[:12]}")
    proc, url = start_server(store_url, folder / "artifacts", folder / "server.log")
    proxy = AnswerDroppingProxy(url)
    yield Served(url, store_url, proxy)
    proxy.close()
    stop_server(proc)


@pytest.fixture
def proxy(served):
    served.proxy.drop = lambda method, path, key: False
    served.proxy.forwarded.clear()
    served.proxy.dropped.clear()
    return served.proxy


@pytest.fixture
def exp(served) -> Experiment:
    return Experiment(Workspace.get(served.url), f"load_{uuid.uuid4().hex[:8]}")


def _stored_counts(store_url: str, run_ids: list[str]) -> dict[str, int]:
    """Metric rows per run, counted in the database itself."""
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.metrics.c.run_id, sa.func.count())
                                .where(schema.metrics.c.run_id.in_(run_ids)).group_by(schema.metrics.c.run_id))
            return {run_id: count for run_id, count in rows}
    finally:
        engine.dispose()


def _applied_keys(store_url: str, key: str) -> int:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(schema.applied_requests)
                                .where(schema.applied_requests.c.key == key)).scalar()
    finally:
        engine.dispose()


def _rows(run_id: str, values: list[float]) -> list[dict]:
    return [{"run_id": run_id, "name": "m", "kind": "scalar", "value_num": v, "value_text": None,
             "logged_at": time.time()} for v in values]


def test_eight_jobs_at_once_lose_nothing_when_answers_are_dropped(exp, served, proxy, tmp_path):
    """8 job processes log 5,000 values each over 4 names at the same time, through the
    proxy, which drops the answer to every third batch of metrics after the server stored
    it: each job's client sends that batch again, and each run ends up with exactly its
    5,000 values, in order."""
    proxy.drop_first_answer_of_each_key("POST", "/api/v1/metrics", every=3)
    script = tmp_path / "job.py"
    script.write_text(JOB_SCRIPT)
    runs = [exp.start_logging(display_name=f"worker-{i}") for i in range(JOBS)]
    errors = [tmp_path / f"job{i}.err" for i in range(JOBS)]
    procs = []
    try:
        for i, run in enumerate(runs):
            with open(errors[i], "w") as err:
                procs.append(subprocess.Popen(
                    [sys.executable, str(script), str(i), str(METRICS_PER_JOB), ",".join(NAMES)],
                    env=dict(server_env(), RUNYARD_RUN_ID=run.id, RUNYARD_TRACKING_URI=proxy.url), text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=err))
        for i, proc in enumerate(procs):
            assert proc.stdout.readline().strip() == "ready", errors[i].read_text()
        for proc in procs:  # all start logging at once
            proc.stdin.write("go\n")
            proc.stdin.close()
        for i, proc in enumerate(procs):
            assert proc.wait(timeout=600) == 0, errors[i].read_text()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                pipe.close()

    assert len(proxy.dropped) >= JOBS  # each job sends at least 5 batches; a third of them lost their answer
    for key in proxy.dropped:
        assert proxy.tries(key)[:2] == [200, 200], "a dropped batch was sent again with its key"
    counts = _stored_counts(served.store_url, [r.id for r in runs])
    assert counts == {r.id: METRICS_PER_JOB for r in runs}
    for job, run in enumerate(runs):
        expected: dict[str, list[float]] = {name: [] for name in NAMES}
        for k in range(METRICS_PER_JOB):
            expected[NAMES[k % len(NAMES)]].append(job * 1_000_000 + k + 0.5)
        assert run.get_metrics() == expected, f"run {run.id} of job {job}"


def test_a_write_sent_again_after_its_answer_was_dropped_is_applied_once(exp, served, proxy):
    run = exp.start_logging()
    key = uuid.uuid4().hex
    body = {"rows": _rows(run.id, [0.0, 1.0, 2.0])}
    proxy.drop = lambda method, path, k: k == key and not proxy.dropped
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{proxy.url}/api/v1/metrics", json=body, headers={"Idempotency-Key": key}, timeout=30)
    assert proxy.dropped == [key] and proxy.tries(key) == [200]  # applied; the client never heard
    assert run.get_metrics() == {"m": [0.0, 1.0, 2.0]}

    again = requests.post(f"{proxy.url}/api/v1/metrics", json=body, headers={"Idempotency-Key": key}, timeout=30)
    assert again.status_code == 200 and again.json() == {"logged": 3}
    direct = requests.post(f"{served.url}/api/v1/metrics", json=body, headers={"Idempotency-Key": key}, timeout=30)
    assert direct.status_code == 200 and direct.json() == {"logged": 3}
    assert run.get_metrics() == {"m": [0.0, 1.0, 2.0]}
    assert _stored_counts(served.store_url, [run.id]) == {run.id: 3}
    assert _applied_keys(served.store_url, key) == 1


def test_the_client_retries_a_dropped_answer_with_the_same_key(exp, served, proxy):
    """HttpStore, as jobs use it: the lost answer is a connection error, the retry carries the
    same key, and the call returns the first answer as if nothing happened."""
    run = exp.start_logging()
    store = HttpStore(proxy.url)
    try:
        proxy.drop_first_answer_of_each_key("POST", "/api/v1/metrics")
        store.log_metrics(_rows(run.id, [float(i) for i in range(1000)]))
        (key,) = proxy.dropped
        assert proxy.tries(key) == [200, 200]

        proxy.drop_first_answer_of_each_key("POST", "/api/v1/runs")
        row = store.create_run({"run_id": f"{exp.name}_dropped", "experiment": exp.name,
                                "run_type": "interactive", "status": "Running"})
        assert len(proxy.dropped) == 2 and proxy.tries(proxy.dropped[1]) == [200, 200]
    finally:
        store.close()
    assert run.get_metrics()["m"] == [float(i) for i in range(1000)]
    assert _stored_counts(served.store_url, [run.id]) == {run.id: 1000}
    assert [r.id for r in exp.get_runs()] == [row["run_id"], run.id]
    assert row["run_number"] == 2


def test_one_key_sent_many_times_at_once_is_applied_once(exp, served):
    """Retries that overlap (a client timed out while the server was still writing) race for
    the key in PostgreSQL: one write stands, every answer is the same."""
    run = exp.start_logging()
    key = uuid.uuid4().hex
    body = {"rows": _rows(run.id, [float(i) for i in range(500)])}
    start = threading.Barrier(JOBS)
    answers: list[requests.Response] = []

    def send() -> None:
        with requests.Session() as session:
            start.wait()
            answers.append(session.post(f"{served.url}/api/v1/metrics", json=body,
                                        headers={"Idempotency-Key": key}, timeout=60))

    threads = [threading.Thread(target=send) for _ in range(JOBS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"logged": 500})] * JOBS
    assert _stored_counts(served.store_url, [run.id]) == {run.id: 500}
    assert run.get_metrics()["m"] == [float(i) for i in range(500)]
    assert _applied_keys(served.store_url, key) == 1
