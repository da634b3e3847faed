"""The shape of each asset kind's spec (runyard.store.asset_specs, issue #12): every spec
runyard's own writers produce fits it (registered here through the real writers on a
workspace folder); a spec that does not fit is refused with a message naming the kind and
the field, by the store and by the workspace server (a 400); and a row stored before the
check existed (planted in the database here) gives its readers a ConfigError naming the
asset: the scheduler logs one line for it and fires the others, the server's submit routes
answer 400 - never a KeyError, a TypeError or a 500."""

from __future__ import annotations

import copy
import json
import time
import uuid

import fsspec
import pytest
import requests
import sqlalchemy as sa

from runyard import (CommandStep, Dataset, Datastore, Experiment, Model, OutputFileDatasetConfig, Pipeline,
                     PipelineParameter, PythonScriptStep, Workspace)
from runyard.data.dataset import register_run_output
from runyard.errors import ConfigError
from runyard.pipeline import PipelineEndpoint, PublishedPipeline, Schedule, ScheduleRecurrence
from runyard.pipeline.scheduler import Scheduler
from runyard.store import asset_specs, checks
from runyard.store import schema as t
from server_service import start_server, stop_server

TOKEN = "asset-specs-suite-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCRIPT = "import sys\nprint(sys.argv)\n"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A workspace folder holding an asset of every kind, each made by runyard's own writers."""
    root = tmp_path_factory.mktemp("asset-specs")
    ws = Workspace.create(root / "ws")
    data = root / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "sub" / "b.csv").write_text("x,y\n3,4\n")
    (data / "t.parquet").write_bytes(b"PAR1" + b"\0" * 8 + b"PAR1")
    src = root / "src"
    src.mkdir()
    (src / "step.py").write_text(SCRIPT)
    (root / "model.pkl").write_bytes(b"weights")
    (root / "model_dir" / "deep").mkdir(parents=True)
    (root / "model_dir" / "deep" / "w.bin").write_bytes(b"w")
    (root / "model_dir" / "conf.json").write_text("{}")
    in_memory = f"specs-{uuid.uuid4().hex}/m.csv"
    fsspec.filesystem("memory").pipe(f"/lake/{in_memory}", b"x\n1\n")

    # datastores and datasets
    local = Datastore.register_local(ws, "raw", data)
    Datastore.register_local(ws, "raw", root, overwrite=True)
    Datastore.register_local(ws, "raw", data, overwrite=True)
    lake = Datastore.register_fsspec(ws, "lake", "memory://lake/", skip_instance_cache=True)
    files = Dataset.File.from_files([(local, "**/*.csv")]).register(ws, "files", description="two csv files",
                                                                    tags={"team": "a"})
    Dataset.File.from_files(str(data / "a.csv")).register(ws, "one-file")
    table = Dataset.Tabular.from_delimited_files([(local, "sub/*.csv"), str(data / "a.csv")],
                                                 separator=",").register(ws, "table")
    Dataset.Tabular.from_parquet_files(str(data / "t.parquet")).register(ws, "parquet")
    Dataset.File.from_files(f"memory://lake/{in_memory}").register(ws, "in-memory")
    Dataset.File.from_files((lake, in_memory)).register(ws, "on-lake")

    # models: from files, from a folder, from a run; then changed
    model = Model.register(ws, str(root / "model.pkl"), "clf", tags={"area": "x", "none": None},
                           properties={"p": 1}, description="a model", datasets=[("training data", files)],
                           sample_input_dataset=table, model_framework=Model.Framework.SCIKITLEARN,
                           model_framework_version="1.5", resource_configuration={"cpu": 1, "memory_in_gb": 0.5})
    Model.register(ws, str(root / "model_dir"), "folder", child_paths=["deep/w.bin"])
    run = Experiment(ws, "writers").start_logging()
    run.upload_file("outputs/model.pkl", root / "model.pkl")
    run.upload_file("outputs/prepared/p.csv", data / "a.csv")
    run.complete()
    run.register_model("from-run", "outputs/model.pkl", tags={"k": "v"})
    model.add_tags({"stage": "prod"})
    model.add_properties({"q": "2"})
    model.remove_tags(["area"])
    model.update(description="changed", sample_output_dataset=table, resource_configuration={"gpu": 0})
    Model(ws, "folder").delete()
    register_run_output(ws, run.id, "outputs/prepared", {"name": "prepared", "description": None, "tags": {},
                                                         "format": None})

    # a published pipeline of every kind of argument, and an endpoint over two of them
    factor, where = PipelineParameter("factor", default_value=2), PipelineParameter("where", default_value="-")
    prepared = OutputFileDatasetConfig("prepared", destination=(local, "out/{run-id}"))
    registered = OutputFileDatasetConfig("registered").read_delimited_files().register_on_complete(
        "step-output", description="from a step", tags={"a": "b"})
    prep = PythonScriptStep("step.py", name="prep", source_directory=str(src),
                            arguments=["--out", prepared, "--registered", registered, "--factor", factor, 1.5,
                                       "--data", files.as_named_input("raw_files").as_mount(), "--where", where])
    train = PythonScriptStep("step.py", name="train", source_directory=str(src), allow_reuse=False,
                             arguments=["--in", prepared.as_input("prepared_in")],
                             inputs=[table.as_named_input("table").as_download("tables/here"),
                                     Dataset.File.from_files(str(data / "sub")).as_named_input("loose")])
    listing = CommandStep(["ls", prepared.as_input("listed"), factor], name="list", source_directory=str(src))
    shell = CommandStep("echo hello", name="shell", source_directory=str(src))
    pipeline = Pipeline(ws, [prep, train, listing, shell], description="every argument")
    first = pipeline.publish("everything", version="1.0")
    second = pipeline.publish("everything", description="again", version=2)
    endpoint = PipelineEndpoint.publish(ws, "endpoint", "one name", first)
    endpoint.add_default(second)
    endpoint.add(first)
    first.disable()
    first.enable()

    # schedules: a recurrence, and a watched folder (with its manifest), then changed
    recurrence = ScheduleRecurrence("Week", 1, week_days=["Monday", "Friday"], time_of_day="06:30",
                                    time_zone="Europe/Berlin", start_time="2030-01-01T00:00:00")
    nightly = Schedule.create(ws, "nightly", first.id, "scheduled", recurrence=recurrence,
                              pipeline_parameters={"factor": 3}, description="every week")
    nightly.update(recurrence=ScheduleRecurrence("Hour", 2), pipeline_parameters={"where": "here"},
                   continue_on_step_failure=True)
    nightly.disable()
    nightly.enable()
    watched = Schedule.create_for_pipeline_endpoint(ws, "on-data", endpoint.id, "scheduled", datastore=local,
                                                    path_on_datastore="sub", polling_interval=0.5,
                                                    data_path_parameter_name="where")
    watched.update(polling_interval=2)
    watched.disable()
    watched.enable()
    Schedule.create(ws, "on-folder", second.id, "scheduled", datastore=str(data))
    for schedule in Schedule.list(ws):  # the server below fires nothing of these
        schedule.disable()
    return ws


