"""ParallelRunStep on every kind of target, for real: worker processes on the local target and
in the run's container on Docker, Ray actors on two nodes of a loopback Ray cluster. One test
body per behaviour runs on each (``target_experiment``): file batches with a side input,
partitions of a tabular dataset with one that raises until its tries are used up, a worker
killed and one past its timeout (each replaced, their mini batches retried), a threshold that
ends the step, and a resubmission that runs only what did not succeed.

Nothing here reads a folder of this machine from a worker: what a worker did comes back as the
step's results, its outputs, metrics and log, as it would from a container or another node.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from runyard import Dataset, Datastore, Environment, OutputFileDatasetConfig, Pipeline
from runyard import status as st
from runyard.environment import CondaDependencies
from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

import pandas as pd

# Each file holds a word that says what run() does with it: "ok", "raise", "flaky" (raises on
# its first try of the test; its mark is in the step's output, which a resubmission carries
# over, and, for Ray actors, which start with an empty output folder, in this machine's
# temporary folder, which the loopback cluster's nodes share), "kill-once" / "hang-once"
# (SIGKILL its worker / hang past the timeout on the first try of the run: the mark is in the
# temporary folder every worker of the step sees: the machine's, the container's, the loopback
# cluster's machine's).
FILES_SCRIPT = """\
    import argparse, os, signal, tempfile, time
    from runyard import Run
    from runyard.parallel_run import EntryScript

    def init():
        global factor, key
        parser = argparse.ArgumentParser()
        parser.add_argument("--side")
        parser.add_argument("--key")
        side, key = parser.parse_known_args()[0].side, parser.parse_known_args()[0].key
        factor = int(open(os.path.join(side, "factor.txt")).read()) if side else 1
        Run.get_context().log("inits", 1)

    def first_try(name):
        mark = os.path.join(tempfile.gettempdir(), f"runyard-{os.environ['RUNYARD_RUN_ID']}-{name}")
        first = not os.path.exists(mark)
        open(mark, "w").close()
        return first

    def run(mini_batch):
        results = []
        out = EntryScript().output_dir
        for path in mini_batch:
            name = os.path.basename(path)
            word = open(path).read().strip()
            Run.get_context().log("runs", 1)
            if word == "raise":
                raise ValueError(f"cannot score {name}")
            if word == "flaky":
                marks = [os.path.join(out, f"tried-{name}"), os.path.join(tempfile.gettempdir(), f"{key}-{name}")]
                if not any(os.path.exists(mark) for mark in marks):
                    for mark in marks:
                        open(mark, "w").close()
                    raise ValueError(f"{name} fails on its first run")
            if word == "kill-once" and first_try(name):
                os.kill(os.getpid(), signal.SIGKILL)
            if word == "hang-once" and first_try(name):
                time.sleep(120)
            with open(os.path.join(out, f"scored-{name}"), "w") as fh:
                fh.write(str(factor))
            results.append(f"{name} {word} {factor}")
        EntryScript().logger.info("scored %d file(s)", len(results))
        return results
    """

TABLE_SCRIPT = """\
    import os
    import pandas as pd
    from runyard.parallel_run import EntryScript

    def init():
        pass

    def run(mini_batch, mini_batch_context):
        store = mini_batch_context.partition_key_value["store"]
        if store == "3":
            raise RuntimeError(f"store {store} has no model")
        with open(os.path.join(EntryScript().output_dir, f"model-{store}.txt"), "w") as fh:
            fh.write(str(int(mini_batch["sales"].sum())))
        return pd.DataFrame({"store": [store], "rows": [len(mini_batch)], "total": [int(mini_batch["sales"].sum())]})
    """


# Store "1" trains at once; "2" raises on its first try of the run, after registering (so the
# retry registers it once); "3" always raises, after registering (so it registers nothing).
MODELS_SCRIPT = """\
    import os, pickle, tempfile
    from runyard.parallel_run import EntryScript

    def init():
        pass

    def run(mini_batch, mini_batch_context):
        store = mini_batch_context.partition_key_value["store"]
        path = os.path.join(tempfile.mkdtemp(), "model.pkl")
        with open(path, "wb") as fh:
            pickle.dump({"store": store, "total": int(mini_batch["sales"].sum())}, fh)
        name = EntryScript().register_model(os.environ["MODEL_NAME"], path,
                                            partition=mini_batch_context.partition_key_value, tags={"rows": len(mini_batch)})
        mark = os.path.join(tempfile.gettempdir(), f"runyard-{os.environ['RUNYARD_RUN_ID']}-{store}")
        first = not os.path.exists(mark)
        open(mark, "w").close()
        if store == "3" or (store == "2" and first):
            raise ValueError(f"store {store} failed after registering")
        return [f"{store} {name}"]
    """


def placement(target: str, workers: int) -> dict:
    """``workers`` workers: on one node (local, Docker), or one per node over two Ray nodes."""
    return {"node_count": 2, "process_count_per_node": workers // 2} if target == "ray" else \
        {"node_count": 1, "process_count_per_node": workers}


@pytest.fixture
def files_input(project):
    """``make({"a.txt": "ok", ...})``: those files as a FileDataset of a local datastore of the
    experiment's workspace (one a served workspace's jobs can read too)."""
    def make(experiment, files: dict[str, str]):
        name = f"d{uuid.uuid4().hex[:8]}"
        store = Datastore.register_local(experiment.workspace, name, project(files, name=name))
        return Dataset.File.from_files((store, ""))
    return make


def files_step(experiment, target, project, files_input, files, *, side=None, workers=2, **settings):
    src = project({"score.py": FILES_SCRIPT}, name=f"src{uuid.uuid4().hex[:8]}")
    config = ParallelRunConfig(**{"environment": None, "entry_script": "score.py", "error_threshold": -1,
                                  "output_action": "append_row", "compute_target": target,
                                  "source_directory": str(src), "mini_batch_size": 1, "run_invocation_timeout": 30,
                                  **placement(target, workers), **settings})
    arguments, side_inputs = ["--key", f"runyard-test-{uuid.uuid4().hex}"], []
    if side is not None:
        factor = files_input(experiment, side).as_named_input("factor").as_mount()
        arguments, side_inputs = [*arguments, "--side", factor], [factor]
    return ParallelRunStep("score", config, inputs=[files_input(experiment, files).as_named_input("files")],
                           output=OutputFileDatasetConfig("scores"), side_inputs=side_inputs, arguments=arguments)


def finish(run, name="score"):
    run.wait_for_completion(timeout=600, raise_on_error=False)
    (step_run,) = run.find_step_run(name)
    return step_run


def appended(step_run, tmp_path, name="outputs/scores/parallel_run_step.txt"):
    return Path(step_run.download_file(name, str(tmp_path / f"{step_run.id}.txt"))).read_text()


def logged(step_run, name):
    """The sum of a metric's values (one value comes back as it is, several as a list)."""
    value = step_run.get_metrics().get(name, 0)
    return sum(value) if isinstance(value, list) else value


