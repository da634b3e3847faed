"""MLflow's own client logging into runyard runs (runyard.mlflow_tracking): from a driver with
``mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())``, and from a job on the local target,
where ``mlflow.start_run()`` attaches to the job's run. Every script runs as its own Python
process with the real mlflow client; what it logged is read back through runyard's Run API
and through MlflowClient."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runyard import Experiment, ScriptRunConfig, Workspace

DRIVER = """\
import json, sys
import mlflow, mlflow.sklearn
from mlflow import MlflowClient
from runyard import Workspace
from sklearn.linear_model import LinearRegression

ws = Workspace.get(sys.argv[1])
mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())
mlflow.set_experiment("mlflow-driver")
with open("notes.txt", "w") as fh:
    fh.write("trained on two points")
with mlflow.start_run(run_name="fit") as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_params({"fit_intercept": True, "solver": "auto"})
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        mlflow.log_metric("loss", loss, step=step)
    mlflow.log_metrics({"r2": 0.75})
    mlflow.set_tag("team", "forecasting")
    mlflow.log_artifact("notes.txt", "reports")
    mlflow.log_artifacts("extra")
    mlflow.sklearn.log_model(LinearRegression().fit([[1], [2]], [1, 2]), name="model")
    with mlflow.start_run(run_name="fold-1", nested=True) as child:
        mlflow.log_metric("auc", 0.8)
    try:
        mlflow.log_param("alpha", 0.7)
    except mlflow.exceptions.MlflowException as e:
        print("param refused:", e)
mlflow.start_run(run_name="failing")
failing = mlflow.active_run().info.run_id
mlflow.end_run(status="FAILED")

client = MlflowClient()
got = client.get_run(run.info.run_id)
history = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")]
found = client.search_runs([got.info.experiment_id], filter_string="params.alpha = '0.5'")
model = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
print(json.dumps({"run": run.info.run_id, "child": child.info.run_id, "failing": failing,
                  "status": got.info.status, "metrics": got.data.metrics, "params": got.data.params,
                  "team": got.data.tags.get("team"), "history": history,
                  "found": [r.info.run_id for r in found], "prediction": float(model.predict([[3]])[0]),
                  "listed": [f.path for f in client.list_artifacts(run.info.run_id)]}))
"""

JOB_SCRIPT = """\
import os
import sys
import mlflow

print("python", sys.prefix)

with mlflow.start_run() as run:
    print("mlflow run", run.info.run_id, "tracking", mlflow.get_tracking_uri())
    mlflow.log_param("epochs", 3)
    for epoch, loss in enumerate([0.8, 0.4, 0.2]):
        mlflow.log_metric("loss", loss, step=epoch)
    mlflow.set_tag("stage", "job")
    os.makedirs("plots", exist_ok=True)
    with open("plots/curve.txt", "w") as fh:
        fh.write("0.8 0.4 0.2")
    mlflow.log_artifact("plots/curve.txt", "plots")
    with mlflow.start_run(run_name="inner", nested=True):
        mlflow.log_metric("inner_score", 1.5)
