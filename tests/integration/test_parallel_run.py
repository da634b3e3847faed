"""ParallelRunStep on the local target, with real worker processes: file and tabular inputs,
partitions, init once per worker, failures (raise, hang past the timeout, a worker killed),
the thresholds just under and just over, append_row, resubmission and bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runyard import Dataset, Datastore, OutputFileDatasetConfig, Pipeline, PipelineParameter
from runyard import status as st
from runyard.errors import ConfigError
from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

# Each file holds a word that says what run() does with it: "ok", "raise", "short" (no
# result), "hang-once"/"kill-once" (hang past the timeout / SIGKILL its worker on the first
# try only). Every run() call and every init() leave a line in the folder CALLS names.
FILES_SCRIPT = """\
    import argparse, os, signal, time
    from runyard import Run
    from runyard.parallel_run import EntryScript

    def init():
        global calls, worker
        parser = argparse.ArgumentParser()
        parser.add_argument("--calls")
        calls = parser.parse_known_args()[0].calls
        worker = os.getpid()
        with open(os.path.join(calls, "init.txt"), "a") as fh:
            fh.write(f"{worker}\\n")

    def run(mini_batch):
        results = []
        for path in mini_batch:
            name = os.path.basename(path)
            word = open(path).read().strip()
            with open(os.path.join(calls, "run.txt"), "a") as fh:
                fh.write(f"{name}\\n")
            first = not os.path.exists(os.path.join(calls, name + ".seen"))
            open(os.path.join(calls, name + ".seen"), "w").close()
            if word == "raise" or (word == "flaky" and not os.path.exists(os.path.join(calls, "fixed"))):
                raise ValueError(f"cannot score {name}")
            if word == "hang-once" and first:
                time.sleep(60)
            if word == "kill-once" and first:
                os.kill(os.getpid(), signal.SIGKILL)
            if word == "short":
                continue
            results.append(f"{name} {word}")
        EntryScript().logger.info("scored %d file(s)", len(results))
        Run.get_context().log("scored", len(results))
        return results
    """


@pytest.fixture
def files_step(tmp_path, project):
    """``make({"a.txt": "ok", ...}, **config)``: a ParallelRunStep over those files, and the
    folder of its calls."""
    counter = iter(range(100))

    def make(files: dict[str, str], *, output: bool = True, name: str = "score", **settings):
        number = next(counter)
        data = tmp_path / f"data{number}"
        data.mkdir()
        for file, word in files.items():
            (data / file).write_text(word)
        calls = tmp_path / f"calls{number}"
        calls.mkdir()
        src = project({"score.py": FILES_SCRIPT}, name=f"src{number}")
        config = ParallelRunConfig(**{"environment": None, "entry_script": "score.py", "error_threshold": -1,
                                      "output_action": "append_row", "compute_target": "local", "node_count": 1,
                                      "source_directory": str(src), "process_count_per_node": 2,
                                      "mini_batch_size": 1, **settings})
        step = ParallelRunStep(name, config, inputs=[Dataset.File.from_files(str(data)).as_named_input("files")],
                               output=OutputFileDatasetConfig("scores") if output else None,
                               arguments=["--calls", str(calls)])
        return step, calls

    return make


def submit(workspace, experiment, step):
    return experiment.submit(Pipeline(workspace, [step]))


def finish(run, name="score"):
    run.wait_for_completion(timeout=120, raise_on_error=False)
    (step_run,) = run.find_step_run(name)
    return step_run


def appended(step_run, tmp_path, name="outputs/scores/parallel_run_step.txt"):
    return Path(step_run.download_file(name, str(tmp_path / f"{step_run.id}.txt"))).read_text()


def run_log(step_run):
    """The pipeline driver's log of the pipeline run that holds ``step_run``."""
    return step_run.parent.get_log()


def by_file(step_run):
    """Partition rows by their one file (mini_batch_size=1)."""
    return {row["batch_id"]: row for row in step_run.get_partition_results()}


