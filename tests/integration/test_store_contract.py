"""The store contract (``runyard.store.base.RunStore``), one suite run against each store:
SQLite, PostgreSQL, and the HTTP store of a real ``runyard server``. A behaviour one store
has and another lacks fails here, as does a value one of them stores unchecked."""

from __future__ import annotations

import math
import time
import uuid

import pytest

from runyard import status as st
from runyard.errors import ConfigError, ConflictError, NotFoundError
from runyard.store.base import RunStore
from runyard.store.metric_series import grid
from runyard.store.http import HttpStore
from runyard.store.sql import SqlStore
from series_reference import expected_series
from server_service import start_server, stop_server

TOKEN = "contract-suite-token-0123456789"
HASH = "ab" * 32


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the module, its history in SQLite."""
    folder = tmp_path_factory.mktemp("contract-server")
    proc, url = start_server(f"sqlite:///{folder}/ws.db", folder / "artifacts", folder / "server.log", token=TOKEN)
    yield url
    stop_server(proc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "http"])
def store(request, tmp_path) -> RunStore:
    if request.param == "sqlite":
        made: RunStore = SqlStore(f"sqlite:///{tmp_path}/contract.db")
    elif request.param == "postgresql":
        made = SqlStore(request.getfixturevalue("postgres").create_database(f"c_{uuid.uuid4().hex[:12]}"))
    else:
        made = HttpStore(request.getfixturevalue("served"), TOKEN, retry_window=0)
    yield made
    made.close()


def unique(prefix: str = "e") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def new_run(store: RunStore, experiment: str | None = None, **fields) -> dict:
    experiment = experiment or unique()
    row = {"run_id": unique(f"{experiment}_"), "experiment": experiment, "run_type": "interactive",
           "status": st.RUNNING, **fields}
    return store.create_run(row)


def metric(run_id: str, value: float = 1.0, **fields) -> dict:
    return {"run_id": run_id, "name": "loss", "kind": "scalar", "value_num": value, "value_text": None,
            "logged_at": time.time(), **fields}


# -- experiments and runs ----------------------------------------------------------------
def test_experiments(store):
    name = unique()
    store.ensure_experiment(name)
    store.ensure_experiment(name)
    assert store.list_experiments().count(name) == 1
    with pytest.raises(ConfigError):
        store.ensure_experiment("../up")


def test_create_run_sets_number_and_time_and_keeps_tags(store):
    experiment = unique()
    first = new_run(store, experiment)
    second = store.create_run({"run_id": unique(f"{experiment}_"), "experiment": experiment, "run_type": "script",
                               "status": st.QUEUED, "display_name": "two", "snapshot_hash": HASH},
                              tags={"team": "a", "n": 3}, properties={"seed": 7})
    assert (first["run_number"], second["run_number"]) == (1, 2)
    assert second["created_at"] <= time.time() and second["host"] is None
    stored = store.get_run(second["run_id"])
    assert stored["display_name"] == "two" and stored["snapshot_hash"] == HASH and stored["status"] == st.QUEUED
    assert store.get_tags(second["run_id"]) == {"team": "a", "n": "3"}
    assert store.get_properties(second["run_id"]) == {"seed": "7"}
    assert [e["status"] for e in store.status_events(second["run_id"])] == [st.QUEUED]


@pytest.mark.parametrize("fields, error", [
    ({"host": "this-machine"}, ConfigError),
    ({"job_pid": 1}, ConfigError),
    ({"created_at": 1.0}, ConfigError),
    ({"status": "Pwned"}, ConfigError),
    ({"status": st.PREPARING}, ConfigError),
    ({"run_type": "bogus"}, ConfigError),
    ({"run_id": ".."}, ConfigError),
    ({"run_id": "a/b"}, ConfigError),
    ({"run_id": "x" * 300}, ConfigError),
    ({"run_id": "nul\x00"}, ConfigError),
    ({"display_name": "x" * 256}, ConfigError),
    ({"definition": "{not json"}, ConfigError),
    ({"snapshot_hash": "../../x"}, ConfigError),
    ({"start_time": "yesterday"}, ConfigError),
    ({"exit_code": 2 ** 40}, ConfigError),
    ({"parent_id": "no_such_parent"}, NotFoundError),
])
def test_create_run_refuses_what_it_cannot_store(store, fields, error):
    experiment = unique()
    with pytest.raises(error):
        new_run(store, experiment, **fields)
    assert store.list_runs(experiment=experiment) == []


def test_a_run_id_is_used_once(store):
    row = new_run(store)
    with pytest.raises(ConflictError, match="exists"):
        store.create_run({k: row[k] for k in ("run_id", "experiment", "run_type", "status")})


def test_a_child_run_belongs_to_its_parents_experiment(store):
    parent = new_run(store)
    child = new_run(store, parent["experiment"], parent_id=parent["run_id"], run_type="child")
    assert store.list_runs(parent_id=parent["run_id"])[0]["run_id"] == child["run_id"]
    with pytest.raises(ConfigError, match="experiment"):
        new_run(store, unique(), parent_id=parent["run_id"], run_type="child")


def test_get_run_of_nothing_is_none(store):
    assert store.get_run("no_such_run") is None
    assert store.get_run("../etc") is None
    assert store.get_tags("no_such_run") == {} and store.get_properties("no_such_run") == {}


def test_update_run_changes_only_what_it_may(store):
    run = new_run(store)
    store.update_run(run["run_id"], display_name="renamed", error="bad things")
    stored = store.get_run(run["run_id"])
    assert (stored["display_name"], stored["error"]) == ("renamed", "bad things")
    for field, value in (("status", st.COMPLETED), ("supervisor_pid", 1), ("host", "h"), ("run_number", 9)):
        with pytest.raises(ConfigError):
            store.update_run(run["run_id"], **{field: value})
    assert store.get_run(run["run_id"])["status"] == st.RUNNING
    with pytest.raises(NotFoundError):
        store.update_run("no_such_run", display_name="x")


def test_process_fields_go_through_set_run_process(store):
    run = new_run(store, status=st.QUEUED, run_type="script")
    store.set_run_process(run["run_id"], host="box", supervisor_pid=123, supervisor_started=1.5e9)
    store.set_run_process(run["run_id"], host="box", job_pid=456, job_started=1.6e9)
    stored = store.get_run(run["run_id"])
    assert (stored["host"], stored["supervisor_pid"], stored["supervisor_started"], stored["job_pid"],
            stored["job_started"]) == ("box", 123, 1.5e9, 456, 1.6e9)
    for bad in ({"supervisor_pid": 0}, {"supervisor_pid": 2 ** 31}, {"job_started": math.inf}, {"host": ""}):
        with pytest.raises(ConfigError):
            store.set_run_process(run["run_id"], **{"host": "box", **bad})
    with pytest.raises(NotFoundError):
        store.set_run_process("no_such_run", host="box", job_pid=1)


# -- status ------------------------------------------------------------------------------
def test_status_moves_forward_and_stops_at_the_end(store):
    run = new_run(store, status=st.QUEUED, run_type="script")["run_id"]
    for status in (st.PREPARING, st.STARTING, st.RUNNING):
        assert store.set_status(run, status) is True
    assert store.get_run(run)["start_time"] is not None
    with pytest.raises(ConfigError, match="back"):
        store.set_status(run, st.QUEUED)
    with pytest.raises(ConfigError):
        store.set_status(run, "Pwned")
    assert store.set_status(run, st.FAILED, error="it broke", exit_code=3) is True
    stored = store.get_run(run)
    assert (stored["status"], stored["error"], stored["exit_code"]) == (st.FAILED, "it broke", 3)
    assert stored["end_time"] is not None
    assert store.set_status(run, st.COMPLETED) is False  # ended runs stay ended
    assert store.set_status(run, st.CANCELED, allow_from_terminal=True) is True
    with pytest.raises(ConfigError):
        store.set_status(run, st.RUNNING, allow_from_terminal=True)
    assert [e["status"] for e in store.status_events(run)] == [
        st.QUEUED, st.PREPARING, st.STARTING, st.RUNNING, st.FAILED, st.CANCELED]
    with pytest.raises(NotFoundError):
        store.set_status("no_such_run", st.RUNNING)


def test_a_cancel_request_wins_over_a_later_start_step(store):
    run = new_run(store, status=st.QUEUED, run_type="script")["run_id"]
    assert store.set_status(run, st.CANCEL_REQUESTED) is True
    assert store.set_status(run, st.PREPARING) is False
    assert store.get_run(run)["status"] == st.CANCEL_REQUESTED
    assert store.set_status(run, st.FINALIZING) is True
    assert store.set_status(run, st.CANCELED) is True


def test_end_active_children(store):
    parent = new_run(store)
    kids = [new_run(store, parent["experiment"], parent_id=parent["run_id"], run_type="child") for _ in range(2)]
    grandchild = new_run(store, parent["experiment"], parent_id=kids[0]["run_id"], run_type="child")
    store.set_status(kids[1]["run_id"], st.COMPLETED)
    store.end_active_children(parent["run_id"], st.FAILED)
    assert store.get_run(kids[0]["run_id"])["status"] == st.FAILED
    assert store.get_run(kids[1]["run_id"])["status"] == st.COMPLETED
    assert store.get_run(grandchild["run_id"])["error"] == "its parent run ended Failed"
    with pytest.raises(ConfigError):
        store.end_active_children(parent["run_id"], st.RUNNING)


def test_list_runs_filters(store):
    experiment = unique()
    done = new_run(store, experiment, run_type="script", status=st.QUEUED)
    store.set_status(done["run_id"], st.COMPLETED)
    tagged = store.create_run({"run_id": unique(f"{experiment}_"), "experiment": experiment,
                               "run_type": "interactive", "status": st.RUNNING}, tags={"kind": "b"},
                              properties={"owner": "me"})
    child = new_run(store, experiment, parent_id=tagged["run_id"], run_type="child")
    assert [r["run_id"] for r in store.list_runs(experiment=experiment, top_level_only=True)] == [
        tagged["run_id"], done["run_id"]]
    assert [r["run_id"] for r in store.list_runs(experiment=experiment, status=st.COMPLETED)] == [done["run_id"]]
    assert [r["run_id"] for r in store.list_runs(experiment=experiment, tags={"kind": "b"})] == [tagged["run_id"]]
    assert [r["run_id"] for r in store.list_runs(experiment=experiment, tags={"kind": None})] == [tagged["run_id"]]
    assert [r["run_id"] for r in store.list_runs(experiment=experiment, properties={"owner": "me"})] == [
        tagged["run_id"]]
    assert [r["run_id"] for r in store.list_runs(parent_id=tagged["run_id"])] == [child["run_id"]]
    assert [r["run_id"] for r in store.list_runs(experiment=experiment, run_type="script")] == [done["run_id"]]
    assert len(store.list_runs(experiment=experiment, limit=1)) == 1
    with pytest.raises(ConfigError):
        store.list_runs(status="Pwned")


def test_query_runs_pages_sorts_and_filters_with_a_total(store):
    experiment = unique()
    made = []
    for i in range(5):
        run = store.create_run({"run_id": unique(f"{experiment}_"), "experiment": experiment, "run_type": "script",
                                "status": st.RUNNING, "display_name": f"Trial {i}"},
                               tags={"team": "a" if i % 2 else "b"}, properties={"seed": i})
        made.append(run["run_id"])
        store.log_metrics([metric(run["run_id"], 10.0 - i), metric(run["run_id"], float(i))])  # the last counts
    store.log_metrics([{**metric(made[4], 0.5), "name": "acc"}])
    store.log_metrics([metric(made[0], 7.5)])  # a later batch replaces the latest value
    store.set_status(made[1], st.COMPLETED)
    ids_of = lambda page: [r["run_id"] for r in page["runs"]]  # noqa: E731

    page = store.query_runs(experiment=experiment, limit=2)
    assert page["total"] == 5 and ids_of(page) == made[::-1][:2]  # newest first
    assert "definition" not in page["runs"][0]
    assert ids_of(store.query_runs(experiment=experiment, limit=2, offset=4)) == [made[0]]
    by_loss = store.query_runs(experiment=experiment, sort="metric:loss", descending=False, columns=["loss", "acc"])
    assert ids_of(by_loss) == [made[1], made[2], made[3], made[4], made[0]]
    assert by_loss["metrics"][made[0]] == {"loss": 7.5} and by_loss["metrics"][made[4]] == {"loss": 4.0, "acc": 0.5}
    assert by_loss["tags"][made[1]] == {"team": "a"} and by_loss["properties"][made[1]] == {"seed": "1"}
    # runs without the value come last, whichever the direction
    assert ids_of(store.query_runs(experiment=experiment, sort="metric:acc"))[0] == made[4]
    assert ids_of(store.query_runs(experiment=experiment, sort="metric:acc", descending=False))[0] == made[4]
    # pages across the end of the runs with the value, and past it, in either direction
    for descending, order in ((True, [made[4], *made[3::-1]]), (False, [made[4], *made[:4]])):
        for offset, limit in ((0, 1), (0, 2), (1, 2), (3, 2), (4, 5), (5, 1)):
            page = store.query_runs(experiment=experiment, sort="metric:acc", descending=descending, offset=offset,
                                    limit=limit, total=False)
            assert ids_of(page) == order[offset:offset + limit], (descending, offset, limit)
    assert ids_of(store.query_runs(experiment=experiment, sort="property:seed", descending=False)) == made
    assert store.query_runs(experiment=experiment, tags={"team": "a"})["total"] == 2
    assert store.query_runs(experiment=experiment, tags={"team": None})["total"] == 5
    assert ids_of(store.query_runs(experiment=experiment, status=[st.COMPLETED])) == [made[1]]
    assert ids_of(store.query_runs(experiment=experiment, text="TRIAL 3")) == [made[3]]
    assert store.query_runs(experiment=experiment, text="%")["total"] == 0  # a pattern character is a character
    filtered = store.query_runs(experiment=experiment, metrics=[{"name": "loss", "op": ">=", "value": 3}],
                                sort="metric:loss")
    assert ids_of(filtered) == [made[0], made[4], made[3]]
    assert ids_of(store.query_runs(experiment=experiment, properties={"seed": 2})) == [made[2]]
    compared = store.query_runs(run_ids=[made[3], made[0], made[3]], sort="run_number", descending=False)
    assert ids_of(compared) == [made[0], made[3]] and compared["total"] == 2
    assert store.query_runs(experiment=unique())["total"] == 0
    # the page without its count, and the count alone (a table draws its rows first)
    quick = store.query_runs(experiment=experiment, tags={"team": "a"}, total=False)
    assert quick["total"] is None and ids_of(quick) == [made[3], made[1]]
    counted = store.query_runs(experiment=experiment, tags={"team": "a"}, limit=0)
    assert counted["total"] == 2 and counted["runs"] == [] and counted["metrics"] == {}


@pytest.mark.parametrize("fields, error", [
    (dict(sort="loss"), "sort: 'loss' is not one of"),
    (dict(sort="metrics:loss"), "sort: 'metrics:loss' is not a sort key"),
    (dict(limit=-1), "limit"),
    (dict(limit=1001), "limit"),
    (dict(total="yes"), "total: expected true or false"),
    (dict(offset=-1), "offset"),
    (dict(status=["Pwned"]), "status"),
    (dict(metrics=[{"name": "loss", "op": "like", "value": 1}]), "op"),
    (dict(metrics=[{"name": "loss", "op": "<", "value": "1"}]), "value"),
    (dict(experiment="../up"), "experiment"),
    (dict(run_ids=["../up"]), "run_ids"),
    (dict(colour="red"), "colour"),
])
def test_query_runs_refuses_what_does_not_fit_naming_the_field(store, fields, error):
    with pytest.raises(ConfigError, match=error):
        store.query_runs(**fields)


# -- metrics -----------------------------------------------------------------------------
def test_a_long_series_is_downsampled_keeping_every_bucket_low_and_high(store):
    run, short = new_run(store)["run_id"], new_run(store)["run_id"]
    values = [math.sin(i / 300) for i in range(6000)]
    values[1234], values[4321] = 50.0, -50.0  # a spike each way
    values[100:110] = [2.0] * 10  # equal highest values: the first is kept
    store.log_metrics([metric(run, v, step=i * 10) for i, v in enumerate(values)])
    store.log_metrics([{**metric(run, 0.0), "name": "other"}, metric(short, 1.0), metric(short, 2.0)])
    long, few = store.metric_series([run, short], "loss", points=100)
    assert long["count"] == 6000 and long["downsampled"] is True and 50 <= len(long["i"]) <= 100
    assert long["i"] == expected_series(values, 100) and {1234, 4321, 100} <= set(long["i"])
    assert all(values[i] == v for i, v in zip(long["i"], long["value"])) and long["step"][0] == long["i"][0] * 10
    assert grid(6000, 100) == (1, 128)  # buckets of two blocks of 64
    assert (few["count"], few["downsampled"], few["value"]) == (2, False, [1.0, 2.0])
    zoom = store.metric_series([run], "loss", points=100, start=1200, end=1250)[0]
    assert zoom["downsampled"] is False and zoom["i"] == list(range(1200, 1250)) and zoom["count"] == 50
    assert store.metric_series([run], "loss", points=100, start=5990)[0]["i"] == list(range(5990, 6000))
    assert store.metric_series([run], "absent")[0]["count"] == 0
    for fields, error in ((dict(points=2), "points"), (dict(start=5, end=5), "end: 5 is not after start"),
                          (dict(run_ids=[]), "run_ids")):
        with pytest.raises(ConfigError, match=error):
            store.metric_series(**{"run_ids": [run], "name": "loss", **fields})


def test_a_series_logged_in_uneven_batches_reads_the_same_from_its_blocks_at_every_level(store):
    """Blocks fold batches that end anywhere inside them; ranges off the grid read their edges
    from smaller blocks and single points; text scalars and other kinds are not points."""
    run = new_run(store)["run_id"]
    values = [float((i * 7919) % 10007) for i in range(20_000)]
    at = 0
    for size in (1, 63, 1000, 4097, 5, 9000, 10_000):
        batch = [metric(run, v, step=at + k) for k, v in enumerate(values[at:at + size])]
        batch.insert(len(batch) // 2, {**metric(run, 0.0), "value_num": None, "value_text": '"text"'})
        store.log_metrics(batch)
        at += size
    assert at >= len(values)
    for points, start, end in ((4, 0, None), (100, 0, None), (1000, 0, None), (100, 4000, 19_000),
                               (50, 777, 5555), (10, 63, 4161), (200, 19_900, 20_000), (10_000, 0, None)):
        got = store.metric_series([run], "loss", points=points, start=start, end=end)[0]
        assert got["i"] == expected_series(values, points, start, end), (points, start, end)
        assert got["value"] == [values[i] for i in got["i"]] and got["step"] == got["i"]
    assert grid(20_000, 4)[0] == 2  # the coarsest case read blocks of 4,096


def test_metric_names_say_what_a_run_logged(store):
    run = new_run(store)["run_id"]
    store.log_metrics([metric(run, 3.0), metric(run, 2.0), {**metric(run, 1.0), "name": "acc"}])
    store.log_metrics([{**metric(run, 0.0), "name": "curve", "kind": "row", "value_num": None,
                        "value_text": '{"epoch": 1}'}, metric(run, 1.5)])
    assert store.metric_names(run) == [{"name": "loss", "kind": "scalar", "count": 3, "latest": 1.5},
                                       {"name": "acc", "kind": "scalar", "count": 1, "latest": 1.0},
                                       {"name": "curve", "kind": "row", "count": 1, "latest": None}]
    assert store.metric_names(new_run(store)["run_id"]) == []


def test_metrics_round_trip_with_step_and_description(store):
    run = new_run(store)["run_id"]
    store.log_metrics([metric(run, 0.5, step=1, description="training loss"), metric(run, 0.25, step=2),
                       {**metric(run), "name": "tags", "kind": "list", "value_num": None, "value_text": "[1, 2]"},
                       {**metric(run), "name": "n", "value_num": 3.0, "value_text": "i"},
                       {**metric(run), "name": "nan", "value_num": None, "value_text": "NaN"}])
    rows = store.get_metric_rows([run])
    assert [(r["name"], r["value_num"], r["step"]) for r in rows[:2]] == [("loss", 0.5, 1), ("loss", 0.25, 2)]
    assert rows[0]["description"] == "training loss" and rows[1]["description"] is None
    assert [r["name"] for r in store.get_metric_rows([run], "n")] == ["n"]


def test_a_batch_id_is_stored_once(store):
    run = new_run(store)["run_id"]
    batch = [metric(run, float(i)) for i in range(3)]
    store.log_metrics(batch, batch_id="batch-1")
    store.log_metrics(batch, batch_id="batch-1")
    assert len(store.get_metric_rows([run])) == 3
    store.log_metrics(batch, batch_id="batch-2")
    assert len(store.get_metric_rows([run])) == 6


@pytest.mark.parametrize("change", [
    {"kind": "bogus"}, {"value_num": "1.5"}, {"logged_at": "now"}, {"logged_at": -1.0},
    {"name": "x" * 100_000}, {"name": ""}, {"value_num": None, "value_text": None},
    {"value_num": None, "value_text": "{not json"}, {"kind": "list", "value_num": None, "value_text": "{}"},
    {"step": "three"}, {"step": 2 ** 40}, {"value_num": True}, {"extra": 1}, {"run_id": "../x"},
])
def test_metric_rows_are_checked(store, change):
    run = new_run(store)["run_id"]
    with pytest.raises(ConfigError):
        store.log_metrics([metric(run), {**metric(run), **change}])
    assert store.get_metric_rows([run]) == []  # the whole batch, not the good half


def test_metrics_of_a_run_that_does_not_exist_are_refused(store):
    with pytest.raises(NotFoundError):
        store.log_metrics([metric("no_such_run")])


# -- tags and properties -----------------------------------------------------------------
def test_tags_and_properties(store):
    run = new_run(store)["run_id"]
    store.set_tags(run, {"a": "1", "b": None, "c": [1, 2]})
    store.remove_tags(run, ["a"])
    assert store.get_tags(run) == {"b": None, "c": "[1, 2]"}
    store.add_properties(run, {"p": 1})
    store.add_properties(run, {"p": 1})
    with pytest.raises(ConflictError, match="cannot change"):
        store.add_properties(run, {"p": 2})
    assert store.get_properties(run) == {"p": "1"}
    for bad in ({"": "x"}, {"k" * 300: "x"}, {"k": "v\x00"}, {"k": "x" * 70_000}):
        with pytest.raises(ConfigError):
            store.set_tags(run, bad)
    with pytest.raises(NotFoundError):
        store.set_tags("no_such_run", {"a": 1})
    with pytest.raises(NotFoundError):
        store.add_properties("no_such_run", {"a": 1})


# -- job tokens ---------------------------------------------------------------------------
def test_job_tokens_are_issued_for_active_runs_only(store):
    run = new_run(store, run_type="script", status=st.QUEUED)["run_id"]
    first, second = store.issue_job_token(run), store.issue_job_token(run)
    assert first != second and len(first) >= 40
    store.set_status(run, st.COMPLETED)
    with pytest.raises(ConflictError, match="ended"):
        store.issue_job_token(run)
    with pytest.raises(NotFoundError):
        store.issue_job_token("no_such_run")


# -- environments and compute targets ------------------------------------------------------
def test_environments(store):
    name = unique("env")
    assert store.register_environment(name, HASH, {"name": name}) == 1
    assert store.register_environment(name, HASH, {"name": name}) == 1
    assert store.register_environment(name, "cd" * 32, {"name": name, "v": 2}) == 2
    assert store.get_environment(name)["version"] == 2
    assert store.get_environment(name, 1)["hash"] == HASH
    assert store.get_environment("no-such-env") is None
    assert {r["name"] for r in store.list_environments()} >= {name}
    with pytest.raises(ConfigError):
        store.register_environment(name, "not-a-hash", {})


def test_compute_targets(store):
    store.save_compute_target("box", "docker", {"memory": "4g"})
    assert {"name": "box", "type": "docker"}.items() <= next(
        t for t in store.list_compute_targets() if t["name"] == "box").items()
    with pytest.raises(ConfigError, match="valid types"):
        store.save_compute_target("box2", "mainframe", {})
    with pytest.raises(ConfigError):
        store.save_compute_target("box3", "docker", {"memory": "lots"})
    assert store.delete_compute_target("box") is True
    assert store.delete_compute_target("box") is False


# -- assets, lineage, schedule firings ---------------------------------------------------------
def dataset_spec(version: int) -> dict:
    """A file dataset's spec as runyard.store.asset_specs has it (of no file yet)."""
    return {"type": "file", "sources": [{"kind": "local", "base": f"/data/v{version}", "pattern": None}],
            "files": []}


