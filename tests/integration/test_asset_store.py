"""The store of named, versioned assets (datasets, models, published pipelines, schedules),
lineage and schedule firings: the same answers from SQLite, PostgreSQL and a workspace server."""

from __future__ import annotations

import threading

import pytest

from runyard.errors import ConfigError, NotFoundError

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("server", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    import uuid
    from runyard import Workspace
    if request.param == "server":
        from conftest import SERVER_TOKEN
        return Workspace.get(request.getfixturevalue("workspace_server"), token=SERVER_TOKEN)._store
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"ws_{uuid.uuid4().hex[:12]}")
    return Workspace.create(tmp_path / "ws", store_url=url)._store


def _name(prefix: str) -> str:
    import uuid
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _files(*names: str) -> dict:
    """A file dataset's spec (runyard.store.asset_specs) listing these files."""
    return {"type": "file", "sources": [{"kind": "local", "base": "/data", "pattern": None}],
            "files": [{"path": n, "source": 0, "size": 1, "sha256": "0" * 64} for n in names]}


def _endpoint(*versions: str) -> dict:
    return {"description": None, "default_version": versions[0],
            "pipelines": [{"version": v, "pipeline_id": f"pp{v}"} for v in versions]}


def test_versions_are_keyed_by_content(store):
    name = _name("data")
    first = store.register_asset("dataset", name, _files("a.csv"), content_hash="1" * 64)
    again = store.register_asset("dataset", name, _files("a.csv"), content_hash="1" * 64)
    second = store.register_asset("dataset", name, _files("a.csv", "b.csv"), content_hash="2" * 64)
    assert (first["version"], again["version"], second["version"]) == (1, 1, 2)
    assert again["id"] == first["id"]
    assert store.get_asset("dataset", name)["version"] == 2
    assert store.get_asset("dataset", name, 1)["spec"] == _files("a.csv")
    assert store.get_asset("dataset", name, 7) is None
    assert store.get_asset("model", name) is None  # kinds are separate
    assert [r["version"] for r in store.list_assets("dataset", name)] == [1, 2]
    assert [r["version"] for r in store.list_assets("dataset", name, latest_only=True)] == [2]
    assert [f["path"] for f in store.get_asset_by_id(second["id"])["spec"]["files"]] == ["a.csv", "b.csv"]


def test_create_new_version_false_refuses_an_existing_name(store):
    name = _name("model")
    store.register_asset("model", name, {"path": "m.pkl", "holder": "run-1", "prefix": "outputs/m.pkl",
                                         "files": ["outputs/m.pkl"]})
    with pytest.raises(ConfigError, match="already registered"):
        store.register_asset("model", name, {"path": "m2.pkl", "holder": "run-1", "prefix": "outputs/m2.pkl",
                                             "files": ["outputs/m2.pkl"]}, create_new_version=False)
    assert len(store.list_assets("model", name)) == 1


def test_update_state_and_spec(store):
    row = store.register_asset("pipeline_endpoint", _name("pe"), _endpoint("0"))
    changed = store.update_asset(row["id"], state="disabled", spec={**_endpoint("0", "1"), "default_version": "1"})
    assert changed["state"] == "disabled" and changed["spec"]["default_version"] == "1"
    assert store.list_assets("pipeline_endpoint", row["name"], state="active") == []
    with pytest.raises(ConfigError, match="spec of a pipeline_endpoint: field 'default_version'"):
        store.update_asset(row["id"], spec={**_endpoint("0"), "default_version": 1})
    assert store.get_asset_by_id(row["id"])["spec"]["default_version"] == "1"  # unchanged
    with pytest.raises(NotFoundError):
        store.update_asset("no-such-id", state="active")


def test_lineage_is_recorded_once_per_read(store):
    name = _name("data")
    store.ensure_experiment("lineage")
    run_a, run_b = _name("run-a"), _name("run-b")
    for run_id in (run_a, run_b):
        store.create_run({"run_id": run_id, "experiment": "lineage", "run_type": "script", "status": "Queued"})
    store.record_lineage(run_a, "output", "dataset", name, 1)
    store.record_lineage(run_b, "input", "dataset", name, 1, label="training")
    store.record_lineage(run_b, "input", "dataset", name, 1, label="training")
    rows = store.list_lineage(kind="dataset", name=name)
    assert [(r["run_id"], r["role"], r["label"]) for r in rows] == [(run_a, "output", None),
                                                                   (run_b, "input", "training")]
    assert store.list_lineage(run_id=run_b)[0]["version"] == 1
    with pytest.raises(ConfigError, match="role"):
        store.record_lineage(run_b, "read", "dataset", name, 1)


def test_a_slot_fires_once_among_concurrent_schedulers(store):
    schedule = _name("sched")
    wins = []

    def claim():
        wins.append(store.claim_firing(schedule, "2026-11-27T10:00:00Z"))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 5 + [True]
    store.end_firing(schedule, "2026-11-27T10:00:00Z", run_id="run-x")
    assert [(f["slot"], f["run_id"]) for f in store.list_firings(schedule)] == [("2026-11-27T10:00:00Z", "run-x")]


def test_runs_are_found_by_property(store):
    import time
    store.ensure_experiment("props")
    for index, key in enumerate(["k1", "k2"]):
        store.create_run({"run_id": f"props-{key}-{time.time_ns()}", "experiment": "props", "run_type": "script",
                          "status": "Completed"}, properties={"runyard.reuse_key": key, "n": index})
    rows = store.list_runs(properties={"runyard.reuse_key": "k2"})
    assert len(rows) >= 1 and all("-k2-" in r["run_id"] for r in rows)