def by_file(step_run):
    return {row["batch_id"]: row for row in step_run.get_partition_results()}


def test_file_batches_with_a_side_input(target_experiment, project, files_input, tmp_path):
    experiment, target = target_experiment
    step = files_step(experiment, target, project, files_input, {f"f{i}.txt": "ok" for i in range(5)},
                      side={"factor.txt": "7"})
    step_run = finish(experiment.submit(Pipeline(experiment.workspace, [step])))
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    assert appended(step_run, tmp_path) == "".join(f"f{i}.txt ok 7\n" for i in range(5))  # mini batch order
    rows = step_run.get_partition_results()
    assert [(r["batch_id"], r["status"], r["tries"], r["items"], r["results"]) for r in rows] == [
        (f"files:{i}", "Succeeded", 1, 1, 1) for i in range(5)]
    # logged to the step run from the workers: two of them, init() once each
    assert logged(step_run, "runs") == 5 and logged(step_run, "inits") == 2
    names = step_run.get_file_names()
    assert all(f"outputs/scores/scored-f{i}.txt" in names for i in range(5))  # written by the workers
    log = step_run.get_log()
    assert log.count("INFO scored 1 file(s)") == 5, log
    where = "2 Ray actor(s) on 2 node(s)" if target == "ray" else "2 worker process(es)"
    assert f"5 mini batch(es) from files; {where}" in log
    assert "summary: 5 of 5 mini batches succeeded, 0 failed, 0 not run" in log
    assert not step_run.get_children()  # no run per mini batch