def test_file_dataset_runs_every_batch_with_init_once_per_worker(workspace, experiment, files_step, tmp_path):
    step, calls = files_step({f"f{i}.txt": "ok" for i in range(7)}, mini_batch_size=3)
    step_run = finish(submit(workspace, experiment, step))
    assert step_run.get_status() == st.COMPLETED
    assert appended(step_run, tmp_path) == "".join(f"f{i}.txt ok\n" for i in range(7))  # mini batch order
    inits = (calls / "init.txt").read_text().split()
    assert len(inits) == len(set(inits)) == 2  # two workers, init() once each
    assert sorted((calls / "run.txt").read_text().split()) == [f"f{i}.txt" for i in range(7)]
    rows = step_run.get_partition_results()
    assert [(r["batch_id"], r["status"], r["tries"], r["items"], r["results"]) for r in rows] == [
        ("files:0", "Succeeded", 1, 3, 3), ("files:1", "Succeeded", 1, 3, 3), ("files:2", "Succeeded", 1, 1, 1)]
    assert sorted(step_run.get_metrics()["scored"]) == [1, 3, 3]  # logged to the step run from the workers
    assert not [r for r in step_run.get_children()]  # no run per mini batch
    log = step_run.get_log()
    assert "summary: 3 of 3 mini batches succeeded, 0 failed, 0 not run" in log
    assert "INFO scored 3 file(s)" in log


def test_failures_raise_timeout_and_killed_worker_are_retried(workspace, experiment, files_step, tmp_path):
    step, calls = files_step({"a.txt": "ok", "b.txt": "raise", "c.txt": "hang-once", "d.txt": "kill-once",
                              "e.txt": "short"}, run_max_try=2, run_invocation_timeout=3, allowed_failed_count=1)
    step_run = finish(submit(workspace, experiment, step))
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = by_file(step_run)
    assert [rows[f"files:{i}"]["status"] for i in range(5)] == ["Succeeded", "Failed", "Succeeded", "Succeeded",
                                                                 "Succeeded"]
    failed = rows["files:1"]
    assert failed["tries"] == 2 and failed["error"] == "ValueError: cannot score b.txt"
    assert "Traceback" in failed["traceback"] and "raise ValueError" in failed["traceback"]
    assert rows["files:2"]["tries"] == 2 and rows["files:3"]["tries"] == 2  # hung / killed once, then done
    assert rows["files:4"]["results"] == 0 and rows["files:4"]["status"] == "Succeeded"
    log = step_run.get_log()
    assert "TimeoutError: run() did not return within run_invocation_timeout=3s" in log
    assert "WorkerDied" in log and "killed by signal 9" in log
    assert appended(step_run, tmp_path) == "a.txt ok\nc.txt hang-once\nd.txt kill-once\n"
    runs = (calls / "run.txt").read_text().split()
    assert sorted(runs) == ["a.txt", "b.txt", "b.txt", "c.txt", "c.txt", "d.txt", "d.txt", "e.txt"]
    assert len(set((calls / "init.txt").read_text().split())) >= 3  # the killed workers were replaced
    assert "summary: 4 of 5 mini batches succeeded, 1 failed (files:1), 0 not run; 2 failed item(s)" in log