"""


def _python(code: str, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_driver_side_mlflow_logging_lands_in_runyard_runs(workspace, tmp_path: Path):
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "config.json").write_text("{}")
    done = _python(DRIVER, tmp_path, str(workspace.path))
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "param refused:" in done.stdout and "cannot change to '0.7'" in done.stdout

    # read back through runyard's own Run API
    run = workspace.get_run(out["run"])
    assert run.experiment.name == "mlflow-driver" and run.display_name == "fit"
    assert run.get_status() == "Completed"
    metrics = run.get_metrics()
    assert metrics["loss"] == [0.9, 0.5, 0.25]  # log_model's re-logging of them is not stored twice
    assert metrics["r2"] == 0.75
    assert [h["step"] for h in run.get_metric_history("loss")] == [0, 1, 2]
    assert run.get_properties()["mlflow.param.alpha"] == "0.5"
    assert run.get_properties()["mlflow.param.fit_intercept"] == "True"
    assert run.get_tags()["team"] == "forecasting"
    files = run.get_file_names()
    assert "reports/notes.txt" in files and "config.json" in files
    assert {"model/MLmodel", "model/requirements.txt"} <= set(files)
    assert json.loads(run.get_tags()["mlflow.log-model.history"])[0]["artifact_path"]
    child, = run.get_children()
    assert (child.id, child.display_name, child.get_status()) == (out["child"], "fold-1", "Completed")
    assert child.get_metrics() == {"auc": 0.8}
    assert workspace.get_run(out["failing"]).get_status() == "Failed"

    # read back through MLflow's client
    assert out["status"] == "FINISHED"
    assert out["metrics"] == {"loss": 0.25, "r2": 0.75}
    assert out["params"] == {"alpha": "0.5", "fit_intercept": "True", "solver": "auto"}
    assert out["team"] == "forecasting"
    assert out["history"] == [[0, 0.9], [1, 0.5], [2, 0.25]]
    assert out["found"] == [out["run"]]
    assert out["prediction"] == pytest.approx(3.0)
    assert out["listed"] == ["config.json", "model", "reports"]


@pytest.mark.slow
def test_job_side_mlflow_start_run_attaches_to_the_jobs_run(workspace, project, wait_for):
    source = project({"train.py": JOB_SCRIPT})
    run = Experiment(workspace, "mlflow-job").submit(ScriptRunConfig(source, script="train.py"))
    run.wait_for_completion()
    assert run.get_status() == "Completed", run.get_log()
    assert f"mlflow run {run.id} tracking runyard://job" in run.get_log()
    assert run.get_metrics()["loss"] == [0.8, 0.4, 0.2]
    assert [h["step"] for h in run.get_metric_history("loss")] == [0, 1, 2]
    assert run.get_properties()["mlflow.param.epochs"] == "3"
    assert run.get_tags()["stage"] == "job"
    assert "plots/curve.txt" in run.get_file_names()
    inner, = run.get_children()
    assert (inner.display_name, inner.get_metrics(), inner.get_status()) == ("inner", {"inner_score": 1.5},
                                                                             "Completed")
    # the job's variables say where MLflow logs; its run's stored definition does not name them
    definition = run.get_details()["runDefinition"]
    assert "MLFLOW_RUN_ID" not in json.dumps(definition)


@pytest.mark.slow
def test_a_job_configured_for_another_mlflow_keeps_its_setting(workspace, project):
    from runyard import RunConfiguration
    source = project({"show.py": """
        import os
        print("uri", os.environ.get("MLFLOW_TRACKING_URI"), "run", os.environ.get("MLFLOW_RUN_ID"))
    """})
    config = ScriptRunConfig(source, script="show.py", run_config=RunConfiguration(
        environment_variables={"MLFLOW_TRACKING_URI": "http://my-mlflow:5000"}))
    run = Experiment(workspace, "own-mlflow").submit(config)
    run.wait_for_completion()
    assert "uri http://my-mlflow:5000 run None" in run.get_log()
    plain = Experiment(workspace, "own-mlflow").submit(ScriptRunConfig(source, script="show.py"))
    plain.wait_for_completion()
    assert f"uri runyard://job run {plain.id}" in plain.get_log()


def test_tracking_uris_name_the_workspace(workspace, tmp_path: Path):
    from runyard.errors import ConfigError
    from runyard.mlflow_tracking import workspace_address
    uri = workspace.get_mlflow_tracking_uri()
    assert uri == f"runyard://{workspace.path}"
    assert workspace_address(uri) == str(workspace.path)
    spaced = Workspace.create(tmp_path / "my folder" / ".runyard", name="spaced")
    assert workspace_address(spaced.get_mlflow_tracking_uri()) == str(spaced.path)
    assert workspace_address("runyard+http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert workspace_address("runyard://job") == "job"
    with pytest.raises(ConfigError, match="three slashes"):
        workspace_address("runyard://relative/path")
    with pytest.raises(ConfigError, match="is not runyard's"):
        workspace_address("http://127.0.0.1:5000")


def test_importing_runyard_does_not_import_mlflow(run_python):
    done = run_python("""
        import sys
        import runyard
        from runyard import Workspace
        from runyard.compute import local
        print("mlflow" in sys.modules)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


SERVED_DRIVER = """\
import json, sys
import mlflow
from mlflow import MlflowClient
from runyard import Workspace

ws = Workspace.get(sys.argv[1])
mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())
mlflow.set_experiment("mlflow-served")
with open("notes.txt", "w") as fh:
    fh.write("served")
with mlflow.start_run() as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("loss", 0.3, step=4)
    mlflow.log_artifact("notes.txt")
got = MlflowClient().get_run(run.info.run_id)
print(json.dumps({"run": run.info.run_id, "uri": mlflow.get_tracking_uri(), "params": got.data.params,
                  "files": [f.path for f in MlflowClient().list_artifacts(run.info.run_id)]}))
"""


@pytest.mark.slow
def test_mlflow_logs_to_a_workspace_server_from_driver_and_job(tmp_path: Path, project):
    from server_service import start_server, stop_server
    proc, url = start_server(f"sqlite:///{tmp_path / 'served.db'}", tmp_path / "artifacts", tmp_path / "server.log")
    try:
        done = _python(SERVED_DRIVER, tmp_path, url)
        assert done.returncode == 0, done.stdout + done.stderr
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["uri"] == f"runyard+{url}"
        assert out["params"] == {"alpha": "0.5"} and out["files"] == ["notes.txt"]
        workspace = Workspace.get(url)
        run = workspace.get_run(out["run"])
        assert run.get_status() == "Completed"
        assert run.get_metric_history("loss")[0]["step"] == 4
        assert run.get_file_names() == ["notes.txt"]

        job = Experiment(workspace, "mlflow-served-job").submit(ScriptRunConfig(project({"train.py": JOB_SCRIPT}),
                                                                                script="train.py"))
        job.wait_for_completion()
        assert job.get_status() == "Completed", job.get_log()
        assert job.get_metrics()["loss"] == [0.8, 0.4, 0.2]
        assert "plots/curve.txt" in job.get_file_names()
    finally:
        stop_server(proc)


