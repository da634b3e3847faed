"""Workspace: create, get, from_config, what it lists, isolation, the store schema."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from runyard import Environment, Experiment, ScriptRunConfig, Workspace
from runyard.compute.local import LocalTarget
from runyard.errors import ConfigError, NotFoundError
from runyard.store import schema


@pytest.fixture
def workspace(any_store_workspace):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_store_workspace


def test_create_then_get(tmp_path):
    ws = Workspace.create(tmp_path / "ws", name="demo")
    assert ws.name == "demo"
    assert (tmp_path / "ws" / "config.yaml").is_file()
    again = Workspace.get(tmp_path / "ws")
    assert again == ws and again.name == "demo"
    assert Workspace.create(tmp_path / "ws") == ws  # exist_ok
    with pytest.raises(ConfigError, match="already exists"):
        Workspace.create(tmp_path / "ws", exist_ok=False)


def test_default_folder_is_named_after_the_project(tmp_path):
    ws = Workspace.create(tmp_path / "myproject" / ".runyard")
    assert ws.name == "myproject"
    assert Workspace.get(tmp_path / "myproject") == ws  # a project folder holding .runyard


def test_unknown_path_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="no runyard workspace"):
        Workspace.get(tmp_path / "nowhere")
    with pytest.raises(NotFoundError):
        Workspace(tmp_path)


def test_bad_names_and_paths(tmp_path):
    with pytest.raises(ConfigError, match="workspace name"):
        Workspace.create(tmp_path / "ws", name="has space")
    assert not (tmp_path / "ws").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="not a folder"):
        Workspace.create(tmp_path / "file")


def test_from_config_searches_upward(tmp_path, monkeypatch):
    ws = Workspace.create(tmp_path / "proj" / ".runyard")
    nested = tmp_path / "proj" / "src" / "models"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert Workspace.from_config() == ws
    assert Workspace.from_config(nested / "file.py") == ws
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFoundError, match="RUNYARD_WORKSPACE"):
        Workspace.from_config()


def test_from_config_honours_runyard_workspace(tmp_path, monkeypatch):
    here = Workspace.create(tmp_path / "here" / ".runyard")
    there = Workspace.create(tmp_path / "there")
    monkeypatch.chdir(tmp_path / "here")
    assert Workspace.from_config() == here
    monkeypatch.setenv("RUNYARD_WORKSPACE", str(there.path))
    assert Workspace.from_config() == there
    monkeypatch.setenv("RUNYARD_WORKSPACE", str(tmp_path / "missing"))
    with pytest.raises(NotFoundError):
        Workspace.from_config()


def test_what_a_workspace_lists(workspace, project):
    assert workspace.experiments == {}
    assert workspace.environments == {}
    targets = workspace.compute_targets
    assert list(targets) == ["local"]
    assert isinstance(targets["local"], LocalTarget)
    assert workspace.get_compute_target("local").name == "local"

    Environment("train").register(workspace)
    run = Experiment(workspace, "first").submit(ScriptRunConfig(str(project({"t.py": ""})), script="t.py"))
    run.wait_for_completion()
    assert list(workspace.experiments) == ["first"]
    assert workspace.experiments["first"] == Experiment(workspace, "first")
    assert list(workspace.environments) == ["train"]
    assert workspace.get_run(run.id) == run


def test_two_workspaces_never_see_each_others_runs(tmp_path, project):
    first = Workspace.create(tmp_path / "one")
    second = Workspace.create(tmp_path / "two")
    src = project({"t.py": "print('x')\n"})
    run = Experiment(first, "shared-name").submit(ScriptRunConfig(str(src), script="t.py"))
    run.wait_for_completion()
    other = Experiment(second, "shared-name")
    assert list(other.get_runs()) == []
    assert second.experiments == {}
    from runyard.errors import RunNotFoundError
    with pytest.raises(RunNotFoundError):
        second.get_run(run.id)
    assert [r.id for r in Experiment(first, "shared-name").get_runs()] == [run.id]


def test_store_has_the_schema_version_table(workspace):
    engine = workspace._store.engine
    assert "schema_version" in sa.inspect(engine).get_table_names()
    assert workspace._store.schema_version() == schema.LATEST_VERSION
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from schema_version")).scalar() == 1
    # opening again does not migrate twice
    assert Workspace.get(workspace.path)._store.schema_version() == schema.LATEST_VERSION


def test_newer_schema_is_refused(workspace):
    from runyard.errors import RunyardError
    with workspace._store.engine.begin() as conn:
        conn.execute(sa.text("update schema_version set version = :v"), {"v": schema.LATEST_VERSION + 1})
    with pytest.raises(RunyardError, match="Upgrade runyard"):
        Workspace.get(workspace.path)


def test_sqlite_store_uses_wal_and_waits_for_a_busy_database(tmp_path):
    import sqlite3
    import threading
    import time
    workspace = Workspace.create(tmp_path / "ws")
    with workspace._store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    database = workspace._store.engine.url.database
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file

    other.execute("BEGIN IMMEDIATE")  # another process is writing
    released = threading.Timer(1.0, lambda: other.execute("COMMIT"))
    released.start()
    started = time.monotonic()
    Experiment(workspace, "waited").start_logging().complete()  # waits for the lock, does not fail
    assert time.monotonic() - started >= 0.9
    released.join()
    other.close()
    assert [r.status for r in Experiment(workspace, "waited").get_runs()] == ["Completed"]
