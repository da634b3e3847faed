"""``runyard workspace migrate``: a workspace folder with real runs copied into PostgreSQL (and
SQLite) plus an artifacts folder, then read back directly and through a real ``runyard server``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from runyard import CondaDependencies, Environment, Experiment, ScriptRunConfig, Workspace
from runyard import migrate as migration
from runyard import status as st
from runyard.compute.docker import DockerCompute
from runyard.errors import ConfigError, NotFoundError
from runyard.migrate import MigrationError, migrate_workspace
from runyard.store import schema
from server_service import free_port

TRAIN = """\
import os
from runyard import Run
run = Run.get_context()
for step in range(4):
    run.log("loss", 1.0 / (step + 1))
run.log("name", "ridge")
run.log_list("fold_scores", [0.5, 0.75])
run.log_row("curve", epoch=1, loss=0.5)
run.log_table("table", {"x": [1, 2], "y": [10, 20]})
run.tag("stage", "dev")
run.add_properties({"seed": 7})
with run.child_run("fold-1") as child:
    child.log("score", 0.9)
    child.tag("fold", "1")
os.makedirs("outputs/model", exist_ok=True)
with open("outputs/model/weights.bin", "wb") as fh:
    fh.write(bytes(range(256)) * 40)
with open("outputs/summary.txt", "w") as fh:
    fh.write("ok\\n")
print("trained", flush=True)
"""

FAIL = """\
import sys
from runyard import Run
Run.get_context().log("before", 1)
sys.exit(3)
"""

API = "/api/v1"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Workspace:
    """A workspace folder with a completed run (and its child), a failed run, an interactive
    run with an uploaded file, two versions of an environment and a Docker target."""
    root = tmp_path_factory.mktemp("source")
    project = root / "project"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    (project / "fail.py").write_text(FAIL)
    ws = Workspace.create(root / "project" / ".runyard")
    experiment = Experiment(ws, "migrate-me")
    trained = experiment.submit(ScriptRunConfig(str(project), script="train.py"), tags={"team": "a"})
    failed = experiment.submit(ScriptRunConfig(str(project), script="fail.py"))
    assert trained.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED, trained.get_details()
    assert failed.wait_for_completion(raise_on_error=False)["status"] == st.FAILED
    notebook = Experiment(ws, "notebook").start_logging(display_name="by hand")
    notebook.log("accuracy", 0.91)
    notebook.upload_file("notes/readme.md", io.BytesIO(b"# notes\n"))
    notebook.complete()
    environment = Environment("sk")
    environment.register(ws)
    environment.python.conda_dependencies = CondaDependencies.create(pip_packages=["six"])
    environment.register(ws)
    ws.compute_targets.attach("gpu-box", DockerCompute(cpus=2, memory="4g"))
    # assets: a model with files of its own, one kept with its run, a dataset, lineage, a firing
    from runyard import Dataset, Model
    (root / "model.pkl").write_bytes(b"model bytes")
    Model.register(ws, str(root / "model.pkl"), "from-file", tags={"k": "v"})
    trained.register_model("from-run", "outputs/model/weights.bin")
    (root / "data.csv").write_text("a,b\n1,2\n")
    table = Dataset.Tabular.from_delimited_files(str(root / "data.csv")).register(ws, "table")
    ws._store.record_lineage(trained.id, "input", "dataset", table.name, table.version, label="train")
    ws._store.claim_firing("schedule-1", "2026-11-27T00:00:00+00:00")
    return ws


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request, tmp_path: Path) -> tuple[str, Path]:
    """(database URL, artifacts folder) of an empty target."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"mig_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite:///{tmp_path / 'target.db'}"
    return url, tmp_path / "files"


