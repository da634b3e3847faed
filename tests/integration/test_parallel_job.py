"""A ParallelRunStep as a job of its own (``Experiment.submit(step)``) and the ``type: parallel``
YAML job, on their own and inside a pipeline file, run end to end on the local target with real
worker processes: file and tabular inputs, the partition table, append_row, and a resubmission
that runs only the mini batches that did not succeed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Dataset, Datastore, OutputFileDatasetConfig, PythonScriptStep, load_job_file
from runyard import status as st
from runyard.errors import ConfigError
from runyard.pipeline.yaml_spec import load_pipeline_file
from runyard.pipeline.steps import ParallelRunConfig, ParallelRunStep

import pandas as pd

# Each file holds a word: "ok", or "flaky" (run() raises until the file FIXED names exists).
# Every run() call leaves the name of its files in CALLS/run.txt.
SCORE = """\
    import argparse, os

    def init():
        global args
        parser = argparse.ArgumentParser()
        parser.add_argument("--calls")
        parser.add_argument("--factor", default="1")
        parser.add_argument("--extra")
        args, _ = parser.parse_known_args()
        if args.extra:
            open(os.path.join(args.extra, f"init-{os.getpid()}.txt"), "w").close()

    def run(mini_batch):
        results = []
        for path in mini_batch:
            name = os.path.basename(path)
            if args.calls:
                with open(os.path.join(args.calls, "run.txt"), "a") as fh:
                    fh.write(name + "\\n")
            word = open(path).read().strip()
            if word == "flaky" and not os.path.exists(os.environ["FIXED"]):
                raise ValueError(f"cannot score {name} yet")
            results.append(f"{name} {word} x{args.factor}")
        return results
    """

TABLE = """\
    import pandas as pd

    def init():
        pass

    def run(mini_batch, mini_batch_context):
        store = mini_batch_context.partition_key_value.get("store", "-")
        return pd.DataFrame({"store": [store], "rows": [len(mini_batch)], "total": [int(mini_batch["sales"].sum())]})
    """


def calls_of(folder: Path) -> list[str]:
    path = folder / "run.txt"
    return sorted(path.read_text().split()) if path.exists() else []


def appended(run, tmp_path: Path, name: str = "outputs/scores/parallel_run_step.txt") -> str:
    return Path(run.download_file(name, str(tmp_path / f"{run.id}.txt"))).read_text()


# -- Experiment.submit(ParallelRunStep) ------------------------------------------------------
@pytest.fixture
def standalone(workspace, project, tmp_path):
    """A ParallelRunStep over three files, the middle one flaky until ``fixed`` exists."""
    data = project({"a.txt": "ok", "b.txt": "flaky", "c.txt": "ok"}, name="data")
    calls = tmp_path / "calls"
    calls.mkdir()
    config = ParallelRunConfig(environment=None, entry_script="score.py", error_threshold=-1,
                               output_action="append_row", compute_target="local", node_count=1,
                               source_directory=str(project({"score.py": SCORE}, name="src")),
                               process_count_per_node=2, mini_batch_size=1, run_max_try=1,
                               environment_variables={"FIXED": str(tmp_path / "fixed")})
    step = ParallelRunStep("score", config, inputs=[Dataset.File.from_files(str(data)).as_named_input("files")],
                           output=OutputFileDatasetConfig("scores"), arguments=["--calls", str(calls)])
    return step, calls, tmp_path / "fixed"


def test_a_step_submitted_on_its_own_is_one_run_with_its_partition_table(experiment, standalone, tmp_path):
    step, calls, _ = standalone
    run = experiment.submit(step, tags={"kind": "standalone"})
    run.wait_for_completion(timeout=120, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, run.get_details().get("error")  # error_threshold=-1
    assert run.parent is None and not list(run.get_children())  # one run: no pipeline run, no run per batch
    assert run.get_details()["displayName"] == "score" and run.get_tags() == {"kind": "standalone"}
    rows = run.get_partition_results()
    assert [(r["batch_id"], r["status"], r["tries"]) for r in rows] == [
        ("files:0", "Succeeded", 1), ("files:1", "Failed", 1), ("files:2", "Succeeded", 1)]
    assert rows[1]["error"] == "ValueError: cannot score b.txt yet"
    assert appended(run, tmp_path) == "a.txt ok x1\nc.txt ok x1\n"
    assert "summary: 2 of 3 mini batches succeeded, 1 failed (files:1)" in run.get_log()


def test_resubmitting_a_step_on_its_own_runs_only_what_did_not_succeed(experiment, standalone, tmp_path):
    step, calls, fixed = standalone
    first = experiment.submit(step)
    first.wait_for_completion(timeout=120, raise_on_error=False)
    assert [r["status"] for r in first.get_partition_results()] == ["Succeeded", "Failed", "Succeeded"]
    fixed.touch()
    (calls / "run.txt").unlink()
    second = experiment.submit(step)
    second.wait_for_completion(timeout=120)
    assert calls_of(calls) == ["b.txt"]  # only the mini batch that failed ran
    rows = second.get_partition_results()
    assert [(r["status"], r["reused_from"]) for r in rows] == [
        ("Succeeded", first.id), ("Succeeded", None), ("Succeeded", first.id)]
    assert appended(second, tmp_path) == "a.txt ok x1\nb.txt flaky x1\nc.txt ok x1\n"
    assert f"2 carried over from run {first.id}" in second.get_log()
    (calls / "run.txt").unlink()
    third = experiment.submit(step)  # everything succeeded: nothing runs, the table is whole
    third.wait_for_completion(timeout=120)
    assert calls_of(calls) == [] and [r["reused_from"] for r in third.get_partition_results()] == [
        first.id, second.id, first.id]
    again = experiment.submit(step, regenerate_outputs=True)  # runs every mini batch again
    again.wait_for_completion(timeout=120)
    assert calls_of(calls) == ["a.txt", "b.txt", "c.txt"]
    assert all(r["reused_from"] is None for r in again.get_partition_results())


def test_a_step_on_its_own_refuses_what_needs_a_pipeline(workspace, experiment, standalone, project):
    step, _, _ = standalone
    with pytest.raises(ConfigError, match="got an unexpected argument: pipeline_parameters"):
        experiment.submit(step, pipeline_parameters={"a": 1})
    numbers = OutputFileDatasetConfig("numbers")
    PythonScriptStep("prep.py", arguments=["--out", numbers], source_directory=str(project({"prep.py": ""})))
    reads_a_step = ParallelRunStep("score", step.parallel_run_config, inputs=[numbers.as_input()])
    with pytest.raises(ConfigError, match="input 'numbers' is another step's output, which only a pipeline run"):
        experiment.submit(reads_a_step)
    registered = ParallelRunStep("score", step.parallel_run_config, inputs=step.datasets[:1],
                                 output=OutputFileDatasetConfig("scores").register_on_complete("scores"))
    with pytest.raises(ConfigError, match="output 'scores' asks to be registered"):
        experiment.submit(registered)
    assert not list(workspace._store.list_runs())


# -- type: parallel, on its own ----------------------------------------------------------------
FILE_JOB = """\
type: parallel
experiment_name: yaml-parallel
display_name: score files
inputs:
  files:
    type: uri_folder
    path: ./data
  factor: 10