@pytest.mark.parametrize(("settings", "files", "passes"), [
    ({"allowed_failed_count": 2}, {"a": "raise", "b": "raise", "c": "ok", "d": "ok"}, True),
    ({"allowed_failed_count": 1}, {"a": "raise", "b": "raise", "c": "ok", "d": "ok"}, False),
    ({"error_threshold": 3}, {"a": "raise", "b": "short", "c": "raise", "d": "ok"}, True),
    ({"error_threshold": 2}, {"a": "raise", "b": "short", "c": "raise", "d": "ok"}, False),
    ({"allowed_failed_percent": 50}, {"a": "raise", "b": "raise", "c": "ok", "d": "ok"}, True),
    ({"allowed_failed_percent": 49.9}, {"a": "raise", "b": "raise", "c": "ok", "d": "ok"}, False),
])
def test_thresholds_apply_exactly(workspace, experiment, files_step, settings, files, passes):
    step, _ = files_step({f"{k}.txt": v for k, v in files.items()}, run_max_try=1, **settings)
    step_run = finish(submit(workspace, experiment, step))
    name, value = next(iter(settings.items()))
    if passes:
        assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    else:
        assert step_run.get_status() == st.FAILED
        assert f"{name}={value} exceeded" in step_run.get_details()["error"]["message"]
        assert "summary:" in step_run.get_log()  # the partition table is kept either way
        assert step_run.get_partition_results(status="Failed")


@pytest.mark.parametrize("allowed_failed_count", [-1, 0])
def test_resubmission_runs_only_unfinished_batches(workspace, experiment, files_step, tmp_path, allowed_failed_count):
    step, calls = files_step({"a.txt": "ok", "b.txt": "flaky", "c.txt": "ok"}, run_max_try=1,
                             allowed_failed_count=allowed_failed_count, process_count_per_node=1)
    pipeline = Pipeline(workspace, [step])
    first = finish(experiment.submit(pipeline))
    # within its thresholds, with one mini batch failed; or Failed at the first failure
    assert first.get_status() == (st.COMPLETED if allowed_failed_count == -1 else st.FAILED)
    assert [r["batch_id"] for r in first.get_partition_results(status="Failed")] == ["files:1"]
    assert [r["status"] for r in first.get_partition_results()][2] == (
        "Succeeded" if allowed_failed_count == -1 else "NotRun")
    (calls / "fixed").touch()
    (calls / "run.txt").unlink()
    second = finish(experiment.submit(pipeline))
    assert second.get_status() == st.COMPLETED
    rerun = ["b.txt"] if allowed_failed_count == -1 else ["b.txt", "c.txt"]
    assert (calls / "run.txt").read_text().split() == rerun  # only what did not succeed ran
    rows = by_file(second)
    assert all(r["status"] == "Succeeded" for r in rows.values())
    assert rows["files:0"]["reused_from"] == first.id and rows["files:1"]["reused_from"] is None
    assert "resumes run" in run_log(second)
    assert appended(second, tmp_path) == "a.txt ok\nb.txt flaky\nc.txt ok\n"
    third = experiment.submit(pipeline)
    third.wait_for_completion(timeout=60)
    assert third.get_step_reuse() == {"score": second.id}  # every mini batch done: the step is reused
    assert (calls / "run.txt").read_text().split() == rerun
    assert len(third.find_step_run("score")[0].get_partition_results()) == 3


TABLE_SCRIPT = """\
    import os
    import pandas as pd
    from runyard.parallel_run import EntryScript

    def init():
        pass

    def run(mini_batch, mini_batch_context):
        key = mini_batch_context.partition_key_value
        path = os.path.join(EntryScript().output_dir, f"model-{key.get('store', 'all')}.txt")
        with open(path, "w") as fh:
            fh.write(str(mini_batch["sales"].sum()))
        return pd.DataFrame({"store": [key.get("store", "-")], "rows": [len(mini_batch)],
                             "total": [int(mini_batch["sales"].sum())]})
    """