def contents(url: str) -> dict[str, dict]:
    """Every table of a store: rows by primary key, and per-run rows in the order written
    (the surrogate ids, numbered by each database, left out)."""
    engine = sa.create_engine(url)
    found: dict[str, dict] = {}
    try:
        with engine.connect() as conn:
            for table in (schema.experiments, schema.runs, schema.tags, schema.properties,
                          schema.environments, schema.compute_targets, schema.assets, schema.schedule_firings,
                          schema.latest_metrics, schema.metric_blocks):
                found[table.name] = {tuple(r[c.name] for c in table.primary_key.columns): dict(r)
                                     for r in conn.execute(sa.select(table)).mappings()}
            for table in (schema.status_events, schema.metrics, schema.lineage):
                columns = [c for c in table.columns if c.name != "id"]
                per_run: dict[str, list] = {}
                for row in conn.execute(sa.select(*columns).order_by(table.c.id)).mappings():
                    per_run.setdefault(row["run_id"], []).append(dict(row))
                found[table.name] = per_run
    finally:
        engine.dispose()
    return found


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_everything_is_copied_and_equal(source, target):
    url, artifacts = target
    summary = migrate_workspace(source.path, url, artifacts)

    copied = contents(url)
    assert copied == contents(source.store_url)
    run_ids = set(copied["runs"])
    assert len(run_ids) == 4 and any(r["parent_id"] for r in copied["runs"].values())
    assert {r["status"] for r in copied["runs"].values()} == {st.COMPLETED, st.FAILED}
    assert [(k[0], k[1]) for k in copied["environments"]] == [("sk", 1), ("sk", 2)]
    assert list(copied["compute_targets"]) == [("gpu-box",)]

    assert {(k[0], k[1]) for k in copied["assets"]} == {("model", "from-file"), ("model", "from-run"),
                                                        ("dataset", "table")}
    assert sum(map(len, copied["lineage"].values())) == 2 and list(copied["schedule_firings"]) == [
        ("schedule-1", "2026-11-27T00:00:00+00:00")]
    source_files = files_under(source._artifacts.root / "runs")
    assert files_under(artifacts / "runs") == source_files
    assert any(name.endswith("outputs/model/weights.bin") for name in source_files)
    assert any(name.endswith("/model.pkl") for name in source_files)  # the registered model's own file
    assert any(name.endswith("notes/readme.md") for name in source_files)
    snapshots = files_under(source.snapshots_dir)
    assert snapshots and files_under(artifacts / "snapshots") == snapshots

    assert summary.copied == {
        "experiments": 2, "environments": 2, "compute_targets": 1, "runs": 4,
        "status_events": sum(len(v) for v in copied["status_events"].values()),
        "metrics": sum(len(v) for v in copied["metrics"].values()),
        "tags": len(copied["tags"]), "properties": len(copied["properties"]),
        "files": len(source_files), "snapshots": len(snapshots), "assets": len(copied["assets"]),
        "lineage": sum(len(v) for v in copied["lineage"].values()),
        "schedule_firings": len(copied["schedule_firings"])}
    assert set(summary.skipped.values()) == {0} and summary.skipped_runs == []


@pytest.fixture
def serve(tmp_path: Path):
    """``serve(store_url, artifacts)`` starts a real ``runyard server`` and returns its URL."""
    from server_service import start_server, stop_server
    started = []

    def start(store_url: str, artifacts: Path) -> str:
        proc, url = start_server(store_url, artifacts, tmp_path / f"server-{len(started)}.log")
        started.append(proc)
        return url

    yield start
    for proc in started:
        stop_server(proc)


def test_a_server_on_the_target_serves_the_migrated_runs(source, target, serve, tmp_path):
    url, artifacts = target
    migrate_workspace(source.path, url, artifacts)
    server = serve(url, artifacts)
    served = Workspace.get(server)

    assert set(served.experiments) == set(source.experiments)
    for experiment in source.experiments.values():
        for run in experiment.get_runs(include_children=True):
            there = served.get_run(run.id)
            assert there.get_status() == run.get_status()
            assert there.get_metrics() == run.get_metrics()
            assert there.get_tags() == run.get_tags()
            assert there.get_properties() == run.get_properties()
            assert there.get_file_names() == run.get_file_names()
            assert [c.id for c in there.get_children()] == [c.id for c in run.get_children()]
            for name in run.get_file_names():
                downloaded = there.download_file(name, tmp_path / "downloads" / run.id / name)
                assert Path(downloaded).read_bytes() == (source._artifacts.run_dir(run.id) / name).read_bytes()
    for run in source.experiments["migrate-me"].get_runs():
        assert served._store.status_events(run.id) == source._store.status_events(run.id)
    from runyard import Model
    for name in ("from-file", "from-run"):  # registered models, files included
        here = Path(Model(source, name=name).download(tmp_path / "here" / name)).read_bytes()
        assert Path(Model(served, name=name).download(tmp_path / "there" / name)).read_bytes() == here
    # Snapshots lie where the server keeps uploaded ones (artifacts/snapshots/HASH.zip).
    zips = list(source.snapshots_dir.glob("*.zip"))
    assert zips
    for zipped in zips:
        answer = requests.get(f"{server}{API}/snapshots/{zipped.stem}/content", timeout=10)
        assert answer.status_code == 200 and answer.content == zipped.read_bytes()


def test_a_second_migration_copies_nothing_and_skips_every_run(source, target):
    url, artifacts = target
    first = migrate_workspace(source.path, url, artifacts)
    before = contents(url), files_under(artifacts)
    again = migrate_workspace(source.path, url, artifacts)

    assert (contents(url), files_under(artifacts)) == before
    assert set(again.copied.values()) == {0}
    assert again.skipped == first.copied
    assert sorted(again.skipped_runs) == sorted(key[0] for key in contents(url)["runs"])


