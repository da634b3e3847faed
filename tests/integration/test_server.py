"""The workspace server (``runyard server``) on PostgreSQL, driven through the Python API
(``Workspace.get("http://...")``), from job processes, and with raw HTTP requests."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from runyard import CondaDependencies, Environment, Experiment, ScriptRunConfig, Workspace
from runyard.errors import ConfigError, NotFoundError
from runyard.store import schema
from runyard.store.sql import SqlStore
from series_reference import expected_series
from server_service import free_port, served_on_postgres, server_env

pytestmark = pytest.mark.postgres

TOKEN = "s3cret-token-for-the-tests"


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """A server on a fresh PostgreSQL database, without a token (loopback)."""
    yield from served_on_postgres(postgres, tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def token_server(postgres, tmp_path_factory):
    yield from served_on_postgres(postgres, tmp_path_factory.mktemp("token-server"), token=TOKEN)


@pytest.fixture
def ws(server) -> Workspace:
    return Workspace.get(server)


@pytest.fixture
def exp(ws) -> Experiment:
    return Experiment(ws, f"exp_{uuid.uuid4().hex[:8]}")


def test_openapi_schema_lists_the_api(server):
    paths = requests.get(f"{server}/openapi.json", timeout=10).json()["paths"]
    for path in ("/api/v1/runs", "/api/v1/runs/{run_id}", "/api/v1/runs/{run_id}/status",
                 "/api/v1/metrics", "/api/v1/runs/{run_id}/files", "/api/v1/environments",
                 "/api/v1/experiments", "/api/v1/compute-targets"):
        assert path in paths, path


def test_workspace_get_opens_the_served_workspace(ws, server):
    assert ws.name == "served" and ws.url == server and ws.path is None
    assert ws._store.schema_version() == schema.LATEST_VERSION
    assert Workspace(server) == ws


def test_interactive_run_logs_through_the_server(exp, tmp_path):
    run = exp.start_logging(display_name="first", tags={"team": "a"})
    run.log("accuracy", 0.9)
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log("epochs", 3)
    run.log_list("folds", [0.1, 0.2])
    run.log_row("curve", epoch=1, loss=0.5)
    run.log_row("curve", epoch=2, loss=0.25)
    run.log_table("table", {"x": [1, 2], "y": [10, 20]})
    run.tag("phase", "train")
    run.set_tags({"gone": "soon"})
    run.remove_tags(["gone"])
    run.add_properties({"seed": 7})
    run.add_properties({"seed": 7})  # the same value again is fine
    with pytest.raises(ConfigError, match="property 'seed'.*cannot change"):
        run.add_properties({"seed": 8})

    source = tmp_path / "model.bin"
    source.write_bytes(b"\x00weights\xff" * 1000)
    assert run.upload_file("outputs/model.bin", str(source)) == "outputs/model.bin"
    folder = tmp_path / "assets"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    assert run.upload_folder("assets", folder) == ["assets/a.txt", "assets/sub/b.txt"]
    assert run.get_file_names() == ["assets/a.txt", "assets/sub/b.txt", "outputs/model.bin"]
    got = run.download_file("outputs/model.bin", tmp_path / "download" / "m.bin")
    assert Path(got).read_bytes() == source.read_bytes()
    written = run.download_files(prefix="assets", output_directory=tmp_path / "all")
    assert sorted(Path(p).read_text() for p in written) == ["a", "b"]

    child = run.child_run("fold-1")
    child.log("score", 0.7)
    child.complete()
    open_child = run.child_run("left-open")
    run.complete()

    assert run.get_metrics() == {
        "accuracy": 0.9, "loss": [0.5, 0.25], "epochs": 3, "folds": [0.1, 0.2],
        "curve": {"epoch": [1, 2], "loss": [0.5, 0.25]}, "table": {"x": [1, 2], "y": [10, 20]}}
    assert run.get_tags() == {"team": "a", "phase": "train"}
    assert run.get_properties() == {"seed": "7"}
    assert run.get_status() == "Completed"
    assert open_child.get_status() == "Completed"  # ended with its parent
    assert [c.display_name for c in run.get_children()] == ["fold-1", "left-open"]
    assert run.get_metrics(recursive=True)[child.id] == {"score": 0.7}
    details = run.get_details()
    assert [e["status"] for e in details["statusHistory"]] == ["Running", "Completed"]
    # a terminal run does not change any more
    assert exp.workspace._store.set_status(run.id, "Failed") is False
    assert Workspace.get(exp.workspace.url).get_run(run.id).get_status() == "Completed"


def test_get_runs_filters(exp):
    done = exp.start_logging(tags={"kind": "a"})
    done.complete()
    failed = exp.start_logging(tags={"kind": "b"})
    failed.fail("broke")
    running = exp.start_logging(tags={"kind": "b", "extra": "x"})
    running.add_properties({"owner": "me"})
    running.child_run("kid")
    assert [r.id for r in exp.get_runs()] == [running.id, failed.id, done.id]
    assert [r.id for r in exp.get_runs(tags={"kind": "b"})] == [running.id, failed.id]
    assert [r.id for r in exp.get_runs(tags="extra")] == [running.id]
    assert [r.id for r in exp.get_runs(status="Failed")] == [failed.id]
    assert [r.id for r in exp.get_runs(properties={"owner": "me"})] == [running.id]
    assert len(list(exp.get_runs(include_children=True))) == 4
    assert exp.name in exp.workspace.experiments
    assert failed.get_details()["error"] == {"message": "broke"}


def test_environments_register_and_get(ws):
    name = f"env_{uuid.uuid4().hex[:8]}"
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six==1.16.0"])
    assert env.register(ws).version == "1"
    assert env.register(ws).version == "1"
    other = Environment(name)
    other.python.conda_dependencies = CondaDependencies.create(pip_packages=["six==1.15.0"])
    assert other.register(ws).version == "2"
    assert Environment.get(ws, name).python.conda_dependencies.pip_packages == ["six==1.15.0"]
    assert Environment.get(ws, name, version=1).hash == env.hash
    assert ws.environments[name].version == "2"
    with pytest.raises(NotFoundError, match="not registered"):
        Environment.get(ws, "no-such-env")


def test_a_script_run_submitted_through_the_server(exp, ws, server, tmp_path):
    """Submitting to a served workspace: the source goes to the server, the job logs to it over
    HTTP, and its outputs and logs end up there too."""
    (tmp_path / "train.py").write_text(
        "import os\nfrom runyard import Run\nrun = Run.get_context()\nrun.log('loss', 0.25)\n"
        "os.makedirs('outputs', exist_ok=True)\nopen('outputs/model.txt', 'w').write('weights')\n"
        "print('tracking', os.environ['RUNYARD_TRACKING_URI'])\n")
    run = exp.submit(ScriptRunConfig(str(tmp_path), script="train.py"))
    details = run.wait_for_completion(timeout=120)
    assert details["status"] == "Completed", details
    assert run.get_metrics() == {"loss": 0.25}
    assert {"outputs/model.txt", "logs/driver.log"} <= set(run.get_file_names())
    run.download_file("logs/driver.log", str(tmp_path / "driver.log"))
    assert f"tracking {server}" in (tmp_path / "driver.log").read_text()
    snapshot = requests.get(f"{server}/api/v1/snapshots/{details['snapshotId']}", timeout=10)
    assert snapshot.status_code == 200 and snapshot.json()["size"] > 0


JOB_LOGGER = """\
import sys
from runyard import Run
run = Run.get_context()
count = int(sys.argv[1])
for i in range(count):
    run.log("step", i)