def test_assets(store):
    name = unique("ds")
    first = store.register_asset("dataset", name, dataset_spec(1), content_hash=HASH)
    assert first["version"] == 1 and first["spec"] == dataset_spec(1)
    assert store.register_asset("dataset", name, dataset_spec(1), content_hash=HASH)["id"] == first["id"]
    second = store.register_asset("dataset", name, dataset_spec(2), content_hash="cd" * 32)
    assert second["version"] == 2
    with pytest.raises(ConflictError):
        store.register_asset("dataset", name, dataset_spec(3), create_new_version=False)
    assert store.get_asset("dataset", name)["version"] == 2
    assert store.get_asset("dataset", name, 1)["id"] == first["id"]
    assert store.get_asset_by_id(first["id"])["name"] == name
    assert store.get_asset_by_id("no-such-id") is None
    assert [a["version"] for a in store.list_assets("dataset", name)] == [1, 2]
    assert [a["version"] for a in store.list_assets("dataset", name, latest_only=True)] == [2]
    disabled = store.update_asset(first["id"], state="disabled")
    assert disabled["state"] == "disabled"
    assert [a["version"] for a in store.list_assets("dataset", name, state="active")] == [2]
    for bad in (dict(kind="bogus"), dict(name="../x"), dict(content_hash="zz"), dict(state="Pwned")):
        args = {"kind": "dataset", "name": name, **bad}
        with pytest.raises(ConfigError):
            store.register_asset(args.pop("kind"), args.pop("name"), dataset_spec(9), **args)
    with pytest.raises(NotFoundError):
        store.update_asset("no-such-id", state="active")