def test_every_spec_runyard_writes_fits_its_kind(written):
    assert set(asset_specs.SPECS) == checks.ASSET_KINDS
    for kind in sorted(checks.ASSET_KINDS):
        rows = written._store.list_assets(kind)
        assert rows, f"no {kind} was written"
        for row in rows:
            asset_specs.check_stored(row)
            asset_specs.check_spec(kind, row["spec"])
    # what the writers made reads back through their own readers
    assert {d.name for d in Dataset.list(written)} >= {"files", "table", "parquet", "in-memory", "prepared"}
    assert PipelineEndpoint.get(written, name="endpoint").default_version == "1"
    assert [s.name for s in Schedule.list(written, active_only=False)] == ["nightly", "on-data", "on-folder"]


def test_a_step_output_registered_by_a_pipeline_run_fits(written, tmp_path):
    """The driver's write: a dataset registered from a step's output, as a table."""
    run = Experiment(written, "outputs").start_logging()
    (tmp_path / "o.csv").write_text("x\n1\n")
    run.upload_file("outputs/registered/o.csv", tmp_path / "o.csv")
    run.complete()
    step = PublishedPipeline.get_by_name(written, "everything")._row["spec"]["definition"]["steps"][0]
    registration = next(r for r in step["register"] if r["output"] == "registered")
    dataset = register_run_output(written, run.id, "outputs/registered", registration)
    asset_specs.check_stored(written._store.get_asset_by_id(dataset.id))