outputs:
  scores: {}
  extra: {}
input_data: ${{inputs.files}}
mini_batch_size: "2"
max_concurrency_per_instance: 2
mini_batch_error_threshold: -1
retry_settings:
  max_retries: 0
  timeout: 30
environment_variables:
  FIXED: FIXED_PATH
task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: --factor ${{inputs.factor}} --calls CALLS --extra ${{outputs.extra}}
  append_row_to: ${{outputs.scores}}
"""

_SCRIPT = Path(sys.executable).parent / "runyard"


def runyard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "runyard.cli"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "COLUMNS": "200"})


def test_a_parallel_job_file_of_files_runs_and_resumes_through_the_cli(workspace, project, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    text = FILE_JOB.replace("FIXED_PATH", str(tmp_path / "fixed")).replace("CALLS", str(calls))
    folder = project({"job.yml": text, "src/score.py": SCORE, "data/a.txt": "ok", "data/b.txt": "ok",
                      "data/c.txt": "flaky", "data/d.txt": "ok", "data/e.txt": "ok"})
    first = runyard("-w", str(workspace.path), "job", "submit", "-f", "job.yml", cwd=folder)
    assert first.returncode == 0, first.stdout + first.stderr  # mini_batch_error_threshold: -1
    assert "Mini batches not succeeded (1 of 3)" in first.stdout and "files:1" in first.stdout
    from runyard import Experiment
    (run,) = Experiment(workspace, "yaml-parallel").get_runs()
    assert run.get_details()["displayName"] == "score files"
    assert [(r["batch_id"], r["items"], r["status"]) for r in run.get_partition_results()] == [
        ("files:0", 2, "Succeeded"), ("files:1", 2, "Failed"), ("files:2", 1, "Succeeded")]
    assert appended(run, tmp_path) == "a.txt ok x10\nb.txt ok x10\ne.txt ok x10\n"
    assert len([n for n in run.get_file_names() if n.startswith("outputs/extra/init-")]) == 2  # two workers
    (tmp_path / "fixed").touch()
    (calls / "run.txt").unlink()
    second = runyard("-w", str(workspace.path), "job", "submit", "-f", "job.yml", cwd=folder)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Mini batches not succeeded" not in second.stdout
    assert calls_of(calls) == ["c.txt", "d.txt"]  # the failed mini batch only
    latest = next(Experiment(workspace, "yaml-parallel").get_runs())
    assert appended(latest, tmp_path) == "a.txt ok x10\nb.txt ok x10\nc.txt flaky x10\nd.txt ok x10\ne.txt ok x10\n"


TABLE_JOB = """\
type: parallel
inputs:
  sales: {type: mltable, path: SALES}
