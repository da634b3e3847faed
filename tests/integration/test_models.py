"""Registered models: versions keyed by content, lookups, filters, downloads, lineage from runs
and datasets, bad input -- on SQLite, PostgreSQL and a workspace server (files over HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from runyard import Experiment, Model, ScriptRunConfig, Workspace
from runyard.errors import ConfigError, NotFoundError


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("server", marks=pytest.mark.postgres)])
def ws(request, tmp_path) -> Workspace:
    if request.param == "server":
        from conftest import SERVER_TOKEN
        return Workspace.get(request.getfixturevalue("workspace_server"), token=SERVER_TOKEN)
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"ws_{uuid.uuid4().hex[:12]}")
    return Workspace.create(tmp_path / "ws", store_url=url)


def unique(prefix: str) -> str:
    """Model names differ per test: the served workspace is shared by the whole session."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class RegisteredDataset:
    """What a registered Dataset offers a model's lineage: a name and a version."""

    def __init__(self, name: str, version: int):
        self.name, self.version = name, version


@pytest.fixture
def model_files(tmp_path) -> Path:
    folder = tmp_path / "local"
    (folder / "model" / "sub").mkdir(parents=True)
    (folder / "model.pkl").write_bytes(os.urandom(4096))
    (folder / "model" / "weights.bin").write_bytes(os.urandom(70_000))
    (folder / "model" / "sub" / "config.json").write_text('{"layers": 3}')
    return folder


def test_register_versions_get_and_download(ws, model_files, tmp_path):
    name = unique("clf")
    first = Model.register(ws, model_files / "model.pkl", name, tags={"stage": "dev"},
                           model_framework=Model.Framework.SCIKITLEARN, model_framework_version="1.5")
    assert (first.name, first.version, first.id) == (name, 1, f"{name}:1")
    assert first.tags == {"stage": "dev"} and first.framework == "ScikitLearn" and first.run_id is None
    # The same file with the same arguments is the same version; a changed byte is the next one.
    assert Model.register(ws, model_files / "model.pkl", name, tags={"stage": "dev"},
                          model_framework="ScikitLearn", model_framework_version="1.5").version == 1
    (model_files / "model.pkl").write_bytes(b"retrained")
    second = Model.register(ws, str(model_files / "model.pkl"), name, description="retrained")
    assert second.version == 2

    assert Model(ws, name).version == 2
    assert Model(ws, name, version=1).tags == {"stage": "dev"}
    assert Model(ws, id=f"{name}:1") == first
    assert Model(ws, name).description == "retrained"
    assert ws.models[name].version == 2

    written = first.download(tmp_path / "v1")
    assert written == str(tmp_path / "v1" / "model.pkl")
    assert Path(written).read_bytes() != b"retrained"
    assert Path(Model(ws, name).download(tmp_path / "v2")).read_bytes() == b"retrained"

    folder = Model.register(ws, model_files / "model", unique("net"))
    assert folder.get_file_names() == ["model/sub/config.json", "model/weights.bin"]
    out = Path(folder.download(tmp_path / "net"))
    assert out == tmp_path / "net" / "model"
    for rel in ("weights.bin", "sub/config.json"):
        assert (out / rel).read_bytes() == (model_files / "model" / rel).read_bytes()
    assert sorted(p.name for p in (tmp_path / "net").iterdir()) == ["model"]  # no staging left


def test_child_paths_keep_only_those_files(ws, model_files, tmp_path):
    model = Model.register(ws, model_files / "model", unique("part"), child_paths=["sub/config.json"])
    assert model.get_file_names() == ["model/sub/config.json"]
    with pytest.raises(ConfigError, match="child_paths not in .*missing.txt"):
        Model.register(ws, model_files / "model", unique("part"), child_paths=["missing.txt"])


def test_list_filters_by_name_tags_properties_and_latest(ws, model_files):
    a, b = unique("a"), unique("b")
    Model.register(ws, model_files / "model.pkl", a, tags={"area": "health", "owner": "x"})
    (model_files / "model.pkl").write_bytes(b"v2")
    Model.register(ws, model_files / "model.pkl", a, tags={"area": "finance"}, properties={"auc": "0.9"})
    Model.register(ws, model_files / "model.pkl", b, tags={"area": "health"})
    mine = {a, b}

    def ids(**filters) -> list[str]:
        return [m.id for m in Model.list(ws, **filters) if m.name in mine]

    assert ids() == [f"{a}:1", f"{a}:2", f"{b}:1"]
    assert ids(name=a) == [f"{a}:1", f"{a}:2"]
    assert ids(latest=True) == [f"{a}:2", f"{b}:1"]
    assert ids(tags=[["area", "health"]]) == [f"{a}:1", f"{b}:1"]
    assert ids(tags=["owner"]) == [f"{a}:1"]
    assert ids(tags={"area": "health"}, latest=True) == [f"{a}:1", f"{b}:1"]
    assert ids(properties=[["auc", "0.9"]]) == [f"{a}:2"]
    # Model(ws, name, tags=...) is the newest version that matches.
    assert Model(ws, a, tags=[["area", "health"]]).version == 1