def _spec(ws: Workspace, kind: str, name: str) -> dict:
    return copy.deepcopy(ws._store.get_asset(kind, name)["spec"])


def _set(path: str, value: object):
    """A change of the spec at ``path`` (dots; a number indexes a list); ``...``: the key removed."""
    def change(spec: dict) -> dict:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = spec
        for part in parents:
            node = node[part]
        if value is ...:
            del node[last]
        else:
            node[last] = value
        return spec
    return change


#: (kind, a name written above, a change that makes its spec wrong, what the refusal says)
MALFORMED = [
    ("dataset", "files", _set("files.0.sha256", ...), "field 'files.0.sha256': Field required"),
    ("dataset", "files", _set("files.1.path", "../../etc/passwd"), "field 'files.1.path': Value error, expected a "
                                                                   "relative path inside its folder"),
    ("dataset", "files", _set("files.0.source", 3), "files.0.source is 3, but there are 1 source(s)"),
    ("dataset", "files", _set("sources.0.kind", "ftp"), "field 'sources.0': Input tag 'ftp'"),
    ("dataset", "table", _set("format", None), "a tabular dataset has a format"),
    ("dataset", "table", _set("format.header", "yes"), "field 'format.header': Input should be a valid boolean"),
    ("datastore", "raw", _set("path", "relative/folder"), "field 'path': Value error, expected an absolute path"),
    ("datastore", "lake", _set("type", "s3"), "field '(top level)': Input tag 's3'"),
    ("model", "clf", _set("path", "../../.bashrc"), "field 'path': Value error, expected one file or folder name"),
    ("model", "clf", _set("holder", ...), "field 'holder': Field required"),
    ("model", "from-run", _set("files.0", "elsewhere/x"), "is not prefix 'outputs/model.pkl' or a file under it"),
    ("model", "clf", _set("datasets.0.version", "1"), "field 'datasets.0.version': Input should be a valid integer"),
    ("published_pipeline", "everything", _set("definition.steps.0.name", 5),
     "field 'definition.steps.0.name': Input should be a valid string"),
    ("published_pipeline", "everything", _set("definition", ...), "field 'definition': Field required"),
    ("published_pipeline", "everything", _set("definition.parameters", []),
     "field 'definition.parameters': Input should be a valid dictionary"),
    ("published_pipeline", "everything", _set("definition.steps", []), "field 'definition.steps': List should have "
                                                                        "at least 1 item"),
    ("published_pipeline", "everything", _set("definition.steps.1.upstream", ["nowhere"]),
     "waits for 'nowhere', which is no step before it"),
    ("published_pipeline", "everything", _set("definition.steps.0.job.arguments.0", {"txt": "x"}),
     "field 'definition.steps.0.job.arguments.0': expected {\"text\": ...}"),
    ("published_pipeline", "everything", _set("definition.steps.0.job.arguments.5", {"parameter": "gone"}),
     "step 'prep' takes parameter 'gone', which is not in parameters"),
    ("published_pipeline", "everything", _set("definition.steps.0.outputs.0", "../up"),
     "field 'definition.steps.0.outputs.0': String should match pattern"),
    ("pipeline_endpoint", "endpoint", _set("default_version", "9"), "default_version '9' is not one of the versions"),
    ("pipeline_endpoint", "endpoint", _set("pipelines", ...), "field 'pipelines': Field required"),
    ("pipeline_endpoint", "endpoint", _set("pipelines.0.version", "first"),
     "field 'pipelines.0.version': String should match pattern"),
    ("schedule", "nightly", _set("recurrence", ...), "field 'recurrence': Field required"),
    ("schedule", "nightly", _set("recurrence.frequency", "Fortnight"),
     "field 'recurrence.frequency': Input should be 'Minute', 'Hour', 'Day', 'Week' or 'Month'"),
    ("schedule", "nightly", _set("recurrence.hours", [25]),
     "field 'recurrence': Value error, ScheduleRecurrence: hours can only be given with frequency 'Day' or 'Week'"),
    ("schedule", "nightly", _set("pipeline_endpoint_id", "abc"), "a pipeline_id or a pipeline_endpoint_id, one of"),
    ("schedule", "on-data", _set("polling_interval", "5"), "field 'polling_interval': Input should be a valid number"),
    ("schedule", "on-data", _set("polling_interval", None), "polling_interval must be set"),
    ("schedule", "nightly", _set("created_at", "yesterday"), "field 'created_at': Input should be a valid number"),
]