def test_an_interrupted_migration_is_completed_by_the_next_one(source, target, monkeypatch):
    url, artifacts = target
    monkeypatch.setattr(migration, "_BATCH_ROWS", 2)  # several batches per run
    monkeypatch.setattr(migration, "_BATCH_IDS", 1)
    migrate_workspace(source.path, url, artifacts)
    complete = contents(url), files_under(artifacts)
    lost_run = next(source.experiments["migrate-me"].get_runs(status=st.COMPLETED))
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as if the copy stopped after this run's files
        for table in (schema.runs, schema.status_events, schema.metrics, schema.tags, schema.properties):
            conn.execute(sa.delete(table).where(table.c.run_id == lost_run.id))
    engine.dispose()
    (artifacts / "runs" / lost_run.id / "outputs" / "summary.txt").unlink()

    resumed = migrate_workspace(source.path, url, artifacts)
    assert resumed.copied["runs"] == 1 and resumed.skipped["runs"] == 3
    assert resumed.copied["files"] == 1
    assert (contents(url), files_under(artifacts)) == complete


def test_a_run_that_differs_in_the_target_stops_the_migration_before_it_writes(source, target):
    url, artifacts = target
    migrate_workspace(source.path, url, artifacts)
    changed = next(source.experiments["migrate-me"].get_runs(status=st.COMPLETED)).id
    removed = next(source.experiments["migrate-me"].get_runs(status=st.FAILED)).id
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(schema.tags).where(schema.tags.c.run_id == changed,
                                                  schema.tags.c.key == "team").values(value="b"))
        for table in (schema.runs, schema.status_events, schema.metrics):
            conn.execute(sa.delete(table).where(table.c.run_id == removed))
    before = contents(url)

    with pytest.raises(ConfigError) as raised:
        migrate_workspace(source.path, url, artifacts)
    message = str(raised.value)
    assert f"run {changed} (tags: " in message and '"team": "b"' in message and "Nothing was copied" in message
    assert removed not in message
    assert contents(url) == before  # the removed run was not copied back either

    with engine.begin() as conn:  # rows left under a run id the target has no run for
        conn.execute(sa.insert(schema.tags).values(run_id=removed, key="stray", value="x"))
    engine.dispose()
    with pytest.raises(ConfigError, match=f"run {removed} \\(the target holds its tags but not the run\\)"):
        migrate_workspace(source.path, url, artifacts)


def test_an_environment_registered_differently_in_the_target_is_a_conflict(source, target):
    url, artifacts = target
    migrate_workspace(source.path, url, artifacts)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(schema.environments).where(schema.environments.c.version == 2)
                     .values(hash="0" * 64))
    engine.dispose()
    with pytest.raises(ConfigError, match="environment sk:2"):
        migrate_workspace(source.path, url, artifacts)


def test_a_count_that_differs_after_the_copy_fails_loudly(source, target, monkeypatch):
    url, artifacts = target
    trained = next(source.experiments["migrate-me"].get_runs(status=st.COMPLETED))
    copy_rows = migration._run_rows

    def drop_a_metric(conn, table, run_id):
        for batch in copy_rows(conn, table, run_id):
            yield batch[:-1] if (table is schema.metrics and run_id == trained.id) else batch

    logged = len(source._store.get_metric_rows([trained.id]))
    monkeypatch.setattr(migration, "_run_rows", drop_a_metric)
    with pytest.raises(MigrationError, match=f"run {trained.id}: {logged} metrics in the source, "
                                             f"{logged - 1} in the target"):
        migrate_workspace(source.path, url, artifacts)


# -- links: a workspace folder filled by an older runyard, or by hand ------------------------
def test_links_in_a_run_folder_are_copied_as_files_inside_and_left_out_outside(tmp_path):
    ws = Workspace.create(tmp_path / "linked" / ".runyard")
    run = Experiment(ws, "linked").start_logging()
    run.upload_file("outputs/real.txt", io.BytesIO(b"real bytes"))
    run.complete()
    outputs = ws._artifacts.run_dir(run.id) / "outputs"
    (outputs / "evil").symlink_to("/etc/passwd")
    (outputs / "ok").symlink_to("real.txt")
    (outputs / "etc").symlink_to("/etc", target_is_directory=True)
    elsewhere = tmp_path / "elsewhere.zip"
    elsewhere.write_bytes(b"PK not a snapshot of this workspace")
    ws.snapshots_dir.mkdir(parents=True, exist_ok=True)
    (ws.snapshots_dir / f"{'0' * 64}.zip").symlink_to(elsewhere)

    url, artifacts = f"sqlite:///{tmp_path / 'target.db'}", tmp_path / "files"
    summary = migrate_workspace(ws.path, url, artifacts)
    copied = artifacts / "runs" / run.id
    assert files_under(copied) == {"outputs/ok": b"real bytes", "outputs/real.txt": b"real bytes"}
    assert not any(p.is_symlink() for p in artifacts.rglob("*"))
    assert summary.left_out == [
        f"runyard: left out snapshots/{'0' * 64}.zip: a link or no file",
        f"runyard: left out outputs/etc: a link to a folder outside the folder of run {run.id} (/etc)",
        f"runyard: left out outputs/evil: a link to a file outside the folder of run {run.id} (/etc/passwd)",
    ]
    assert summary.to_dict()["left_out"] == summary.left_out


