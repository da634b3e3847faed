"""A model per partition from a ParallelRunStep on the local target: registered by the workers
with ``EntryScript().register_model(..., partition=...)``, written in bulk once a mini batch
succeeded (a failed, timed-out or killed try registers nothing, a retry registers once), found
again with ``Model.get_by_partition``; and the naming and bad input of both."""

from __future__ import annotations

import pickle

import pytest

from runyard import Dataset, Datastore, Model, OutputFileDatasetConfig, Pipeline
from runyard import status as st
from runyard.errors import ConfigError, NotFoundError
from runyard.model import partition_model_name
from runyard.pipeline._parallel.models import MODELS_FOLDER
from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

import pandas as pd

# Store "1" trains at once; "2" raises on its first try, "3" kills its worker on its first try
# (both after registering); "4" always raises; "5" registers twice (bad input). Each try
# leaves a line in CALLS.
TRAIN = """\
    import argparse, os, pickle, signal
    import pandas as pd
    from runyard.parallel_run import EntryScript

    def init():
        global calls
        parser = argparse.ArgumentParser()
        parser.add_argument("--calls")
        calls = parser.parse_known_args()[0].calls

    def run(mini_batch, mini_batch_context):
        store = mini_batch_context.partition_key_value["store"]
        seen = os.path.join(calls, store)
        first = not os.path.exists(seen)
        with open(seen, "a") as fh:
            fh.write("try\\n")
        path = os.path.join(calls, f"model-{store}.pkl")
        with open(path, "wb") as fh:
            pickle.dump({"store": store, "total": int(mini_batch["sales"].sum())}, fh)
        name = EntryScript().register_model("sales", path, partition=mini_batch_context.partition_key_value,
                                            tags={"rows": len(mini_batch)}, model_framework="Custom")
        if store == "2" and first:
            raise ValueError("flaky")
        if store == "3" and first:
            os.kill(os.getpid(), signal.SIGKILL)
        if store == "4":
            raise ValueError("store 4 cannot be trained")
        if store == "5":
            EntryScript().register_model("sales", path, partition=mini_batch_context.partition_key_value)
        return [f"{store} {name}"]
    """