def test_partitions_with_one_that_raises_until_its_tries_are_used(target_experiment, project, tmp_path):
    experiment, target = target_experiment
    ws = experiment.workspace
    folder = project({}, name=f"raw{uuid.uuid4().hex[:8]}")
    pd.DataFrame({"store": [1, 2, 1, 3, 2, 1], "sales": [10, 20, 30, 40, 50, 60]}).to_csv(folder / "s.csv",
                                                                                            index=False)
    store = Datastore.register_local(ws, folder.name, str(folder))
    sales = Dataset.Tabular.from_delimited_files((store, "s.csv"))
    partitioned = sales.partition_by(["store"], (store, "by-store"), name=f"by_store_{folder.name}")
    environment = None
    if target == "docker":  # the container reads the partitions' Parquet files
        environment = Environment("parallel-tables")
        environment.python.conda_dependencies = CondaDependencies.create(pip_packages=["pandas", "pyarrow"])
    config = ParallelRunConfig(environment=environment, entry_script="train.py", error_threshold=-1,
                               allowed_failed_count=1, run_max_try=2, output_action="append_row",
                               compute_target=target, source_directory=str(project({"train.py": TABLE_SCRIPT})),
                               partition_keys=["store"], append_row_file_name="models.txt", **placement(target, 2))
    step = ParallelRunStep("train", config, inputs=[partitioned.as_named_input("sales")],
                           output=OutputFileDatasetConfig("models"))
    step_run = finish(experiment.submit(Pipeline(ws, [step])), "train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = step_run.get_partition_results()
    assert [(r["partition"], r["status"], r["tries"], r["items"], r["results"]) for r in rows] == [
        ({"store": "1"}, "Succeeded", 1, 3, 1), ({"store": "2"}, "Succeeded", 1, 2, 1),
        ({"store": "3"}, "Failed", 2, 1, None)]
    assert rows[2]["error"] == "RuntimeError: store 3 has no model"
    assert 'raise RuntimeError(f"store {store} has no model")' in rows[2]["traceback"]
    assert appended(step_run, tmp_path, "outputs/models/models.txt") == "1 3 100\n2 2 70\n"
    names = step_run.get_file_names()
    assert "outputs/models/model-1.txt" in names and "outputs/models/model-3.txt" not in names
    assert "summary: 2 of 3 mini batches succeeded, 1 failed (sales:store=3), 0 not run" in step_run.get_log()


def tables_environment(target: str):
    """What a container needs to read the partitions' Parquet files (elsewhere: this Python)."""
    if target != "docker":
        return None
    environment = Environment("parallel-tables")
    environment.python.conda_dependencies = CondaDependencies.create(pip_packages=["pandas", "pyarrow"])
    return environment


def test_a_model_per_partition_is_registered_once_from_every_target(target_experiment, project, tmp_path):
    """The workers register (files into the step run's files through the job's artifact store:
    the workspace's, a container's spool, the server's) and the coordinator writes the
    registrations in bulk (the SQL store, the container's supervisor, the server)."""
    import pickle
    from runyard import Model
    from runyard.errors import NotFoundError
    from runyard.model import partition_model_name
    experiment, target = target_experiment
    ws = experiment.workspace
    folder = project({}, name=f"raw{uuid.uuid4().hex[:8]}")
    pd.DataFrame({"store": [1, 2, 1, 3, 2], "sales": [10, 20, 30, 40, 50]}).to_csv(folder / "s.csv", index=False)
    store = Datastore.register_local(ws, folder.name, str(folder))
    partitioned = Dataset.Tabular.from_delimited_files((store, "s.csv")).partition_by(
        ["store"], (store, "by-store"), name=f"by_store_{folder.name}")
    name = f"sales{uuid.uuid4().hex[:8]}"
    config = ParallelRunConfig(environment=tables_environment(target), entry_script="train.py", error_threshold=-1,
                               run_max_try=2, output_action="append_row", compute_target=target,
                               source_directory=str(project({"train.py": MODELS_SCRIPT})), partition_keys=["store"],
                               environment_variables={"MODEL_NAME": name}, **placement(target, 2))
    step = ParallelRunStep("train", config, inputs=[partitioned.as_named_input("sales")])
    step_run = finish(experiment.submit(Pipeline(ws, [step])), "train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = {r["partition"]["store"]: r for r in step_run.get_partition_results()}
    assert {s: (r["status"], r["tries"]) for s, r in rows.items()} == {
        "1": ("Succeeded", 1), "2": ("Succeeded", 2), "3": ("Failed", 2)}
    for value, total in (("1", 40), ("2", 70)):
        model_name = partition_model_name(name, {"store": value})
        assert rows[value]["models"] == [f"{model_name}:1"]  # the retried mini batch registered once
        model = Model.get_by_partition(ws, name, {"store": value})
        assert (model.name, model.version, model.run_id) == (model_name, 1, step_run.id)
        assert model.tags == {"store": value, "rows": str(rows[value]["items"])}
        assert [m.version for m in Model.list(ws, name=model_name)] == [1]
        with open(model.download(tmp_path / "dl" / value), "rb") as fh:
            assert pickle.load(fh) == {"store": value, "total": total}
    assert rows["3"]["models"] == []
    with pytest.raises(NotFoundError):
        Model.get_by_partition(ws, name, {"store": "3"})
    assert "2 model(s) registered in bulk" in step_run.get_log()


def test_a_killed_worker_and_one_past_its_timeout_are_replaced(target_experiment, project, files_input,
                                                                tmp_path):
    experiment, target = target_experiment
    step = files_step(experiment, target, project, files_input,
                      {"a.txt": "ok", "b.txt": "kill-once", "c.txt": "hang-once", "d.txt": "ok"},
                      run_max_try=2, run_invocation_timeout=8)
    step_run = finish(experiment.submit(Pipeline(experiment.workspace, [step])))
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = by_file(step_run)
    assert [(rows[f"files:{i}"]["status"], rows[f"files:{i}"]["tries"]) for i in range(4)] == [
        ("Succeeded", 1), ("Succeeded", 2), ("Succeeded", 2), ("Succeeded", 1)]
    assert appended(step_run, tmp_path) == "a.txt ok 1\nb.txt kill-once 1\nc.txt hang-once 1\nd.txt ok 1\n"
    log = step_run.get_log()
    assert "WorkerDied: the worker process ended while running this mini batch" in log
    assert "TimeoutError: run() did not return within run_invocation_timeout=8s" in log
    assert logged(step_run, "inits") >= 4  # two workers, and the two that replaced them


def test_a_threshold_ends_the_step_and_resubmission_runs_only_the_rest(target_experiment, project, files_input,
                                                                       tmp_path):
    experiment, target = target_experiment
    step = files_step(experiment, target, project, files_input, {"a.txt": "ok", "b.txt": "flaky", "c.txt": "ok"},
                      workers=2 if target == "ray" else 1, run_max_try=1, allowed_failed_count=0)
    pipeline = Pipeline(experiment.workspace, [step])
    first = finish(experiment.submit(pipeline))
    assert first.get_status() == st.FAILED
    assert "allowed_failed_count=0 exceeded: 1 mini batch(es) failed" in first.get_details()["error"]["message"]
    assert [r["batch_id"] for r in first.get_partition_results(status="Failed")] == ["files:1"]
    assert first.get_partition_results()[0]["status"] == "Succeeded"
    second = finish(experiment.submit(pipeline))
    assert second.get_status() == st.COMPLETED, second.get_details().get("error")
    rows = by_file(second)
    assert all(r["status"] == "Succeeded" for r in rows.values())
    assert rows["files:0"]["reused_from"] == first.id and rows["files:1"]["reused_from"] is None
    ran = logged(second, "runs")
    assert ran == 3 - sum(r["reused_from"] == first.id for r in rows.values())  # only what had not succeeded
    assert appended(second, tmp_path) == "a.txt ok 1\nb.txt flaky 1\nc.txt ok 1\n"
    assert "outputs/scores/scored-a.txt" in second.get_file_names()  # carried over from the first run