def test_list_by_dataset_id_and_azure_paging_arguments(ws, model_files, tmp_path):
    from runyard import Dataset
    (tmp_path / "rows.csv").write_text("x\n1\n")
    dataset = Dataset.File.from_files(str(tmp_path / "rows.csv")).register(ws, unique("rows"))
    with_data, without = unique("with"), unique("without")
    Model.register(ws, model_files / "model.pkl", with_data, datasets=[("training data", dataset)])
    Model.register(ws, model_files / "model.pkl", without)
    listed = Model.list(ws, dataset_id=dataset.id, expand=False, page_count=10)
    assert [m.id for m in listed] == [f"{with_data}:1"]
    assert Model(ws, with_data, expand=False).version == 1
    with pytest.raises(ConfigError, match="Model.list\\(\\) got an unexpected argument: colour"):
        Model.list(ws, colour="red")
    with pytest.raises(ConfigError, match="Model\\(\\) got unexpected arguments: a, b"):
        Model(ws, with_data, b=1, a=2)


def test_tags_properties_update_and_delete(ws, model_files):
    model = Model.register(ws, model_files / "model.pkl", unique("m"), tags={"a": "1", "b": "2"},
                           properties={"auc": 0.91})
    model.add_tags({"c": 3})
    model.remove_tags(["a"])
    assert Model(ws, model.name).tags == {"b": "2", "c": "3"}
    model.add_properties({"data": "v1"})
    model.add_properties({"auc": "0.91"})  # the same value again is fine
    with pytest.raises(ConfigError, match="properties cannot change"):
        model.add_properties({"auc": "0.95"})
    assert Model(ws, model.name).properties == {"auc": "0.91", "data": "v1"}
    model.update(tags={"only": "this"}, description="promoted",
                 sample_input_dataset=RegisteredDataset("samples", 1))
    fresh = Model(ws, model.name)
    assert (fresh.tags, fresh.description) == ({"only": "this"}, "promoted")
    assert fresh.sample_input_dataset.name == "samples"

    # The same file and arguments again: version 1 no longer has those tags, so a new version.
    again = Model.register(ws, model_files / "model.pkl", model.name, tags={"a": "1", "b": "2"},
                           properties={"auc": 0.91})
    assert (again.version, again.tags) == (2, {"a": "1", "b": "2"})
    assert Model.register(ws, model_files / "model.pkl", model.name, tags={"a": "1", "b": "2"},
                          properties={"auc": 0.91}).version == 2

    again.delete()
    with pytest.raises(NotFoundError, match=f"model '{model.name}' has no version 2"):
        Model(ws, model.name, version=2)
    assert ws.models[model.name].version == 1
    model.delete()
    with pytest.raises(NotFoundError, match=model.name):
        Model(ws, model.name)
    assert model.name not in ws.models
    # Registering a deleted version's content again brings that version back.
    assert Model.register(ws, model_files / "model.pkl", model.name, tags={"a": "1", "b": "2"},
                          properties={"auc": 0.91}).version == 2


TRAIN = """\
import os, pickle, sys
from runyard import Run
run = Run.get_context()
os.makedirs("outputs/bundle", exist_ok=True)
with open("outputs/model.pkl", "wb") as fh:
    pickle.dump({"coef": [1.5, -2.0]}, fh)
with open("outputs/bundle/vocab.txt", "w") as fh:
    fh.write("a\\nb\\n")
# Registered while the job runs, before outputs/ is uploaded at its end.
model = run.register_model(sys.argv[1], "outputs/model.pkl", tags={"where": "in-job"})
print("registered", model.id)
"""


