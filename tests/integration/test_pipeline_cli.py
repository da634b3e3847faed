"""``runyard pipeline``: a pipeline file submitted, resubmitted (its steps reused), shown and
validated by the installed command, on the local target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Run, Workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline-diabetes"
_SCRIPT = Path(sys.executable).parent / "runyard"  # the console script pip installed (.venv/bin/runyard)


def runyard(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    command = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "runyard.cli"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


PIPELINE = """\
type: pipeline
experiment_name: cli-pipes
description: prep then train
inputs:
  scale: 1.0
jobs:
  prep:
    type: command
    code: src
    command: python prep.py --out ${{outputs.rows}} --scale ${{parent.inputs.scale}}
    outputs:
      rows: {}
  train:
    type: command
    code: src
    command: python train.py --data ${{inputs.rows}}
    inputs:
      rows: ${{parent.jobs.prep.outputs.rows}}
"""


@pytest.fixture
def pipeline_project(project) -> Path:
    folder = project({
        "pipeline.yml": PIPELINE,
        "src/prep.py": """\
            import argparse, os
            p = argparse.ArgumentParser(); p.add_argument("--out"); p.add_argument("--scale", type=float)
            a = p.parse_args()
            open(os.path.join(a.out, "rows.txt"), "w").write("\\n".join(str(x * a.scale) for x in (1, 2, 3)))
            print("prep: scaled by", a.scale)
            """,
        "src/train.py": """\
            import argparse, os
            from runyard import Run
            p = argparse.ArgumentParser(); p.add_argument("--data")
            a = p.parse_args()
            rows = [float(x) for x in open(os.path.join(a.data, "rows.txt")).read().split()]
            Run.get_context().log("mean", sum(rows) / len(rows))
            """,
    }, name="pipes")
    result = runyard("init", ".", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def show(folder: Path, run_id: str) -> dict:
    result = runyard("pipeline", "show", run_id, "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_submit_with_a_parameter_then_resubmit_reuses_every_step(pipeline_project: Path):
    first = runyard("pipeline", "submit", "-f", "pipeline.yml", "--param", "scale=2", cwd=pipeline_project)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "pipeline run Completed" in first.stdout and "Status: Completed" in first.stdout
    assert "Steps" in first.stdout and "Metrics" in first.stdout and "mean" in first.stdout
    ws = Workspace.get(pipeline_project)
    (pipeline_run,) = ws.experiments["cli-pipes"].get_runs()
    shown = show(pipeline_project, pipeline_run.id)
    assert shown["status"] == "Completed" and shown["parameters"] == {"scale": 2.0}
    assert [(s["name"], s["status"], s["reusedRunId"]) for s in shown["steps"]] == [
        ("prep", "Completed", None), ("train", "Completed", None)]
    assert all(s["durationSeconds"] > 0 for s in shown["steps"])
    assert Run.get(ws, shown["steps"][1]["runId"]).get_metrics() == {"mean": 4.0}

    again = runyard("pipeline", "submit", "-f", "pipeline.yml", "-p", "scale=2", "--json", cwd=pipeline_project)
    assert again.returncode == 0, again.stderr
    details = json.loads(again.stdout)
    assert details["status"] == "Completed" and details["runType"] == "pipeline"
    assert [s["reusedRunId"] for s in details["steps"]] == [s["runId"] for s in shown["steps"]]
    text = runyard("pipeline", "show", details["runId"], cwd=pipeline_project)
    assert text.returncode == 0, text.stderr
    assert "reused" in text.stdout and shown["steps"][0]["runId"] in text.stdout and "scale=2.0" in text.stdout

    # another value: prep and train run again; the file's default: reused from nothing either
    third = runyard("pipeline", "submit", "-f", "pipeline.yml", "--detach", cwd=pipeline_project)
    assert third.returncode == 0, third.stderr
    run = Run.get(ws, third.stdout.strip())
    run.wait_for_completion(timeout=120)
    assert [s["reusedRunId"] for s in show(pipeline_project, run.id)["steps"]] == [None, None]
    assert run.find_step_run("train")[0].get_metrics() == {"mean": 2.0}

    # --regenerate-outputs: nothing reused
    fresh = runyard("pipeline", "submit", "-f", "pipeline.yml", "--regenerate-outputs", "--json", cwd=pipeline_project)
    assert fresh.returncode == 0, fresh.stderr
    assert [s["reusedRunId"] for s in json.loads(fresh.stdout)["steps"]] == [None, None]


def test_the_file_reuses_what_the_same_pipeline_in_python_ran(pipeline_project: Path):
    from runyard import Experiment, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep
    ws = Workspace.get(pipeline_project)
    rows, scale = OutputFileDatasetConfig("rows"), PipelineParameter("scale", 1.0)
    src = pipeline_project / "src"
    steps = [PythonScriptStep("prep.py", name="prep", arguments=["--out", rows, "--scale", scale],
                              source_directory=src),
             PythonScriptStep("train.py", name="train", arguments=["--data", rows.as_input()], source_directory=src)]
    in_python = Experiment(ws, "cli-pipes").submit(Pipeline(ws, steps, description="prep then train"))
    in_python.wait_for_completion(timeout=120)
    result = runyard("pipeline", "submit", "-f", "pipeline.yml", "--json", cwd=pipeline_project)
    assert result.returncode == 0, result.stderr
    assert [s["reusedRunId"] for s in json.loads(result.stdout)["steps"]] == [
        in_python.find_step_run(name)[0].id for name in ("prep", "train")]


def test_a_failed_step_exits_1(pipeline_project: Path):
    (pipeline_project / "src" / "train.py").write_text("raise SystemExit('no rows')\n")
    result = runyard("pipeline", "submit", "-f", "pipeline.yml", cwd=pipeline_project)
    assert result.returncode == 1
    assert "step 'train'" in result.stdout and "Failed" in result.stdout


def test_bad_input_exits_2_naming_the_file_and_records_nothing(pipeline_project: Path):
    (pipeline_project / "broken.yml").write_text(PIPELINE.replace("${{inputs.rows}}", "${{inputs.row}}"))
    for args in (["pipeline", "validate", "-f", "broken.yml"], ["pipeline", "submit", "-f", "broken.yml"]):
        result = runyard(*args, cwd=pipeline_project)
        assert result.returncode == 2
        assert "broken.yml: line 16, field 'jobs.train.command'" in result.stderr, result.stderr
        assert "job 'train' has no input 'row'" in result.stderr
    checks = {
        ("--param", "scale=big"): "--param scale: 'big' is not a number",
        ("--param", "alpha=1"): "has no input (parameter) 'alpha'; its inputs: scale",
        ("--param", "scale"): "expected KEY=VALUE",
    }
    for extra, words in checks.items():
        result = runyard("pipeline", "submit", "-f", "pipeline.yml", *extra, cwd=pipeline_project)
        assert result.returncode == 2 and words in result.stderr, result.stderr
    missing = runyard("pipeline", "submit", "-f", "nope.yml", cwd=pipeline_project)
    assert missing.returncode == 2 and "'nope.yml' does not exist" in missing.stderr
    assert Workspace.get(pipeline_project)._store.list_runs() == []


def test_publish_then_submit_by_name_and_show_wants_a_pipeline_run(pipeline_project: Path):
    by_name = runyard("pipeline", "submit", "nightly", cwd=pipeline_project)
    assert by_name.returncode == 2 and "no published pipeline named 'nightly'" in by_name.stderr
    published = runyard("pipeline", "publish", "nightly", "-f", "pipeline.yml", "--version", "1", "--json",
                        cwd=pipeline_project)
    assert published.returncode == 0, published.stderr
    info = json.loads(published.stdout)
    assert info["name"] == "nightly" and info["parameters"] == {"scale": 1.0} and info["status"] == "Active"
    listed = runyard("pipeline", "list", cwd=pipeline_project)
    assert "nightly" in listed.stdout and info["id"] in listed.stdout
    done = runyard("pipeline", "submit", "nightly", "--param", "scale=3", "--json", cwd=pipeline_project)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert run["status"] == "Completed" and run["properties"]["azureml.pipelineid"] == info["id"]
    bad = runyard("pipeline", "submit", info["id"], "--param", "scale=x", cwd=pipeline_project)
    assert bad.returncode == 2 and "--param scale" in bad.stderr
    assert runyard("pipeline", "disable", "nightly", cwd=pipeline_project).returncode == 0
    off = runyard("pipeline", "submit", "nightly:1", cwd=pipeline_project)
    assert off.returncode == 2 and "disabled" in off.stderr
    neither = runyard("pipeline", "submit", cwd=pipeline_project)
    assert neither.returncode == 2 and "-f pipeline.yml" in neither.stderr
    both = runyard("pipeline", "submit", "nightly", "-f", "pipeline.yml", cwd=pipeline_project)
    assert both.returncode == 2 and "not both" in both.stderr
    script = runyard("run", "submit", "--detach", "-s", "src", "prep.py", "--", "--out", ".", "--scale", "1",
                     cwd=pipeline_project)
    shown = runyard("pipeline", "show", script.stdout.strip(), cwd=pipeline_project)
    assert shown.returncode == 2 and "not a pipeline run" in shown.stderr
    assert runyard("pipeline", "show", "no_such_run", cwd=pipeline_project).returncode == 3


def test_validate_prints_the_steps(pipeline_project: Path):
    result = runyard("pipeline", "validate", "-f", "pipeline.yml", "--json", cwd=pipeline_project)
    assert result.returncode == 0, result.stderr
    checked = json.loads(result.stdout)
    assert checked["parameters"] == {"scale": 1.0} and checked["experimentName"] == "cli-pipes"
    assert [(s["name"], s["kind"], s["upstream"]) for s in checked["steps"]] == [
        ("prep", "python", []), ("train", "python", ["prep"])]
    text = runyard("pipeline", "validate", "-f", "pipeline.yml", cwd=pipeline_project)
    assert "pipeline.yml: valid (2 steps)" in text.stdout
    assert Workspace.get(pipeline_project)._store.list_runs() == []


def test_the_example_pipeline_file_validates_and_runs(tmp_path: Path):
    assert runyard("init", str(tmp_path), cwd=tmp_path).returncode == 0
    checked = runyard("pipeline", "validate", "-f", str(EXAMPLE / "pipeline.yml"), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    result = runyard("pipeline", "submit", "-f", str(EXAMPLE / "pipeline.yml"), "--param", "alpha=0.1", "--json",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    details = json.loads(result.stdout)
    assert details["experimentName"] == "pipeline-diabetes" and details["parameters"] == {"alpha": 0.1}
    evaluate = Run.get(Workspace.get(tmp_path), details["steps"][2]["runId"])
    assert set(evaluate.get_metrics()) == {"test_r2", "test_mse"}


def test_a_registered_dataset_feeds_a_job_of_the_file(project):
    folder = project({
        "data/rows.csv": "x\n1\n2\n",
        "src/count.py": """\
            import argparse, os
            from runyard import Run
            p = argparse.ArgumentParser(); p.add_argument("--data")
            rows = open(os.path.join(p.parse_args().data, "rows.csv")).read().split()[1:]
            Run.get_context().log("rows", len(rows))
            """,
        "pipeline.yml": """\
            experiment_name: with-data
            jobs:
              count:
                code: src
                command: python count.py --data ${{inputs.data}}
                inputs:
                  data: {path: "azureml:rows@latest"}
            """,
    }, name="data-pipes")
    assert runyard("init", ".", cwd=folder).returncode == 0
    from runyard import Dataset
    ws = Workspace.get(folder)
    Dataset.File.from_files(str(folder / "data")).register(ws, "rows")
    result = runyard("pipeline", "submit", "-f", "pipeline.yml", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr + result.stdout
    (step,) = json.loads(result.stdout)["steps"]
    assert step["status"] == "Completed" and Run.get(ws, step["runId"]).get_metrics() == {"rows": 2}