outputs:
  totals: {}
input_data: ${{inputs.sales}}
PARTITIONING
task:
  code: ./src
  entry_script: train.py
  append_row_to: ${{outputs.totals}}
"""


@pytest.mark.parametrize("sales, partitioning, expected", [
    ("./sales.csv", 'mini_batch_size: "1b"', None),
    ("azureml:sales_by_store:1", "partition_keys: [store]", "1 3 100\n2 2 70\n3 1 40\n"),
], ids=["a local table by size", "a registered partitioned dataset by key"])
def test_a_parallel_job_file_of_a_table_runs(workspace, experiment, project, tmp_path, sales, partitioning, expected):
    frame = pd.DataFrame({"store": [1, 2, 1, 3, 2, 1], "sales": [10, 20, 30, 40, 50, 60]})
    raw = tmp_path / "raw"
    raw.mkdir()
    frame.to_csv(raw / "sales.csv", index=False)
    store = Datastore.register_local(workspace, "raw", str(raw))
    Dataset.Tabular.from_delimited_files((store, "sales.csv")).partition_by(["store"], (store, "by-store"),
                                                                          name="sales_by_store")
    text = TABLE_JOB.replace("SALES", sales).replace("PARTITIONING", partitioning)
    folder = project({"job.yml": text, "src/train.py": TABLE, "sales.csv": frame.to_csv(index=False)})
    job = load_job_file(folder / "job.yml", workspace)
    run = experiment.submit(job.config)
    run.wait_for_completion(timeout=120, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, run.get_details().get("error")
    rows = run.get_partition_results()
    lines = appended(run, tmp_path, "outputs/totals/parallel_run_step.txt")
    if expected is None:  # "1b": a mini batch per row
        assert [r["items"] for r in rows] == [1] * 6
        assert lines == "".join(f"- 1 {v}\n" for v in frame["sales"])
    else:
        assert [r["partition"] for r in rows] == [{"store": "1"}, {"store": "2"}, {"store": "3"}]
        assert lines == expected


# -- type: parallel inside a pipeline file ------------------------------------------------------
PREP = """\
    import argparse, os
    parser = argparse.ArgumentParser(); parser.add_argument("--out"); out = parser.parse_args().out
    for i, word in enumerate(["ok", "ok", "flaky"]):
        open(os.path.join(out, f"n{i}.txt"), "w").write(word)
    """

PIPELINE = """\
type: pipeline
experiment_name: yaml-parallel-pipes
inputs:
  factor: 3