def test_run_register_model_keeps_the_run_and_datasets_as_lineage(ws, project, tmp_path):
    in_job, name = unique("injob"), unique("reg")
    src = project({"train.py": TRAIN})
    run = Experiment(ws, unique("models")).submit(
        ScriptRunConfig(str(src), script="train.py", arguments=[in_job]))
    details = run.wait_for_completion(timeout=300)
    assert details["status"] == "Completed", run.get_details_with_logs()

    made_in_job = Model(ws, in_job)
    assert made_in_job.run_id == run.id and made_in_job.tags == {"where": "in-job"}

    training = RegisteredDataset("diabetes", 3)
    model = run.register_model(name, "outputs/model.pkl", tags={"team": "a"},
                               datasets=[("training data", training)], model_framework="ScikitLearn")
    assert (model.version, model.run_id, model.experiment_name) == (1, run.id, run.experiment.name)
    assert model.datasets == {"training data": [("diabetes", 3)]}
    assert model.datasets["training data"][0].name == "diabetes"
    assert model.run == run
    # Registering the same thing again (a retried script) keeps the version.
    assert run.register_model(name, "outputs/model.pkl", tags={"team": "a"},
                              datasets=[("training data", training)], model_framework="ScikitLearn").version == 1
    bundle = run.register_model(name, "outputs/bundle/")
    assert bundle.version == 2 and bundle.get_file_names() == ["bundle/vocab.txt"]

    lineage = ws._store.list_lineage(kind="model", name=name)
    assert [(r["run_id"], r["role"], r["version"]) for r in lineage] == [(run.id, "output", 1),
                                                                         (run.id, "output", 2)]
    assert [m.id for m in Model.list(ws, run_id=run.id)] == sorted(
        [f"{in_job}:1", f"{name}:1", f"{name}:2"], key=lambda i: (i.split(":")[0], i))

    got = Path(Model(ws, name, version=1).download(tmp_path / "dl"))
    run.download_file("outputs/model.pkl", str(tmp_path / "from-run.pkl"))
    assert got.read_bytes() == (tmp_path / "from-run.pkl").read_bytes()
    folder = Path(bundle.download(tmp_path / "dl"))
    assert (folder / "vocab.txt").read_text() == "a\nb\n"


def test_bad_input_is_refused_before_anything_is_written(ws, model_files, tmp_path):
    name = unique("bad")
    before = ws._store.list_assets("model")
    with pytest.raises(ConfigError, match="model_path '.*nope.pkl' does not exist"):
        Model.register(ws, tmp_path / "nope.pkl", name)
    with pytest.raises(ConfigError, match="model name 'bad name!'"):
        Model.register(ws, model_files / "model.pkl", "bad name!")
    with pytest.raises(ConfigError, match=r"datasets\[0\]: .* is not a registered dataset"):
        Model.register(ws, model_files / "model.pkl", name, datasets=[("training data", object())])
    with pytest.raises(ConfigError, match=r"datasets\[0\]: expected a \(scenario, dataset\) pair"):
        Model.register(ws, model_files / "model.pkl", name, datasets=[RegisteredDataset("d", 1)])
    with pytest.raises(ConfigError, match="tags must be a dict"):
        Model.register(ws, model_files / "model.pkl", name, tags=["x"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="empty folder"):
        Model.register(ws, tmp_path / "empty", name)
    assert ws._store.list_assets("model") == before

    run = Experiment(ws, unique("bad")).start_logging()
    run.upload_file("outputs/model.pkl", str(model_files / "model.pkl"))
    run.complete()
    with pytest.raises(ConfigError, match=r"'outputs/missing.pkl' is not a file or folder of run .*"
                                          r"its files: outputs/model.pkl"):
        run.register_model(name, "outputs/missing.pkl")
    with pytest.raises(ConfigError, match="relative path"):
        run.register_model(name, "../outside.pkl")
    with pytest.raises(ConfigError, match="unexpected argument: colour"):
        run.register_model(name, "outputs/model.pkl", colour="red")
    assert ws._store.list_assets("model") == before

    model = Model.register(ws, model_files / "model.pkl", name)
    with pytest.raises(NotFoundError, match=r"has no version 7; registered versions: 1"):
        Model(ws, name, version=7)
    with pytest.raises(NotFoundError, match="no model 'never-registered'"):
        Model(ws, "never-registered")
    with pytest.raises(ConfigError, match="must be NAME:VERSION"):
        Model(ws, id=name)
    with pytest.raises(ConfigError, match="version 'latest' must be a whole number"):
        Model(ws, name, version="latest")

    target = tmp_path / "deploy"
    target.mkdir()
    (target / "model.pkl").write_bytes(b"mine")
    with pytest.raises(ConfigError, match="already exists; pass exist_ok=True"):
        model.download(target)
    assert (target / "model.pkl").read_bytes() == b"mine"
    model.download(target, exist_ok=True)
    assert (target / "model.pkl").read_bytes() == (model_files / "model.pkl").read_bytes()


def test_a_broken_off_upload_is_invisible_and_completed_by_a_retry(ws, model_files, monkeypatch):
    name = unique("flaky")
    real_put = ws._artifacts.put_file
    calls = []

    def failing_put(holder, file_name, source, **options):
        calls.append(file_name)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_put(holder, file_name, source, **options)

    monkeypatch.setattr(ws._artifacts, "put_file", failing_put)
    with pytest.raises(OSError, match="disk full"):
        Model.register(ws, model_files / "model", name)
    assert name not in ws.models
    with pytest.raises(NotFoundError):
        Model(ws, name)
    monkeypatch.setattr(ws._artifacts, "put_file", real_put)
    model = Model.register(ws, model_files / "model", name)
    assert model.version == 1 and Model(ws, name).get_file_names() == model.get_file_names()


def test_get_model_path_downloads_into_the_model_cache(ws, model_files, tmp_path, monkeypatch):
    name = unique("scoring")
    Model.register(ws, model_files / "model.pkl", name)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFoundError, match="pass _workspace="):
        Model.get_model_path(name)
    path = Model.get_model_path(name, _workspace=ws)
    assert path == f"azureml-models/{name}/1/model.pkl"
    assert Path(path).read_bytes() == (model_files / "model.pkl").read_bytes()
    assert Model.get_model_path(name) == path  # found in the cache now
    assert Model.get_model_path(name, version=1) == path