@pytest.fixture
def by_store(workspace, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    pd.DataFrame({"store": [1, 2, 3, 4, 5, 1, 2], "sales": [10, 20, 30, 40, 50, 60, 70]}).to_csv(
        folder / "sales.csv", index=False)
    store = Datastore.register_local(workspace, "raw", str(folder))
    return Dataset.Tabular.from_delimited_files((store, "sales.csv")).partition_by(
        ["store"], (store, "by-store"), name="sales_by_store")


def train_step(project, by_store, calls, **settings):
    src = project({"train.py": TRAIN})
    config = ParallelRunConfig(**{"environment": None, "entry_script": "train.py", "error_threshold": -1,
                                  "output_action": "append_row", "compute_target": "local", "node_count": 1,
                                  "source_directory": str(src), "process_count_per_node": 2,
                                  "partition_keys": ["store"], "run_max_try": 2, **settings})
    return ParallelRunStep("train", config, inputs=[by_store.as_named_input("sales")],
                           output=OutputFileDatasetConfig("models"), arguments=["--calls", str(calls)])


def test_a_model_per_partition_is_registered_once_and_only_for_partitions_that_succeeded(
        workspace, experiment, project, by_store, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    run = experiment.submit(Pipeline(workspace, [train_step(project, by_store, calls)]))
    run.wait_for_completion(timeout=180, raise_on_error=False)
    (step_run,) = run.find_step_run("train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = {r["partition"]["store"]: r for r in step_run.get_partition_results()}
    assert {store: (r["status"], r["tries"]) for store, r in rows.items()} == {
        "1": ("Succeeded", 1), "2": ("Succeeded", 2), "3": ("Succeeded", 2), "4": ("Failed", 2), "5": ("Failed", 2)}
    assert "already registered by this mini batch" in rows["5"]["error"]
    for store in ("1", "2", "3"):
        name = partition_model_name("sales", {"store": store})
        assert rows[store]["models"] == [f"{name}:1"]  # a retried mini batch registered once
        model = Model.get_by_partition(workspace, "sales", {"store": int(store)})
        assert (model.name, model.version, model.run_id) == (name, 1, step_run.id)
        assert model.tags == {"store": store, "rows": str(rows[store]["items"])}
        assert model.model_framework == "Custom" and model.properties["runyard.partition_of"] == "sales"
        with open(model.download(tmp_path / "dl" / store), "rb") as fh:
            assert pickle.load(fh)["store"] == store
    for store in ("4", "5"):
        assert rows[store]["models"] == []
        with pytest.raises(NotFoundError, match=rf"no model registered for partition \{{'store': '{store}'\}} "
                                                r"of 'sales' \(its name would be 'sales-" + store):
            Model.get_by_partition(workspace, "sales", {"store": store})
    assert sorted(m.name for m in Model.list(workspace)) == sorted(
        partition_model_name("sales", {"store": s}) for s in ("1", "2", "3"))
    assert [m.name for m in Model.list(workspace, tags=[["store", "2"]])] == [partition_model_name("sales", {"store": 2})]
    lineage = workspace._store.list_lineage(run_id=step_run.id, kind="model")
    assert sorted(r["name"] for r in lineage) == sorted(partition_model_name("sales", {"store": s}) for s in "123")
    # a failed try's files went with it; the succeeded tries' files are the models'
    index = {r["partition"]["store"]: i for i, r in enumerate(step_run.get_partition_results())}
    files = [n for n in step_run.get_file_names() if n.startswith(MODELS_FOLDER)]
    assert sorted(files) == sorted(f"{MODELS_FOLDER}/{index[s]}/{partition_model_name('sales', {'store': s})}"
                                   f"/model-{s}.pkl" for s in "123")
    assert "3 model(s) registered in bulk" in step_run.get_log()


def test_a_resubmitted_step_registers_only_the_partitions_it_runs(workspace, experiment, project, by_store,
                                                                  tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    pipeline = Pipeline(workspace, [train_step(project, by_store, calls, run_max_try=1)])
    first = experiment.submit(pipeline)
    first.wait_for_completion(timeout=180, raise_on_error=False)
    (first_step,) = first.find_step_run("train")
    assert [r["partition"]["store"] for r in first_step.get_partition_results(status="Succeeded")] == ["1"]
    # stores 2 and 3 failed their one try; they succeed on the next (it is not their first)
    again = experiment.submit(pipeline)
    again.wait_for_completion(timeout=180, raise_on_error=False)
    (second_step,) = again.find_step_run("train")
    rows = {r["partition"]["store"]: r for r in second_step.get_partition_results()}
    assert rows["1"]["reused_from"] == first_step.id
    assert rows["1"]["models"] == [f"{partition_model_name('sales', {'store': '1'})}:1"]
    assert Model.get_by_partition(workspace, "sales", {"store": "1"}).run_id == first_step.id
    assert [m.version for m in Model.list(workspace, name=partition_model_name("sales", {"store": "1"}))] == [1]
    assert {s: r["models"] != [] for s, r in rows.items()} == {"1": True, "2": True, "3": True, "4": False,
                                                                "5": False}
    assert Model.get_by_partition(workspace, "sales", {"store": "2"}).run_id == second_step.id


def test_partition_model_names_tell_partitions_apart_whatever_their_values():
    names = {partition_model_name("sales", p) for p in (
        {"store": "a-b", "region": "c"}, {"store": "a", "region": "b-c"}, {"store": "a/b", "region": "c"},
        {"store": "1"}, {"store": "1", "region": "x"})}
    assert len(names) == 5
    assert partition_model_name("sales", {"store": 1}) == partition_model_name("sales", {"store": "1"})
    assert partition_model_name("sales", {"a": "1", "b": "2"}) == partition_model_name("sales", {"b": "2", "a": "1"})
    assert partition_model_name("sales", {"store": "S1"}).startswith("sales-S1-")
    long = partition_model_name("m", {"k": "x" * 400})
    assert len(long) <= 255 and long.startswith("m-xxx")
    with pytest.raises(ConfigError, match="partition must be a dict"):
        partition_model_name("sales", {})
    with pytest.raises(ConfigError, match="the value of 'store' must be a single value"):
        partition_model_name("sales", {"store": None})
    with pytest.raises(ConfigError, match="model name"):
        partition_model_name("../sales", {"store": "1"})
    with pytest.raises(ConfigError, match="at most 237 characters"):
        partition_model_name("m" * 250, {"store": "1"})


def test_register_model_outside_a_mini_batch_says_where_it_belongs():
    from runyard.parallel_run import EntryScript
    with pytest.raises(ConfigError, match=r"call it inside run\(\)"):
        EntryScript().register_model("sales", __file__, partition={"store": "1"})


def test_partition_tags_and_properties_are_checked(workspace):
    from runyard.model import _metadata, partition_metadata
    meta = _metadata("sales", {"store": "2"}, None, None, None, None, None, None, None, None)
    with pytest.raises(ConfigError, match="contradict the partition"):
        partition_metadata(meta, "sales", {"store": "1"})
    meta = _metadata("sales", None, {"runyard.partition": "x"}, None, None, None, None, None, None, None)
    with pytest.raises(ConfigError, match="set by runyard"):
        partition_metadata(meta, "sales", {"store": "1"})
    with pytest.raises(NotFoundError):
        Model.get_by_partition(workspace, "sales", {"store": "1"})
    with pytest.raises(ConfigError, match="whole number"):
        Model.get_by_partition(workspace, "sales", {"store": "1"}, version=0)


TAMPER = """\
    import argparse
    import pandas as pd

    def init():
        parser = argparse.ArgumentParser()
        parser.add_argument("--tamper")
        path = parser.parse_known_args()[0].tamper
        pd.DataFrame({"sales": [999]}).to_parquet(path, index=False)  # a partition's file changes mid-step

    def run(mini_batch, mini_batch_context):
        return [int(mini_batch["sales"].sum())]
    """


def test_partitions_are_read_where_they_are_and_a_file_changed_meanwhile_fails_its_mini_batch(
        workspace, experiment, project, by_store):
    (tampered,) = [f"{by_store._sources[0]['base']}/{item['path']}" for item in by_store._files
                   if item["path"].startswith("2/")]
    config = ParallelRunConfig(environment=None, entry_script="tamper.py", error_threshold=-1,
                               output_action="summary_only", compute_target="local", node_count=1,
                               source_directory=str(project({"tamper.py": TAMPER})), process_count_per_node=1,
                               partition_keys=["store"], run_max_try=1)
    step = ParallelRunStep("read", config, inputs=[by_store.as_named_input("sales")], arguments=["--tamper", tampered])
    run = experiment.submit(Pipeline(workspace, [step]))
    run.wait_for_completion(timeout=120, raise_on_error=False)
    (step_run,) = run.find_step_run("read")
    rows = {r["partition"]["store"]: r for r in step_run.get_partition_results()}
    assert rows["1"]["status"] == "Succeeded" and rows["2"]["status"] == "Failed"
    # the datastore's own file was read (not a copy in the job's folder), and checked
    assert f"file {tampered!r} of input 'sales' changed since the step was submitted" in rows["2"]["error"]


@pytest.mark.postgres
def test_a_model_per_partition_on_a_workspace_server(workspace_server, project, tmp_path):
    """The workers upload the files with the step's job token; the registrations go to the
    server in bulk (POST /asset-batches/model)."""
    import uuid
    from conftest import SERVER_TOKEN
    from runyard import Experiment, Workspace
    ws = Workspace.get(workspace_server, token=SERVER_TOKEN)
    folder = tmp_path / "raw"
    folder.mkdir()
    pd.DataFrame({"store": [1, 2, 3, 4, 5, 1, 2], "sales": [10, 20, 30, 40, 50, 60, 70]}).to_csv(
        folder / "sales.csv", index=False)
    store = Datastore.register_local(ws, f"raw{uuid.uuid4().hex[:8]}", str(folder))
    by_store = Dataset.Tabular.from_delimited_files((store, "sales.csv")).partition_by(["store"], (store, "by-store"))
    calls = tmp_path / "calls"
    calls.mkdir()
    name = f"sales{uuid.uuid4().hex[:8]}"
    src = project({"train.py": TRAIN.replace('"sales", path', f'"{name}", path')})
    config = ParallelRunConfig(environment=None, entry_script="train.py", error_threshold=-1, output_action="append_row",
                               compute_target="local", node_count=1, source_directory=str(src),
                               process_count_per_node=2, partition_keys=["store"], run_max_try=2)
    step = ParallelRunStep("train", config, inputs=[by_store.as_named_input("sales")],
                           arguments=["--calls", str(calls)])
    run = Experiment(ws, "parallel-models").submit(Pipeline(ws, [step]))
    run.wait_for_completion(timeout=180, raise_on_error=False)
    (step_run,) = run.find_step_run("train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = {r["partition"]["store"]: r for r in step_run.get_partition_results()}
    assert {s: (r["status"], len(r["models"])) for s, r in rows.items()} == {
        "1": ("Succeeded", 1), "2": ("Succeeded", 1), "3": ("Succeeded", 1), "4": ("Failed", 0), "5": ("Failed", 0)}
    for store_value in ("1", "2", "3"):
        model = Model.get_by_partition(ws, name, {"store": store_value})
        assert (model.version, model.run_id) == (1, step_run.id)
        with open(model.download(tmp_path / "dl" / store_value), "rb") as fh:
            assert pickle.load(fh)["store"] == store_value
    with pytest.raises(NotFoundError):
        Model.get_by_partition(ws, name, {"store": "4"})


def test_a_step_stopped_by_a_threshold_keeps_exactly_the_models_of_what_succeeded(
        workspace, experiment, project, by_store, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    step = train_step(project, by_store, calls, run_max_try=1, allowed_failed_count=0, process_count_per_node=1)
    run = experiment.submit(Pipeline(workspace, [step]))
    run.wait_for_completion(timeout=180, raise_on_error=False)
    (step_run,) = run.find_step_run("train")
    assert step_run.get_status() == st.FAILED
    assert "allowed_failed_count=0 exceeded" in step_run.get_details()["error"]["message"]
    rows = step_run.get_partition_results()
    succeeded = {r["partition"]["store"] for r in rows if r["status"] == "Succeeded"}
    assert succeeded == {"1"}  # one worker, in order: store 2's failed try stops the step
    assert sorted(m.name for m in Model.list(workspace)) == [partition_model_name("sales", {"store": "1"})]
    assert all(r["models"] == [] for r in rows if r["status"] != "Succeeded")
    files = [n for n in step_run.get_file_names() if n.startswith(MODELS_FOLDER)]
    assert files == [f"{MODELS_FOLDER}/0/{partition_model_name('sales', {'store': '1'})}/model-1.pkl"]