jobs:
  prep:
    command: python prep.py --out ${{outputs.numbers}}
    code: src
    outputs:
      numbers: {}
  score:
    type: parallel
    inputs:
      numbers: ${{parent.jobs.prep.outputs.numbers}}
      factor: ${{parent.inputs.factor}}
    outputs:
      scores: {}
    input_data: ${{inputs.numbers}}
    retry_settings: {max_retries: 0}
    environment_variables: {FIXED: FIXED_PATH}
    task:
      code: src
      entry_script: score.py
      program_arguments: --factor ${{inputs.factor}} --calls CALLS
      append_row_to: ${{outputs.scores}}
"""


def test_a_parallel_job_of_a_pipeline_file_runs_and_resumes(workspace, project, tmp_path):
    from runyard import Experiment
    calls = tmp_path / "calls"
    calls.mkdir()
    text = PIPELINE.replace("FIXED_PATH", str(tmp_path / "fixed")).replace("CALLS", str(calls))
    folder = project({"pipeline.yml": text, "src/prep.py": PREP, "src/score.py": SCORE})
    loaded = load_pipeline_file(folder / "pipeline.yml", workspace)
    experiment = Experiment(workspace, loaded.experiment_name)
    first = experiment.submit(loaded.pipeline, pipeline_parameters={"factor": 5})
    first.wait_for_completion(timeout=180, raise_on_error=False)
    (step_run,) = first.find_step_run("score")
    assert step_run.get_status() == st.COMPLETED, step_run.get_details().get("error")
    assert [(r["batch_id"], r["status"]) for r in step_run.get_partition_results()] == [
        ("numbers:0", "Succeeded"), ("numbers:1", "Succeeded"), ("numbers:2", "Failed")]  # one file a batch
    assert appended(step_run, tmp_path) == "n0.txt ok x5\nn1.txt ok x5\n"
    (tmp_path / "fixed").touch()
    (calls / "run.txt").unlink()
    second = experiment.submit(loaded.pipeline, pipeline_parameters={"factor": 5})
    second.wait_for_completion(timeout=180)
    (again,) = second.find_step_run("score")
    assert calls_of(calls) == ["n2.txt"]
    assert appended(again, tmp_path) == "n0.txt ok x5\nn1.txt ok x5\nn2.txt flaky x5\n"


def test_a_parallel_job_file_past_its_threshold_fails_and_the_cli_says_so(workspace, project, tmp_path):
    text = FILE_JOB.replace("FIXED_PATH", str(tmp_path / "fixed")).replace("--calls CALLS ", "")
    text = text.replace("mini_batch_error_threshold: -1", "mini_batch_error_threshold: 0")
    folder = project({"job.yml": text, "src/score.py": SCORE, "data/a.txt": "flaky", "data/b.txt": "ok",
                      "data/c.txt": "ok"})
    done = runyard("-w", str(workspace.path), "job", "submit", "-f", "job.yml", cwd=folder)
    assert done.returncode == 1, done.stdout + done.stderr
    from runyard import Experiment
    (run,) = Experiment(workspace, "yaml-parallel").get_runs()
    assert run.get_status() == st.FAILED
    assert "allowed_failed_count=0 exceeded: 1 mini batch(es) failed" in run.get_details()["error"]["message"]
    assert run.get_partition_results(status="Failed")[0]["batch_id"] == "files:0"