run.log_row("summary", logged=count)
"""


def _job_env(url: str, run_id: str) -> dict[str, str]:
    return dict(server_env(), RUNYARD_RUN_ID=run_id, RUNYARD_TRACKING_URI=url)


def test_job_side_logger_sends_every_metric(exp, server, tmp_path):
    run = exp.start_logging()
    script = tmp_path / "job.py"
    script.write_text(JOB_LOGGER)
    done = subprocess.run([sys.executable, str(script), "2000"], env=_job_env(server, run.id),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    metrics = run.get_metrics()
    assert metrics["step"] == list(range(2000))
    assert metrics["summary"] == {"logged": [2000]}


def test_concurrent_job_processes_lose_nothing(exp, server, tmp_path):
    script = tmp_path / "job.py"
    script.write_text(JOB_LOGGER)
    runs = [exp.start_logging(display_name=f"worker-{i}") for i in range(8)]
    procs = [subprocess.Popen([sys.executable, str(script), "5000"], env=_job_env(server, r.id),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for r in runs]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    for run in runs:
        assert run.get_metrics("step")["step"] == list(range(5000))


def test_a_retried_write_is_applied_once(exp, server):
    run = exp.start_logging()
    rows = [{"run_id": run.id, "name": "m", "kind": "scalar", "value_num": float(i), "value_text": None,
             "logged_at": time.time()} for i in range(3)]
    key = uuid.uuid4().hex
    for _ in range(2):
        answer = requests.post(f"{server}/api/v1/metrics", json={"rows": rows},
                               headers={"Idempotency-Key": key}, timeout=30)
        assert answer.status_code == 200 and answer.json() == {"logged": 3}
    assert run.get_metrics()["m"] == [0.0, 1.0, 2.0]
    requests.post(f"{server}/api/v1/metrics", json={"rows": rows},
                  headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30).raise_for_status()
    assert len(run.get_metrics()["m"]) == 6  # another key is another write

    # the first answer comes back, not a second run
    row = {"run_id": f"{exp.name}_retried", "experiment": exp.name, "run_type": "interactive",
           "status": "Running"}
    key = uuid.uuid4().hex
    first, second = (requests.post(f"{server}/api/v1/runs", json={"row": row},
                                   headers={"Idempotency-Key": key}, timeout=30) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()


def test_wrong_or_missing_token_is_refused_and_writes_nothing(token_server, tmp_path):
    row = {"run_id": "tok_run", "experiment": "tok", "run_type": "interactive", "status": "Running"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = requests.post(f"{token_server}/api/v1/runs", json={"row": row}, headers=headers, timeout=30)
        assert answer.status_code == 401, headers
        assert "token" in answer.json()["message"]
    with pytest.raises(ConfigError, match="refused the token"):
        Workspace.get(token_server, token="wrong")
    ws = Workspace.get(token_server, token=TOKEN)
    assert ws._store.get_run("tok_run") is None and ws.experiments == {}
    run = Experiment(ws, "tok").start_logging()
    run.log("ok", 1)
    run.complete()
    assert run.get_metrics() == {"ok": 1}
    # the job side reads the token from RUNYARD_TOKEN
    script = tmp_path / "job.py"
    script.write_text(JOB_LOGGER)
    child = run.child_run("job")
    done = subprocess.run([sys.executable, str(script), "10"],
                          env=dict(_job_env(token_server, child.id), RUNYARD_TOKEN=TOKEN),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert child.get_metrics()["step"] == list(range(10))


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "..\\x", "outputs/..\\..\\x"])
def test_artifact_names_outside_the_run_are_refused(exp, server, name):
    run = exp.start_logging()
    answer = requests.put(f"{server}/api/v1/runs/{run.id}/files", params={"name": name}, data=b"x", timeout=30)
    assert answer.status_code == 400 and "relative path inside the run" in answer.json()["message"]
    answer = requests.get(f"{server}/api/v1/runs/{run.id}/files/content", params={"name": name}, timeout=30)
    assert answer.status_code == 400
    with pytest.raises(ConfigError, match="relative path inside the run"):
        run.upload_file(name, __file__)
    assert run.get_file_names() == []


def test_errors_map_to_statuses(exp, server):
    run = exp.start_logging()
    base = f"{server}/api/v1"
    missing = requests.get(f"{base}/runs/no-such-run", timeout=30)
    assert missing.status_code == 404 and "no-such-run" in missing.json()["message"]
    requests.post(f"{base}/runs/{run.id}/properties", json={"properties": {"p": 1}}, timeout=30).raise_for_status()
    conflict = requests.post(f"{base}/runs/{run.id}/properties", json={"properties": {"p": 2}}, timeout=30)
    assert conflict.status_code == 409 and "cannot change" in conflict.json()["message"]
    bad = requests.patch(f"{base}/runs/{run.id}", json={"fields": {"no_such_field": 1}}, timeout=30)
    assert bad.status_code == 422 and "no_such_field" in bad.json()["message"]
    too_big = requests.post(f"{base}/metrics", data=b"{" + b" " * (16 * 1024 * 1024 + 1) + b"}",
                            headers={"Content-Type": "application/json"}, timeout=60)
    assert too_big.status_code == 413
    assert Workspace.get(server).get_run(run.id).get_properties() == {"p": "1"}


def test_compute_targets_are_stored_on_the_server(ws):
    store = ws._store
    store.save_compute_target("gpu-box", "docker", {"memory": "4g"})
    assert {"name": "gpu-box", "type": "docker"}.items() <= store.list_compute_targets()[0].items()
    assert store.delete_compute_target("gpu-box") is True
    assert store.delete_compute_target("gpu-box") is False


def test_unreachable_server_names_the_address():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NotFoundError, match=f"no runyard workspace server answers at {url}"):
        Workspace.get(url)


def test_a_public_address_needs_a_token(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "server", "--store", f"sqlite:///{tmp_path}/ws.db",
                           "--artifacts", str(tmp_path / "art"), "--host", "0.0.0.0", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120, env=server_env())
    assert done.returncode != 0
    assert "--token" in done.stderr
    assert not (tmp_path / "ws.db").exists()


def _old_curve(i: int) -> float:
    return float((i * 7919) % 5003)


def _v1_store(url: str) -> None:
    """A store as runyard left it before migration 2: only migration 1 applied, one run."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        version, migrate = schema.MIGRATIONS[0]
        assert version == 1
        migrate(conn)
        conn.exec_driver_sql("DROP INDEX ix_metrics_series")  # made by today's table shapes,
        conn.exec_driver_sql("ALTER TABLE metrics DROP COLUMN seq")  # unknown to version 1
        conn.execute(sa.insert(schema.schema_version).values(version=1))
        conn.execute(sa.insert(schema.experiments).values(name="old", created_at=1.0))
        conn.execute(sa.insert(schema.runs).values(
            run_id="old_1", experiment="old", run_number=1, run_type="interactive", status="Completed",
            created_at=1.0))
        for value in (3.0, 2.0):
            conn.execute(sa.insert(schema.metrics).values(run_id="old_1", name="loss", kind="scalar",
                                                          value_num=value, logged_at=2.0))
        conn.execute(sa.insert(schema.metrics), [  # a long series, with a text scalar among its numbers
            {"run_id": "old_1", "name": "curve", "kind": "scalar", "value_num": None if i == 70 else _old_curve(i),
             "value_text": '"note"' if i == 70 else None, "logged_at": 2.0} for i in range(5001)])
    with engine.connect() as conn:
        assert "applied_requests" not in sa.inspect(conn).get_table_names()
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_later_migrations_apply_to_a_v1_store(backend, postgres, tmp_path):
    url = f"sqlite:///{tmp_path}/v1.db" if backend == "sqlite" else \
        postgres.create_database(f"v1_{uuid.uuid4().hex[:12]}")
    _v1_store(url)
    store = SqlStore(url)
    assert store.schema_version() == schema.LATEST_VERSION == 7
    # v5 kept each metric's latest value: the one logged last before the migration
    assert store.query_runs(columns=["loss"])["metrics"] == {"old_1": {"loss": 2.0}}
    # v7 numbered each series and built its blocks: a chart reads them as one logged today
    curve = [_old_curve(i) for i in range(5001) if i != 70]
    store.log_metrics([{"run_id": "old_1", "name": "curve", "kind": "scalar", "value_num": v, "value_text": None,
                        "logged_at": 3.0} for v in (-1.0, 9999.0)])
    curve += [-1.0, 9999.0]
    series = store.metric_series(["old_1"], "curve", points=100)[0]
    assert series["count"] == 5002 and series["i"] == expected_series(curve, 100) and series["i"][-1] == 5001
    assert store.metric_series(["old_1"], "curve", points=20, start=64, end=4200)[0]["i"] == expected_series(
        curve, 20, 64, 4200)
    assert store.metric_names("old_1") == [  # (first logged at the same time: by name)
        {"name": "curve", "kind": "scalar", "count": 5003, "latest": 9999.0},
        {"name": "loss", "kind": "scalar", "count": 2, "latest": 2.0}]
    assert {"applied_requests", "assets", "lineage", "schedule_firings"} <= set(
        sa.inspect(store.engine).get_table_names())
    assert {"ix_runs_experiment_order", "ix_runs_parent_order", "ix_runs_order"} <= {
        index["name"] for index in sa.inspect(store.engine).get_indexes("runs")}
    assert store.get_run("old_1")["status"] == "Completed"
    assert store.apply_once("k1", lambda: store.create_run(
        {"run_id": "old_2", "experiment": "old", "run_type": "interactive", "status": "Running"})
    )["run_number"] == 2
    assert store.apply_once("k1", lambda: pytest.fail("applied twice"))["run_id"] == "old_2"
    store.close()
    if backend == "sqlite":  # and a workspace folder on that store opens as before
        ws = Workspace.create(tmp_path / "ws", store_url=url)
        assert ws.get_run("old_1").get_status() == "Completed"