def test_asset_names_may_hold_spaces_inside_as_azure_dataset_names_did(store):
    name = f"diabetes data {unique('v')}"
    first = store.register_asset("dataset", name, dataset_spec(1), content_hash=HASH)
    assert store.get_asset("dataset", name)["id"] == first["id"]
    assert [a["name"] for a in store.list_assets("dataset", name)] == [name]
    many, = store.register_assets("dataset", [{"name": f"{name} b", "spec": dataset_spec(2)}])
    assert many["name"] == f"{name} b"
    run = new_run(store)["run_id"]
    store.record_lineage(run, "input", "dataset", name, 1)
    for bad in (" leading", "trailing ", "tab\tinside"):
        with pytest.raises(ConfigError):
            store.register_asset("dataset", bad, dataset_spec(9))


def test_register_assets_registers_many_at_once_keyed_by_content_with_lineage(store):
    run = new_run(store)["run_id"]
    names = [unique("m") for _ in range(3)]
    kept = store.register_asset("dataset", names[0], dataset_spec(1), content_hash=HASH)
    items = [{"name": names[0], "spec": dataset_spec(1), "content_hash": HASH, "run_id": run},
             {"name": names[1], "spec": dataset_spec(2), "content_hash": HASH, "run_id": run},
             {"name": names[1], "spec": dataset_spec(3), "content_hash": "cd" * 32, "run_id": run},
             {"name": names[2], "spec": dataset_spec(4)}]
    rows = store.register_assets("dataset", items)
    assert [(r["name"], r["version"], r["spec"], r["state"]) for r in rows] == [
        (names[0], 1, dataset_spec(1), "active"), (names[1], 1, dataset_spec(2), "active"),
        (names[1], 2, dataset_spec(3), "active"), (names[2], 1, dataset_spec(4), "active")]
    assert rows[0]["id"] == kept["id"]  # the content its name had: that version
    assert [r["run_id"] for r in rows[1:]] == [run, run, None]
    again = store.register_assets("dataset", items[:3])  # a retry registers nothing twice
    assert [r["id"] for r in again] == [r["id"] for r in rows[:3]]
    assert [a["version"] for a in store.list_assets("dataset", names[1])] == [1, 2]
    assert sorted((r["role"], r["name"], r["version"]) for r in store.list_lineage(run_id=run)) == sorted(
        [("output", names[0], 1), ("output", names[1], 1), ("output", names[1], 2)])
    assert store.register_assets("dataset", []) == []