# -- bad input: an error naming the thing, before anything is written ---------------------
@pytest.fixture
def sqlite_target(tmp_path: Path) -> tuple[str, Path]:
    return f"sqlite:///{tmp_path / 'target.db'}", tmp_path / "files"


def test_a_folder_that_is_no_workspace_is_named(sqlite_target, tmp_path):
    url, artifacts = sqlite_target
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotFoundError, match="is not a runyard workspace folder") as raised:
        migrate_workspace(tmp_path / "plain", url, artifacts)
    assert str(tmp_path / "plain") in str(raised.value)
    with pytest.raises(ConfigError, match="is a workspace server"):
        migrate_workspace("http://127.0.0.1:1", url, artifacts)
    assert not (tmp_path / "target.db").exists() and not artifacts.exists()


def test_a_bad_database_url_is_named_without_its_password(source, tmp_path):
    with pytest.raises(ConfigError, match="is not a database URL"):
        migrate_workspace(source.path, "not a url", tmp_path / "files")
    unreachable = f"postgresql://bob:hunter2@127.0.0.1:{free_port()}/runs"
    with pytest.raises(ConfigError, match="cannot open the target database") as raised:
        migrate_workspace(source.path, unreachable, tmp_path / "files")
    assert "postgresql://bob:***@127.0.0.1" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    with pytest.raises(ConfigError, match="database of the source workspace itself"):
        migrate_workspace(source.path, source.store_url, tmp_path / "files")
    assert not (tmp_path / "files").exists()


def test_an_artifacts_folder_that_cannot_be_written_is_named(source, sqlite_target, tmp_path):
    url, _ = sqlite_target
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=f"{blocker} is not a folder"):
        migrate_workspace(source.path, url, blocker / "files")
    assert not (tmp_path / "target.db").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_artifacts_folder_is_named(source, sqlite_target, tmp_path):
    url, _ = sqlite_target
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    with pytest.raises(ConfigError, match="is not writable"):
        migrate_workspace(source.path, url, read_only / "files")


def test_active_runs_are_refused_unless_included(tmp_path, target):
    url, artifacts = target
    ws = Workspace.create(tmp_path / "busy" / ".runyard")
    open_run = Experiment(ws, "busy").start_logging()
    open_run.log("step", 1)
    open_run.flush()
    with pytest.raises(ConfigError, match=f"{open_run.id} \\(Running\\).*--include-active"):
        migrate_workspace(ws.path, url, artifacts)
    assert not artifacts.exists()

    summary = migrate_workspace(ws.path, url, artifacts, include_active=True)
    assert summary.copied["runs"] == 1
    assert contents(url)["runs"][(open_run.id,)]["status"] == st.RUNNING
    open_run.complete()


# -- the command ----------------------------------------------------------------------------
def runyard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_the_command_reports_progress_and_a_json_summary(source, target, tmp_path):
    url, artifacts = target
    project = source.path.parent
    result = runyard("workspace", "migrate", "--from", str(project), "--to", url,
                     "--artifacts", str(artifacts), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["copied"]["runs"] == 4 and summary["verified"] is True
    assert summary["source"] == str(source.path)
    assert "runs: 4/4" in result.stderr

    again = runyard("workspace", "migrate", "--from", str(source.path), "--to", url,
                    "--artifacts", str(artifacts), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "4 run(s) were in the target already" in again.stdout and "Verified" in again.stdout


def test_the_command_exits_with_the_error_kind(tmp_path, sqlite_target):
    url, artifacts = sqlite_target
    missing = runyard("workspace", "migrate", "--from", str(tmp_path / "nowhere"), "--to", url,
                      "--artifacts", str(artifacts), cwd=tmp_path)
    assert missing.returncode == 3
    assert "is not a runyard workspace folder" in missing.stderr
    ws = Workspace.create(tmp_path / "ws")
    bad_url = runyard("workspace", "migrate", "--from", str(ws.path), "--to",
                      f"postgresql://u:s3cret@127.0.0.1:{free_port()}/x", "--artifacts", str(artifacts),
                      cwd=tmp_path)
    assert bad_url.returncode == 2
    assert "cannot open the target database postgresql://u:***@127.0.0.1" in bad_url.stderr
    assert "s3cret" not in bad_url.stderr