DEFAULT_EXPERIMENT_DRIVER = """\
import json, sys
import mlflow
from mlflow import MlflowClient
from runyard import Workspace

mlflow.set_tracking_uri(Workspace.get(sys.argv[1]).get_mlflow_tracking_uri())
with mlflow.start_run() as run:
    mlflow.log_text("hello", "texts/hello.txt")
    mlflow.log_dict({"a": 1}, "config.json")
    mlflow.set_tags({"keep": "1", "drop": "2"})
    MlflowClient().delete_tag(run.info.run_id, "drop")
    mlflow.log_metric("m", 2.0)
    mlflow.log_metric("timed", 1.5, step=7, timestamp=1700000000250)
for kwargs in ({"artifact_location": "/elsewhere"}, {"tags": {"team": "x"}}):
    try:
        mlflow.create_experiment("refused", **kwargs)
    except mlflow.exceptions.MlflowException as e:
        print("refused:", e)
ordered = mlflow.search_runs(experiment_ids=["0"], order_by=["metrics.m DESC"], output_format="list")
print(json.dumps({"run": run.info.run_id, "experiment": run.info.experiment_id,
                  "experiments": [e.name for e in mlflow.search_experiments()],
                  "missing": mlflow.get_experiment_by_name("nope") is None,
                  "ordered": [r.info.run_id for r in ordered],
                  "text": mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/texts/hello.txt")}))
"""


def test_mlflows_default_experiment_text_artifacts_and_tag_removal(workspace, tmp_path: Path):
    done = _python(DEFAULT_EXPERIMENT_DRIVER, tmp_path, str(workspace.path))
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "refused: experiment 'refused': artifact_location '/elsewhere' cannot be honoured" in done.stdout
    assert "refused: experiment 'refused': runyard experiments have no tags" in done.stdout
    assert out["experiment"] == "Default" and out["experiments"] == ["Default"] and out["missing"]
    assert out["ordered"] == [out["run"]] and out["text"] == "hello"
    run = workspace.get_run(out["run"])
    assert run.experiment.name == "Default"
    assert {"texts/hello.txt", "config.json"} <= set(run.get_file_names())
    assert run.get_tags()["keep"] == "1" and "drop" not in run.get_tags()
    timed, = run.get_metric_history("timed")
    assert (timed["value"], timed["step"], timed["time"]) == (1.5, 7, 1700000000.25)


AUTOLOG_DRIVER = """\
import json, sys
import mlflow, mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from runyard import Workspace
from sklearn.linear_model import LinearRegression

mlflow.set_tracking_uri(Workspace.get(sys.argv[1]).get_mlflow_tracking_uri())
mlflow.set_experiment("autolog")
mlflow.sklearn.autolog()
with mlflow.start_run() as run:
    LinearRegression().fit(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 3.1]))
inputs = MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
print(json.dumps({"run": run.info.run_id, "inputs": [(i.dataset.source_type, [t.value for t in i.tags])
                                                    for i in inputs]}))
"""


@pytest.mark.slow
def test_sklearn_autologging_lands_in_the_run(workspace, tmp_path: Path):
    done = _python(AUTOLOG_DRIVER, tmp_path, str(workspace.path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Encountered unexpected error" not in done.stderr, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    run = workspace.get_run(out["run"])
    assert run.get_metrics()["training_r2_score"] > 0.99
    assert run.get_properties()["mlflow.param.fit_intercept"] == "True"
    assert "model/MLmodel" in run.get_file_names()
    assert out["inputs"] == [["code", ["train"]]]  # the training data, as MLflow describes it


@pytest.mark.slow
def test_a_job_in_an_environment_runyard_builds_finds_the_plugin(workspace, project):
    """runyard reaches a built environment through PYTHONPATH, not as an installed distribution:
    MLflow finds the plugin through the metadata runyard's client folder carries."""
    from runyard import Environment
    env = Environment("with-mlflow")
    env.python.conda_dependencies.add_pip_package("mlflow-skinny")
    run = Experiment(workspace, "mlflow-built-env").submit(
        ScriptRunConfig(project({"train.py": JOB_SCRIPT}), script="train.py", environment=env))
    run.wait_for_completion()
    assert run.get_status() == "Completed", run.get_log()
    assert re.search(r"python \S+/envs/", run.get_log()), run.get_log()  # the environment built for it
    assert run.get_metrics()["loss"] == [0.8, 0.4, 0.2]
    assert run.get_properties()["mlflow.param.epochs"] == "3"