@pytest.mark.parametrize("bad, error", [
    ({"spec": {"type": "file", "files": []}}, r"assets\[1\].*field 'sources'"),
    ({"name": "../x"}, r"assets(\[1\]|\.1\.).*name"),  # the server names it body.assets.1.name
    ({"content_hash": "zz"}, r"assets(\[1\]|\.1\.).*content_hash"),
    ({"state": "Pwned"}, r"assets(\[1\]|\.1\.).*state"),
])
def test_register_assets_checks_every_item_before_writing_any(store, bad, error):
    good = {"name": unique("m"), "spec": dataset_spec(1)}
    with pytest.raises(ConfigError, match=error):
        store.register_assets("dataset", [good, {"name": unique("m"), "spec": dataset_spec(2), **bad}])
    assert store.get_asset("dataset", good["name"]) is None
    with pytest.raises(NotFoundError):
        store.register_assets("dataset", [{**good, "run_id": "no_such_run"}])
    assert store.get_asset("dataset", good["name"]) is None


def test_a_spec_that_does_not_fit_its_kind_is_refused_naming_the_field(store):
    name = unique("ds")
    with pytest.raises(ConfigError, match=r"spec of a dataset: field 'sources': Field required"):
        store.register_asset("dataset", name, {"type": "file", "files": []})
    with pytest.raises(ConfigError, match=r"spec of a dataset: field 'sources\.0\.base': .*absolute path"):
        store.register_asset("dataset", name, {**dataset_spec(1), "sources": [{"kind": "local", "base": "data"}]})
    assert store.get_asset("dataset", name) is None
    row = store.register_asset("dataset", name, dataset_spec(1))
    with pytest.raises(ConfigError, match=r"spec of a dataset: field 'type': Input should be 'file' or 'tabular'"):
        store.update_asset(row["id"], spec={**dataset_spec(1), "type": "table"})
    assert store.get_asset_by_id(row["id"])["spec"] == dataset_spec(1)


def test_lineage(store):
    run = new_run(store)["run_id"]
    store.record_lineage(run, "input", "dataset", "train", 3, label="training")
    store.record_lineage(run, "input", "dataset", "train", 3, label="training")
    rows = store.list_lineage(run_id=run)
    assert [(r["role"], r["name"], r["version"], r["label"]) for r in rows] == [("input", "train", 3, "training")]
    with pytest.raises(ConfigError):
        store.record_lineage(run, "sideways", "dataset", "train", 3)
    with pytest.raises(NotFoundError):
        store.record_lineage("no_such_run", "input", "dataset", "train", 3)


def test_schedule_firings(store):
    schedule = unique("sched")
    assert store.claim_firing(schedule, "2026-12-01T00:00") is True
    assert store.claim_firing(schedule, "2026-12-01T00:00") is False
    run = new_run(store)["run_id"]
    store.end_firing(schedule, "2026-12-01T00:00", run_id=run)
    assert [(f["slot"], f["run_id"]) for f in store.list_firings(schedule)] == [("2026-12-01T00:00", run)]


def test_every_store_implements_the_whole_contract():
    for kind in (SqlStore, HttpStore):
        assert not getattr(kind, "__abstractmethods__", None), kind
        assert issubclass(kind, RunStore)
