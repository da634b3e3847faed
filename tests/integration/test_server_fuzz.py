"""The workspace server under a schema-driven fuzz run (schemathesis over its own OpenAPI):
requests that fit the schema and requests that break it, for every operation, with the
workspace token. No answer may be a 500, and nothing stored may fail the store's checks."""

from __future__ import annotations

import json
import time

import hypothesis
import pytest
import requests
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from runyard.store import checks
from runyard.store import schema as t
from runyard.store.sql import SqlStore
from server_service import start_server, stop_server

TOKEN = "fuzz-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 10  # per operation and mode: about a minute for each mode
MAX_HEAD_BYTES = 8 * 1024  # shorter request heads always get an answer


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-server")
    store_url = f"sqlite:///{folder}/ws.db"
    proc, url = start_server(store_url, folder / "artifacts", folder / "server.log", token=TOKEN)
    seeded = {"run_id": "fuzz_1", "experiment": "fuzz", "run_type": "interactive", "status": "Running"}
    requests.post(f"{url}/api/v1/runs", json={"row": seeded}, headers=AUTH, timeout=30).raise_for_status()
    yield url, store_url, folder
    stop_server(proc)


def operations(url: str):
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return schema, [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_request_gets_a_500(fuzzed, mode):
    url, _store_url, folder = fuzzed
    schema, ops = operations(url)
    assert len(ops) > 40
    failures: list[str] = []
    fuzzed_operations: set[str] = set()
    generation = schemathesis.GenerationMode(mode)
    for op in ops:
        fixed = {"run_id": "fuzz_1"} if "{run_id}" in op.path else None
        for path_parameters in (None, fixed) if fixed else (None,):
            strategy = op.as_strategy(generation_mode=generation, path_parameters=path_parameters)

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @hypothesis.given(case=strategy)
            def call(case):
                try:
                    response = case.call(base_url=url, headers=AUTH, timeout=30)
                except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as e:
                    # A request head past the server's limit (h11's 16 KiB) is cut off unanswered:
                    # resources stay bounded. A short one must get an answer.
                    if len(case.formatted_path) + len(str(case.query)) < MAX_HEAD_BYTES:
                        failures.append(f"{case.method} {case.formatted_path}: no answer ({type(e).__name__}) "
                                        f"(query {str(case.query)[:200]})")
                    return
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                    f"{response.text[:200]} (query {case.query}, body {str(case.body)[:200]})")

            try:
                call()
                fuzzed_operations.add(f"{op.method} {op.path}")
            except hypothesis.errors.Unsatisfiable:  # nothing of it can break the schema (no parameters)
                continue
    assert len(fuzzed_operations) > 30, sorted(fuzzed_operations)
    log = (folder / "server.log").read_text()
    assert not failures, "\n".join(failures[:20]) + "\n" + log[-3000:]
    assert "Traceback" not in log, log[-3000:]


def test_nothing_stored_fails_the_stores_checks(fuzzed):
    """After the fuzzing above, every stored run, metric and tag still reads back and passes the
    checks a write must pass: nothing unchecked got in."""
    _url, store_url, _folder = fuzzed
    store = SqlStore(store_url)
    with store.engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(sa.select(t.runs)).mappings()]
        metrics = [dict(r) for r in conn.execute(sa.select(t.metrics)).mappings()]
        tag_rows = [dict(r) for r in conn.execute(sa.select(t.tags)).mappings()]
    assert runs, "the fuzz run stored no run at all: it did not reach the store"
    for row in runs:
        checks.new_run({k: v for k, v in row.items() if k in checks.CREATE_FIELDS and v is not None})
        assert isinstance(row["run_number"], int) and row["created_at"] <= time.time()
    for row in metrics:
        checks.metric_row({k: v for k, v in row.items() if k != "id"}, "stored")
    for row in tag_rows:
        checks.key_values({row["key"]: row["value"]}, "tags")
    for row in runs:
        if row["definition"]:
            json.loads(row["definition"])
    store.close()