def test_tabular_partitions_one_batch_per_key(workspace, experiment, project, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    frame = pd.DataFrame({"store": [1, 2, 1, 3, 2, 1], "sales": [10, 20, 30, 40, 50, 60]})
    frame.to_csv(folder / "sales.csv", index=False)
    store = Datastore.register_local(workspace, "raw", str(folder))
    sales = Dataset.Tabular.from_delimited_files((store, "sales.csv"))
    partitioned = sales.partition_by(["store"], (store, "by-store"), name="sales_by_store")
    assert partitioned.partition_keys == ["store"]
    assert partitioned.get_partition_key_values() == [{"store": "1"}, {"store": "2"}, {"store": "3"}]
    with pytest.raises(ConfigError, match=r"\['region'\] are not partition keys"):
        partitioned.get_partition_key_values(["region"])
    src = project({"train.py": TABLE_SCRIPT})
    config = ParallelRunConfig(environment=None, entry_script="train.py", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=2, partition_keys=["store"],
                               append_row_file_name="models.txt")
    with pytest.raises(ConfigError, match=r"partition_keys \['store'\] are not partition keys of input 'sales'"):
        ParallelRunStep("train", config, inputs=[sales.as_named_input("sales")])
    step = ParallelRunStep("train", config, inputs=[partitioned.as_named_input("sales")],
                           output=OutputFileDatasetConfig("models"))
    step_run = finish(submit(workspace, experiment, step), "train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    rows = step_run.get_partition_results()
    assert [(r["partition"], r["items"], r["results"]) for r in rows] == [
        ({"store": "1"}, 3, 1), ({"store": "2"}, 2, 1), ({"store": "3"}, 1, 1)]
    assert appended(step_run, tmp_path, "outputs/models/models.txt") == "1 3 100\n2 2 70\n3 1 40\n"
    assert "outputs/models/model-2.txt" in step_run.get_file_names()


def test_tabular_rows_in_batches_of_a_size(workspace, experiment, project, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    pd.DataFrame({"sales": range(100)}).to_csv(folder / "sales.csv", index=False)
    size = (folder / "sales.csv").stat().st_size  # about 3 bytes per row
    store = Datastore.register_local(workspace, "raw", str(folder))
    sales = Dataset.Tabular.from_delimited_files((store, "sales.csv"))
    src = project({"train.py": TABLE_SCRIPT})
    config = ParallelRunConfig(environment=None, entry_script="train.py", error_threshold=-1,
                               output_action="summary_only", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1, mini_batch_size=str(size // 4))
    step = ParallelRunStep("train", config, inputs=[sales.as_named_input("sales")], output=None)
    step_run = finish(submit(workspace, experiment, step), "train")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    items = [r["items"] for r in step_run.get_partition_results()]
    assert sum(items) == 100 and len(items) in (4, 5)
    assert not [n for n in step_run.get_file_names() if n.endswith("parallel_run_step.txt")]  # summary_only


def test_init_that_raises_fails_the_step_before_any_run(workspace, experiment, project):
    src = project({"score.py": "def init():\n    raise RuntimeError('no model')\n\ndef run(mini_batch):\n"
                               "    return mini_batch\n"})
    data = project({"a.txt": "x"}, name="data")
    config = ParallelRunConfig(environment=None, entry_script="score.py", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1)
    step = ParallelRunStep("score", config, inputs=[Dataset.File.from_files(str(data))])
    step_run = finish(submit(workspace, experiment, step))
    assert step_run.get_status() == st.FAILED
    error = step_run.get_details()["error"]["message"]
    assert "init() of the entry script failed" in error and "RuntimeError: no model" in step_run.get_log()
    assert [r["status"] for r in step_run.get_partition_results()] == ["NotRun"]


def test_run_returning_the_wrong_type_fails_its_batch(workspace, experiment, project):
    src = project({"score.py": "def init():\n    pass\n\ndef run(mini_batch):\n    return 'done'\n"})
    data = project({"a.txt": "x"}, name="data")
    config = ParallelRunConfig(environment=None, entry_script="score.py", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=1, run_max_try=1)
    step_run = finish(submit(workspace, experiment, ParallelRunStep("score", config, inputs=[
        Dataset.File.from_files(str(data))])))
    (row,) = step_run.get_partition_results()
    assert row["status"] == "Failed"
    assert row["error"].startswith("TypeError: run() returned str; it must return a list or a pandas DataFrame")


def test_bad_input_fails_before_work_starts(project, tmp_path):
    good = project({"score.py": "def init():\n    pass\n\ndef run(mini_batch, context):\n    return []\n",
                    "no_init.py": "def run(mini_batch):\n    return []\n",
                    "no_functions.py": "print('hello')\n"})
    base = {"environment": None, "entry_script": "score.py", "error_threshold": 5, "output_action": "append_row",
            "compute_target": "local", "node_count": 1, "source_directory": str(good)}
    ParallelRunConfig(**base)
    bad = [
        ({"entry_script": "no_init.py"}, r"defines no init\(\) at its top level"),
        ({"entry_script": "no_functions.py"}, r"defines no init\(\) and no run\(\)"),
        ({"entry_script": "missing.py"}, "does not exist in source_directory"),
        ({"error_threshold": -2}, "error_threshold must be a whole number >= -1"),
        ({"output_action": "append"}, "output_action must be 'append_row' or 'summary_only'"),
        ({"node_count": 2}, "node_count=2 with compute_target 'local', a local target, which is one node: use "
                            "node_count=1 and process_count_per_node for more workers there, or a Ray target"),
        ({"compute_target": 5}, "compute_target must be a compute target's name"),
        ({"process_count_per_node": 0}, "process_count_per_node must be a whole number >= 1"),
        ({"mini_batch_size": "1XB"}, "mini_batch_size must be a whole number >= 1"),
        ({"mini_batch_size": 0}, "mini_batch_size must be a whole number >= 1"),
        ({"run_invocation_timeout": 0}, "run_invocation_timeout must be a whole number >= 1"),
        ({"run_max_try": 0}, "run_max_try must be a whole number >= 1"),
        ({"allowed_failed_count": -3}, "allowed_failed_count must be a whole number >= -1"),
        ({"allowed_failed_percent": 101}, "allowed_failed_percent must be a number from 0 to 100"),
        ({"partition_keys": ["a"], "mini_batch_size": 2}, "give partition_keys or mini_batch_size, not both"),
        ({"partition_keys": []}, "partition_keys must be a non-empty list"),
        ({"output_action": "summary_only", "append_row_file_name": "x.txt"}, "append_row_file_name is for"),
        ({"append_row_file_name": "a/b.txt"}, "append_row_file_name must be a file name"),
        ({"logging_level": "LOUD"}, "logging_level must be one of"),
        ({"environment_variables": {"A": 1}}, "environment_variables must be a dict of name -> text"),
    ]
    for change, message in bad:
        with pytest.raises(ConfigError, match=message):
            ParallelRunConfig(**{**base, **change})
    with pytest.raises(TypeError):
        ParallelRunConfig(**base, colour="red")  # nothing is accepted and ignored
    files = project({"a.txt": "x"}, name="data")
    config = ParallelRunConfig(**base)
    with pytest.raises(ConfigError, match="inputs must be a non-empty list"):
        ParallelRunStep("score", config, inputs=[])
    with pytest.raises(ConfigError, match="mini_batch_size '1MB' is a size; for a file dataset"):
        ParallelRunStep("score", ParallelRunConfig(**{**base, "mini_batch_size": "1MB"}),
                        inputs=[Dataset.File.from_files(str(files))])
    with pytest.raises(ConfigError, match="partition_keys .* need partitioned tabular datasets"):
        ParallelRunStep("score", ParallelRunConfig(**{**base, "partition_keys": ["a"]}),
                        inputs=[Dataset.File.from_files(str(files))])
    assert os.listdir(tmp_path)  # nothing else to check: no run was recorded, nothing started


def test_node_count_over_one_only_on_ray(workspace, experiment, project):
    """A target object tells its type when the config is made; a target's name, when the step
    is submitted: both before any run."""
    from runyard import RayCluster
    from runyard.compute.docker import DockerCompute
    src = project({"score.py": "def init():\n    pass\n\ndef run(mini_batch):\n    return mini_batch\n"})
    files = project({"a.txt": "x"}, name="data")
    base = {"environment": None, "entry_script": "score.py", "error_threshold": 5, "output_action": "append_row",
            "source_directory": str(src), "node_count": 2}
    assert ParallelRunConfig(**base, compute_target=RayCluster(address="http://127.0.0.1:1")).node_count == 2
    with pytest.raises(ConfigError, match="node_count=2 with compute_target 'docker', a docker target"):
        ParallelRunConfig(**base, compute_target=DockerCompute())
    workspace.compute_targets.attach("box", DockerCompute())
    step = ParallelRunStep("score", ParallelRunConfig(**base, compute_target="box"),
                           inputs=[Dataset.File.from_files(str(files))])
    with pytest.raises(ConfigError, match=r"step 'score': ParallelRunConfig: node_count=2 with compute_target "
                                          r"'box', a docker target, which is one node: .* or a Ray target"):
        experiment.submit(Pipeline(workspace, [step]))
    assert not list(experiment.get_runs())


SIDE_SCRIPT = """\
    import argparse, os

    def init():
        global factor
        parser = argparse.ArgumentParser()
        parser.add_argument("--factor")
        path = parser.parse_known_args()[0].factor
        factor = int(open(os.path.join(path, "factor.txt")).read())

    def run(mini_batch):
        return [f"{os.path.basename(p)} {int(open(p).read()) * factor}" for p in mini_batch]
    """
PREP_SCRIPT = """\
    import argparse, os
    parser = argparse.ArgumentParser(); parser.add_argument("--out"); out = parser.parse_args().out
    for i in range(4):
        open(os.path.join(out, f"n{i}.txt"), "w").write(str(i))
    """


def test_step_output_as_input_and_a_side_input(workspace, experiment, project, tmp_path):
    from runyard import PythonScriptStep
    src = project({"score.py": SIDE_SCRIPT, "prep.py": PREP_SCRIPT})
    side = project({"factor.txt": "10"}, name="side")
    numbers = OutputFileDatasetConfig("numbers")
    prep = PythonScriptStep("prep.py", name="prep", arguments=["--out", numbers], source_directory=str(src))
    factor = Dataset.File.from_files(str(side)).as_named_input("factor").as_mount()
    config = ParallelRunConfig(environment=None, entry_script="score.py", error_threshold=0,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(src), process_count_per_node=2, mini_batch_size=3,
                               description="times ten")
    step = ParallelRunStep("score", config, inputs=[numbers.as_input()], side_inputs=[factor],
                           arguments=["--factor", factor], output=OutputFileDatasetConfig("scores"))
    run = experiment.submit(Pipeline(workspace, [prep, step]))
    step_run = finish(run)
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    assert appended(step_run, tmp_path) == "n0.txt 0\nn1.txt 10\nn2.txt 20\nn3.txt 30\n"
    assert [r["batch_id"] for r in step_run.get_partition_results()] == ["numbers:0", "numbers:1"]
    assert "ParallelRunStep: times ten" in step_run.get_log()


# -- settings given by PipelineParameters (as Azure ML allowed): filled when the pipeline is
# submitted (directly or published), checked then as a literal value is, before anything runs
def test_mini_batch_size_and_logging_level_from_parameters_filled_per_submission(workspace, experiment, files_step):
    step, _ = files_step({f"f{i}.txt": "ok" for i in range(6)}, mini_batch_size=PipelineParameter("batch_size", 2),
                         logging_level=PipelineParameter("level", "INFO"))
    pipeline = Pipeline(workspace, [step])
    assert sorted(pipeline.parameters) == ["batch_size", "level"]

    first = finish(experiment.submit(pipeline))
    assert [r["items"] for r in first.get_partition_results()] == [2, 2, 2]
    assert "INFO scored 2 file(s)" in first.get_log()

    second = finish(experiment.submit(pipeline, pipeline_parameters={"batch_size": 4, "level": "warning"}))
    rows = second.get_partition_results()
    assert [(r["items"], r["status"], r["reused_from"]) for r in rows] == [(4, "Succeeded", None),
                                                                          (2, "Succeeded", None)]
    assert "INFO scored" not in second.get_log()  # the logger at WARNING

    published = pipeline.publish("score-files")
    third = finish(published.submit(workspace, experiment.name, pipeline_parameters={"batch_size": 6}))
    assert [r["items"] for r in third.get_partition_results()] == [6]


def test_a_bad_parameter_value_is_refused_at_submission_naming_it(workspace, experiment, files_step):
    step, calls = files_step({"a.txt": "ok"}, mini_batch_size=PipelineParameter("batch_size", 1),
                             run_max_try=PipelineParameter("tries", 2), node_count=PipelineParameter("nodes", 1),
                             allowed_failed_percent=PipelineParameter("percent", 10.0))
    pipeline = Pipeline(workspace, [step])
    published = pipeline.publish("score-checked")
    before = len(list(experiment.get_runs()))
    cases = [
        ({"batch_size": 0}, "step 'score': pipeline_parameters['batch_size'] (the ParallelRunConfig's "
                            "mini_batch_size): ParallelRunConfig: mini_batch_size must be a whole number >= 1"),
        ({"tries": 0}, "pipeline_parameters['tries'] (the ParallelRunConfig's run_max_try): ParallelRunConfig: "
                       "run_max_try must be a whole number >= 1, got 0"),
        ({"percent": 150.0}, "pipeline_parameters['percent'] (the ParallelRunConfig's allowed_failed_percent): "
                             "ParallelRunConfig: allowed_failed_percent must be a number from 0 to 100, got 150.0"),
        ({"nodes": 2}, "pipeline_parameters['nodes'] (the ParallelRunConfig's node_count): ParallelRunConfig: "
                       "node_count=2 with a target that is one node"),
    ]
    for values, message in cases:
        with pytest.raises(ConfigError) as caught:
            experiment.submit(pipeline, pipeline_parameters=values)
        assert message in str(caught.value)
        with pytest.raises(ConfigError) as caught:
            published.submit(workspace, experiment.name, pipeline_parameters=values)
        assert message in str(caught.value)
    assert len(list(experiment.get_runs())) == before  # nothing was started
    assert not (calls / "init.txt").exists()
    from runyard.pipeline import Schedule, ScheduleRecurrence
    with pytest.raises(ConfigError, match=r"Schedule 'nightly': step 'score': pipeline_parameters\['batch_size'\]"):
        Schedule.create(workspace, "nightly", published.id, experiment.name, recurrence=ScheduleRecurrence("Day", 1),
                        pipeline_parameters={"batch_size": 0})
    assert Schedule.list(workspace) == []


def test_a_parameter_s_default_is_checked_as_a_literal_value(project):
    src = project({"score.py": "def init():\n    pass\n\ndef run(mini_batch):\n    return []\n"})
    base = {"environment": None, "entry_script": "score.py", "error_threshold": -1, "output_action": "append_row",
            "compute_target": "local", "node_count": 1, "source_directory": str(src)}
    with pytest.raises(ConfigError, match=r"mini_batch_size must be a whole number >= 1 .* got 0"):
        ParallelRunConfig(**base, mini_batch_size=PipelineParameter("batch_size", 0))
    with pytest.raises(ConfigError, match="logging_level must be one of"):
        ParallelRunConfig(**base, logging_level=PipelineParameter("level", "LOUD"))
    with pytest.raises(ConfigError, match="give partition_keys or mini_batch_size, not both"):
        ParallelRunConfig(**base, partition_keys=["store"], mini_batch_size=PipelineParameter("batch_size", 2))
    config = ParallelRunConfig(**{**base, "error_threshold": PipelineParameter("threshold", 5)})
    assert config.error_threshold == 5 and config.pipeline_parameters["error_threshold"].name == "threshold"