MANIFEST = [
    (_set("files.new", "big"), "field 'files.new': Input should be a valid list"),
    (_set("files.new", [1, 2, 3]), "field 'files.new': List should have at most 2 items"),
    (_set("files", [["new", 1, 2]]), "field 'files': Input should be a valid dictionary"),
]


CASES = MALFORMED + [("schedule_manifest", None, *case) for case in MANIFEST]


@pytest.mark.parametrize("kind, name, change, said", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_spec_that_does_not_fit_is_refused_naming_the_field(written, kind, name, change, said):
    store = written._store
    if kind == "schedule_manifest":  # a watched folder's manifest is named by its schedule's id
        name = store.list_assets("schedule_manifest")[0]["name"]
    bad = change(_spec(written, kind, name))
    before = len(store.list_assets(kind, name))
    with pytest.raises(ConfigError) as refused:
        store.register_asset(kind, name, bad)
    assert str(refused.value).startswith(f"spec of a {kind}: ") and said in str(refused.value)
    assert len(store.list_assets(kind, name)) == before
    latest = store.get_asset(kind, name)
    with pytest.raises(ConfigError, match=f"spec of a {kind}: "):
        store.update_asset(latest["id"], spec=bad)
    assert store.get_asset_by_id(latest["id"])["spec"] == latest["spec"]


@pytest.fixture(scope="module")
def server(written, tmp_path_factory):
    """A workspace server over the written workspace's database (its scheduler runs too)."""
    folder = tmp_path_factory.mktemp("asset-specs-server")
    proc, url = start_server(f"sqlite:///{written.path / 'runyard.db'}", written.path / "artifacts",
                             folder / "server.log", token=TOKEN)
    yield url, folder / "server.log"
    stop_server(proc)


def test_the_server_answers_a_spec_that_does_not_fit_with_a_400_naming_the_field(written, server):
    url, _ = server
    for kind, name, change, said in MALFORMED:
        answer = requests.post(f"{url}/api/v1/assets/{kind}", headers=AUTH, timeout=30,
                               json={"name": name, "spec": change(_spec(written, kind, name))})
        assert answer.status_code == 400, (kind, said, answer.text)
        assert answer.json()["message"].startswith(f"spec of a {kind}: ") and said in answer.json()["message"]
        row = written._store.get_asset(kind, name)
        answer = requests.patch(f"{url}/api/v1/asset-ids/{row['id']}", headers=AUTH, timeout=30,
                                json={"spec": change(_spec(written, kind, name))})
        assert answer.status_code == 400 and said in answer.json()["message"], answer.text
    # a spec that fits is stored, as it was sent
    spec = _spec(written, "datastore", "lake")
    answer = requests.post(f"{url}/api/v1/assets/datastore", headers=AUTH, timeout=30,
                           json={"name": "lake-again", "spec": spec})
    assert answer.status_code == 200 and answer.json()["spec"] == spec


def plant(ws: Workspace, kind: str, name: str, spec: object, state: str = "active") -> str:
    """An asset row written straight into the database, as before the store checked specs."""
    asset_id = uuid.uuid4().hex
    now = time.time()
    with ws._store.engine.begin() as conn:
        conn.execute(sa.insert(t.assets).values(kind=kind, name=name, version=1, id=asset_id, hash=None,
                                                spec=json.dumps(spec), state=state, run_id=None,
                                                created_at=now, updated_at=now))
    return asset_id


def test_a_planted_published_pipeline_is_a_config_error_naming_it(written):
    spec = _spec(written, "published_pipeline", "everything")
    del spec["definition"]["steps"][0]["name"]
    planted = plant(written, "published_pipeline", "planted-pipeline", spec)
    said = (f"published_pipeline 'planted-pipeline' version 1 (id {planted}): its stored spec does not fit a "
            f"published_pipeline's")
    with pytest.raises(ConfigError, match=r"field 'definition\.steps\.0\.name': Field required") as refused:
        PublishedPipeline.get(written, planted)
    assert str(refused.value).startswith(said)
    with pytest.raises(ConfigError, match="planted-pipeline"):
        PublishedPipeline.list(written)
    endpoint = plant(written, "pipeline_endpoint", "planted-endpoint", {"default_version": 0, "pipelines": []})
    with pytest.raises(ConfigError, match=rf"pipeline_endpoint 'planted-endpoint' version 1 \(id {endpoint}\).*"
                                          r"field 'default_version': Input should be a valid string"):
        PipelineEndpoint.get(written, name="planted-endpoint")
    schedule = plant(written, "schedule", "planted-schedule", {"pipeline_id": planted}, state="disabled")
    with pytest.raises(ConfigError, match=rf"schedule 'planted-schedule' version 1 \(id {schedule}\).*"
                                          r"field 'recurrence': Field required"):
        Schedule.get(written, schedule)


def test_the_server_answers_a_planted_pipeline_with_a_400(written, server):
    url, _ = server
    spec = _spec(written, "published_pipeline", "everything")
    spec["definition"]["parameters"] = ["factor"]
    planted = plant(written, "published_pipeline", "planted-rest", spec)
    answer = requests.post(f"{url}/api/v1/published-pipelines/{planted}/submit", headers=AUTH, timeout=60,
                           json={"experiment_name": "rest"})
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert f"published_pipeline 'planted-rest' version 1 (id {planted})" in message
    assert "field 'definition.parameters': Input should be a valid dictionary" in message
    plant(written, "pipeline_endpoint", "planted-rest", {"default_version": "0",
                                                         "pipelines": [{"version": "0", "pipeline_id": planted}]})
    answer = requests.post(f"{url}/api/v1/pipeline-endpoints/planted-rest/submit", headers=AUTH, timeout=60,
                           json={"experiment_name": "rest"})
    assert answer.status_code == 400 and "field 'definition.parameters'" in answer.json()["message"], answer.text
    plant(written, "pipeline_endpoint", "planted-rest-2", {"default_version": "0", "pipelines": "all"})
    answer = requests.post(f"{url}/api/v1/pipeline-endpoints/planted-rest-2/submit", headers=AUTH, timeout=60,
                           json={"experiment_name": "rest"})
    assert answer.status_code == 400 and "field 'pipelines': Input should be a valid list" in answer.text


def test_the_servers_scheduler_logs_a_planted_schedule_and_goes_on(written, server):
    _, log = server
    planted = plant(written, "schedule", "planted-active", {"recurrence": None, "created_at": "now"})
    deadline = time.monotonic() + 60
    while planted not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    said = [line for line in log.read_text().splitlines() if planted in line]
    assert said and f"schedule skipped: schedule 'planted-active' version 1 (id {planted})" in said[0], said
    assert "field 'created_at': Input should be a valid number" in said[0]
    assert "KeyError" not in log.read_text() and "Traceback" not in log.read_text()


def test_the_scheduler_logs_a_planted_schedule_once_and_fires_the_others(tmp_path, project):
    ws = Workspace.create(tmp_path / "ws")
    src = project({"step.py": SCRIPT})
    published = Pipeline(ws, [PythonScriptStep("step.py", name="s", source_directory=src)]).publish("p")
    good = Schedule.create(ws, "good", published.id, "fired", recurrence=ScheduleRecurrence("Minute", 1))
    published.disable()  # its firing records an error: no pipeline run is started here
    spec = dict(good._row["spec"])
    del spec["recurrence"]
    missing = plant(ws, "schedule", "no-recurrence", spec)
    wrong = plant(ws, "schedule", "wrong-types", {**good._row["spec"], "recurrence": {"frequency": "Minute",
                                                                                       "interval": "1"}})
    lines: list[str] = []
    scheduler = Scheduler(ws, clock=lambda: time.time() + 5, log=lines.append)
    fired = scheduler.tick()
    assert [(f["name"], f["run_id"]) for f in fired] == [("good", None)] and "disabled" in fired[0]["error"]
    scheduler.tick()
    refused = [line for line in lines if line.startswith("schedule skipped:")]
    assert len(refused) == 2, lines
    assert any(f"schedule 'no-recurrence' version 1 (id {missing})" in line and
               "field 'recurrence': Field required" in line for line in refused)
    assert any(f"schedule 'wrong-types' version 1 (id {wrong})" in line and
               "field 'recurrence.interval': Input should be a valid integer" in line for line in refused)
    assert not any("KeyError" in line or "TypeError" in line for line in lines), lines
