"""Behaviours Azure ML SDK v1 code depends on (issue #18, point 6), each on a real workspace
and, where a job is involved, a real run on the local target."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from runyard import Environment, Experiment, Model, Run, ScriptRunConfig, Workspace
from runyard.errors import ConfigError

SLEEPER = "import time\nprint('started', flush=True)\ntime.sleep(60)\n"
TRAIN = """\
import sys
from runyard import Run
run = Run.get_context()
run.log("arg", " ".join(sys.argv[1:]))
"""


def _submit(workspace: Workspace, project, script: str, body: str, **kwargs) -> Run:
    env = Environment("user-managed")
    env.python.user_managed_dependencies = True
    source = project({script: body})
    config = ScriptRunConfig(str(source), script=script, environment=env, **kwargs)
    return Experiment(workspace, "v1-behaviours").submit(config)


def test_integer_tag_values_are_kept_and_found(workspace: Workspace):
    run = Experiment(workspace, "tags").start_logging(tags={"fold": 3})
    run.tag("epochs", 10)
    run.set_tags({"seed": 42, "note": "int and text mixed"})
    run.complete()
    assert run.get_tags() == {"fold": "3", "epochs": "10", "seed": "42", "note": "int and text mixed"}
    found, = Experiment(workspace, "tags").get_runs(tags={"epochs": 10})
    assert found == run


def test_get_runs_by_tag_key_alone(workspace: Workspace):
    experiment = Experiment(workspace, "tag-key")
    tagged = experiment.start_logging(tags={"best": None})
    experiment.start_logging(tags={"other": "x"}).complete()
    tagged.complete()
    assert list(experiment.get_runs(tags="best")) == [tagged]


def test_add_properties_is_write_once(workspace: Workspace):
    run = Experiment(workspace, "props").start_logging()
    run.add_properties({"data_version": 1})
    run.add_properties({"data_version": "1"})  # the same value again is fine, as in Azure
    with pytest.raises(ConfigError, match="data_version"):
        run.add_properties({"data_version": 2})
    assert run.get_properties()["data_version"] == "1"
    run.complete()


def test_string_versions_where_azure_took_them(workspace: Workspace, tmp_path: Path):
    (tmp_path / "model.pkl").write_bytes(b"weights")
    Model.register(workspace, model_path=str(tmp_path / "model.pkl"), model_name="m")
    assert Model(workspace, "m", version="1").version == 1
    env = Environment("env-v")
    env.python.user_managed_dependencies = True
    env.register(workspace)
    assert Environment.get(workspace, "env-v", version="1").name == "env-v"
    from runyard import Dataset
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    Dataset.Tabular.from_delimited_files(str(tmp_path / "data.csv")).register(workspace, "table")
    assert Dataset.get_by_name(workspace, "table", version="1").version == 1
    assert Dataset.get_by_name(workspace, "table", version="latest").version == 1


def test_dataset_names_with_spaces(workspace: Workspace, tmp_path: Path):
    from runyard import Dataset
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    Dataset.Tabular.from_delimited_files(str(tmp_path / "data.csv")).register(workspace, "diabetes data v1")
    found = Dataset.get_by_name(workspace, name="diabetes data v1")
    assert found.name == "diabetes data v1" and found.to_pandas_dataframe()["b"].tolist() == [2]


def test_log_row_with_a_positional_description_thousands_of_times(workspace: Workspace):
    run = Experiment(workspace, "rows").start_logging()
    started = time.monotonic()
    for epoch in range(5000):
        run.log_row("curve", "loss by epoch", epoch=epoch, loss=1.0 / (epoch + 1))
    run.complete()
    assert time.monotonic() - started < 30
    curve = run.get_metrics()["curve"]
    assert curve["epoch"] == list(range(5000)) and curve["loss"][-1] == pytest.approx(1 / 5000)


ROWS = """\
from azureml.core.run import Run
run = Run.get_context()
for epoch in range(3000):
    run.log_row("curve", "loss by epoch", epoch=epoch, loss=1.0 / (epoch + 1))