def runyard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_cli_registers_lists_shows_and_downloads(tmp_path, model_files):
    project = tmp_path / "proj"
    project.mkdir()
    assert runyard("init", ".", cwd=project).returncode == 0
    done = runyard("model", "register", str(model_files / "model.pkl"), "--name", "cli-model",
                   "--tag", "stage=dev", "--framework", "ScikitLearn", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cli-model:1"

    listed = runyard("model", "list", "--tag", "stage=dev", "--json", cwd=project)
    assert [m["id"] for m in json.loads(listed.stdout)] == ["cli-model:1"]
    shown = json.loads(runyard("model", "show", "cli-model:1", "--json", cwd=project).stdout)
    assert shown["framework"] == "ScikitLearn" and shown["files"] == ["model.pkl"]
    assert "cli-model" in runyard("model", "list", cwd=project).stdout

    out = runyard("model", "download", "cli-model", "-o", "dl", cwd=project)
    assert out.returncode == 0, out.stderr
    assert (project / "dl" / "model.pkl").read_bytes() == (model_files / "model.pkl").read_bytes()
    again = runyard("model", "download", "cli-model", "-o", "dl", cwd=project)
    assert again.returncode == 2 and "exist_ok" in again.stderr
    missing = runyard("model", "show", "cli-model:5", cwd=project)
    assert missing.returncode == 3 and "registered versions: 1" in missing.stderr


def test_a_file_changed_after_registration_is_refused_on_download(ws, model_files, tmp_path):
    """A version records each file's sha256: bytes that changed since (in the workspace's files,
    or in the run a model was registered from) are refused on download, and nothing is written."""
    from runyard.errors import ConflictError
    model = Model.register(ws, model_files / "model.pkl", unique("pinned"))
    holder = model._row["spec"]["holder"]
    assert model._row["spec"]["sha256"] == {"model.pkl": _sha256((model_files / "model.pkl").read_bytes())}
    (tmp_path / "other").write_bytes(b"swapped")
    if ws.url is None:
        (ws._artifacts.run_dir(holder) / "model.pkl").write_bytes(b"swapped")
        with pytest.raises(ConfigError, match="changed since the version was registered"):
            model.download(tmp_path / "out")
        assert not any((tmp_path / "out").iterdir())
    else:  # the server keeps a registered version's files as they are
        with pytest.raises(ConflictError, match="stored already with other bytes"):
            ws._artifacts.put_file(holder, "model.pkl", tmp_path / "other")

    run = Experiment(ws, unique("pinned")).start_logging()
    run.upload_file("outputs/model.pkl", str(model_files / "model.pkl"))
    run.complete()
    from_run = run.register_model(unique("from-run"), "outputs/model.pkl")
    assert from_run._row["spec"]["sha256"] == {"outputs/model.pkl": _sha256((model_files / "model.pkl").read_bytes())}
    ws._artifacts.put_file(run.id, "outputs/model.pkl", tmp_path / "other")
    with pytest.raises(ConfigError, match=r"file 'outputs/model.pkl' changed since the version was registered"):
        from_run.download(tmp_path / "from-run")
    assert not (tmp_path / "from-run" / "model.pkl").exists()
    # Registering the run's file again is a new version, of the bytes it holds now.
    again = run.register_model(from_run.name, "outputs/model.pkl")
    assert again.version == 2 and Path(again.download(tmp_path / "again")).read_bytes() == b"swapped"


def _sha256(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()