"""


def test_log_row_thousands_of_times_from_a_job(workspace: Workspace, project):
    run = _submit(workspace, project, "rows.py", ROWS)
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Completed", run.get_log()
    curve = run.get_metrics()["curve"]
    assert curve["epoch"] == list(range(3000)) and len(curve["loss"]) == 3000


def test_restore_snapshot_to_a_path(workspace: Workspace, project, tmp_path: Path):
    run = _submit(workspace, project, "train.py", TRAIN, arguments=["--lr", 0.1])
    run.wait_for_completion()
    saved = run.restore_snapshot(path=str(tmp_path / "restored"))
    assert Path(saved).is_file() and Path(saved).parent == tmp_path / "restored"
    with zipfile.ZipFile(saved) as archive:
        assert archive.read("train.py").decode() == TRAIN
    with pytest.raises(ConfigError, match="snapshot_id"):
        run.restore_snapshot(snapshot_id="not-this-runs", path=str(tmp_path))


def test_run_definition_in_details(workspace: Workspace, project):
    run = _submit(workspace, project, "train.py", TRAIN, arguments=["--lr", 0.1])
    run.wait_for_completion()
    definition = run.get_details()["runDefinition"]
    assert definition["script"] == "train.py"
    assert definition["arguments"] == ["--lr", "0.1"]
    assert definition["target"] == "local"
    assert definition["environment"]["name"] == "user-managed"
    assert run.get_metrics()["arg"] == "--lr 0.1"


@pytest.mark.slow
def test_cancel_right_after_submit(workspace: Workspace, project):
    run = _submit(workspace, project, "sleep.py", SLEEPER)
    run.cancel()
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Canceled"


@pytest.mark.slow
def test_fail_from_the_driver_ends_a_running_job_failed(workspace: Workspace, project):
    run = _submit(workspace, project, "sleep.py", SLEEPER)
    deadline = time.monotonic() + 60
    while run.get_status() != "Running" and time.monotonic() < deadline:
        time.sleep(0.2)
    run.fail("stopped by the notebook: data drifted")
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert "data drifted" in details["error"]["message"]


PREP = """\
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], "rows.csv"), "w").write("a\\n1\\n")
"""


@pytest.mark.slow
def test_steps_found_by_script_name_and_their_outputs_by_port_data_reference(workspace: Workspace, project,
                                                                             tmp_path: Path):
    from runyard.pipeline import Pipeline, PipelineData, PythonScriptStep
    from runyard.pipeline.run import StepRun
    source = project({"prep.py": PREP})
    prepared = PipelineData("prepared")
    env = Environment("user-managed")
    env.python.user_managed_dependencies = True
    from runyard import RunConfiguration
    runconfig = RunConfiguration()
    runconfig.environment = env
    step = PythonScriptStep("prep.py", arguments=[prepared], outputs=[prepared], source_directory=str(source),
                            runconfig=runconfig)
    pipeline_run = Experiment(workspace, "steps").submit(Pipeline(workspace, [step]))
    assert pipeline_run.wait_for_completion(raise_on_error=False)["status"] == "Completed"
    step_run, = pipeline_run.find_step_run("prep.py")  # a step given no name is called by its script
    assert isinstance(step_run, StepRun)
    reference = step_run.get_output("prepared").get_port_data_reference()
    assert reference.path_on_datastore == f"azureml/{step_run.id}/prepared"
    folder = reference.download(local_path=str(tmp_path / "here"))
    assert Path(folder) == tmp_path / "here" / "azureml" / step_run.id / "prepared"
    assert (Path(folder) / "rows.csv").read_text() == "a\n1\n"
    with pytest.raises(ConfigError, match="rows.csv exists"):
        step_run.get_output_data("prepared").download(str(tmp_path / "here"))
    with pytest.raises(ConfigError, match="no files in output 'missing'; its outputs with files: prepared"):
        step_run.get_output_data("missing")
