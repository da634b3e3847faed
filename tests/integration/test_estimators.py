"""Estimators train real models in their curated environments: scikit-learn on the local and
Docker targets, the other frameworks on the local target.

One representative per target: what an estimator adds on a target (its curated environment
built there, its launcher started there) is the same code for every framework, and the
others only repeat the local case's logic at minutes per environment. Docker's is
scikit-learn here; Ray's are in test_ray_target.py (scikit-learn's example, PyTorch DDP on
two nodes, Rscript on a node), R in a container is in test_run_job_side.py, and a
multi-process job in a container in test_docker_target.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Environment, SKLearn
from runyard import status as st

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: the representative targets (see the module's docstring)
LOCAL_AND_DOCKER = pytest.mark.parametrize("target_experiment", [
    "local", pytest.param("docker", marks=pytest.mark.docker)], indirect=True)


@LOCAL_AND_DOCKER
def test_sklearn_estimator_trains_iris_in_its_curated_environment(target_experiment, tmp_path):
    experiment, target = target_experiment
    workspace = experiment.workspace
    source = tmp_path / "iris"
    shutil.copytree(EXAMPLES / "sklearn-iris", source)
    run = experiment.submit(SKLearn(str(source), entry_script="train.py", script_params={"--C": 2.0},
                                    compute_target=target))
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    metrics = run.get_metrics()
    assert metrics["accuracy"] > 0.9 and metrics["C"] == 2.0
    assert "outputs/model.joblib" in run.get_file_names()
    tags = run.get_tags()
    assert tags["estimator"] == "SKLearn"
    # Autologging: the fitted estimator's class, parameters and training score.
    assert tags["sklearn.estimator"] == "LogisticRegression" and tags["sklearn.C"] == "2.0"
    assert 0.9 < metrics["training_score"] <= 1.0
    assert details["environment"]["name"] == "runyard-sklearn-1.9-cpu"
    registered = Environment.get(workspace, "runyard-sklearn-1.9-cpu")
    assert registered.version == "1"
    again = experiment.submit(SKLearn(str(source), entry_script="train.py", compute_target=target))
    assert again.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    assert Environment.get(workspace, "runyard-sklearn-1.9-cpu").version == "1"  # registered once


def test_cli_lists_the_curated_environments(workspace):
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "--workspace", str(workspace.path),
                           "env", "list", "--curated", "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = [row["name"] for row in json.loads(done.stdout)]
    assert {"runyard-sklearn-1.7-cpu", "runyard-sklearn-1.9-cpu"} <= set(names)


def test_pytorch_estimator_trains_with_ddp_on_two_processes(experiment, tmp_path):
    from runyard import PyTorch
    target = "local"
    source = tmp_path / "ddp"
    shutil.copytree(EXAMPLES / "pytorch-ddp", source)
    estimator = PyTorch(str(source), entry_script="train.py", script_params={"--epochs": 30},
                        process_count_per_node=2, compute_target=target)
    assert estimator.distributed_training.total_processes == 2
    run = experiment.submit(estimator)
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert details["environment"]["name"] == "runyard-pytorch-2.13-cpu"
    metrics = run.get_metrics()
    assert metrics["world_size"] == 2 and len(metrics["loss"]) == 30
    assert metrics["loss"][-1] < metrics["loss"][0] / 10  # it learned
    assert {"outputs/model.pt", "logs/rank_1.log"} <= set(run.get_file_names())
    # Resumed from that model, the next run starts where it ended.
    resumed = experiment.submit(PyTorch(str(source), entry_script="train.py", script_params={"--epochs": 3},
                                        process_count_per_node=2, resume_from=run, compute_target=target))
    assert resumed.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    again = resumed.get_metrics()
    assert again["resumed"] == 1 and again["loss"][0] < metrics["loss"][0] / 10


R_TRAIN = """\
library(runyard)
args <- commandArgs(trailingOnly = TRUE)
degree <- as.integer(args[[which(args == "--degree") + 1]])
fit <- lm(mpg ~ poly(hp, degree), data = mtcars)
r2 <- summary(fit)$r.squared
log_metric_to_run("r_squared", r2)
log_metric_to_run("degree", degree)
dir.create("outputs", showWarnings = FALSE)
saveRDS(fit, "outputs/fit.rds")
cat("r squared", r2, "\\n")
"""


def test_r_estimator_trains_with_rscript(experiment, project):
    from runyard import REstimator
    target = "local"
    src = project({"train.R": R_TRAIN})
    run = experiment.submit(REstimator(str(src), entry_script="train.R", script_params={"--degree": 2},
                                       compute_target=target))
    details = run.wait_for_completion(timeout=300, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    metrics = run.get_metrics()
    assert metrics["degree"] == 2 and metrics["r_squared"] > 0.7
    assert "outputs/fit.rds" in run.get_file_names()
    assert run.get_tags()["estimator"] == "REstimator"


def test_a_gpu_run_where_there_is_none_fails_in_preparing(experiment, project):
    from runyard import Estimator
    from runyard.compute.local import local_gpus
    if local_gpus():
        pytest.skip("this machine has a GPU")
    run = experiment.submit(Estimator(str(project({"train.py": "print('never')\n"})), entry_script="train.py",
                                      use_gpu=True))
    details = run.wait_for_completion(timeout=120, raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "asks for 1 GPU" in details["error"]["message"] and "has none" in details["error"]["message"]
    statuses = [e["status"] for e in details["statusHistory"]]
    assert st.PREPARING in statuses and st.RUNNING not in statuses


def test_tensorflow_estimator_trains_keras_and_resumes(experiment, tmp_path):
    from runyard import TensorFlow
    source = tmp_path / "tf"
    shutil.copytree(EXAMPLES / "tensorflow-keras", source)
    run = experiment.submit(TensorFlow(str(source), entry_script="train.py", script_params={"--epochs": 8}))
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert details["environment"]["name"] == "runyard-tensorflow-2.21-cpu"
    metrics = run.get_metrics()
    assert len(metrics["loss"]) == 8 and metrics["loss"][-1] < metrics["loss"][0]
    assert metrics["accuracy"][-1] > 0.9
    assert "outputs/model.keras" in run.get_file_names()
    resumed = experiment.submit(TensorFlow(str(source), entry_script="train.py", script_params={"--epochs": 1},
                                           resume_from=run))
    assert resumed.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    again = resumed.get_metrics()
    assert again["resumed"] == 1 and again["accuracy"] > 0.9  # it started from the trained model


def test_autologging_can_be_switched_off(experiment, tmp_path):
    source = tmp_path / "iris"
    shutil.copytree(EXAMPLES / "sklearn-iris", source)
    run = experiment.submit(SKLearn(str(source), entry_script="train.py", autolog=False))
    assert run.wait_for_completion(timeout=300)["status"] == st.COMPLETED
    assert "training_score" not in run.get_metrics()
    assert not any(key.startswith("sklearn.") for key in run.get_tags())


def test_chainer_estimator_trains_an_mlp_in_its_curated_environment(experiment, tmp_path):
    from runyard import Chainer
    source = tmp_path / "blobs"
    shutil.copytree(EXAMPLES / "chainer-blobs", source)
    run = experiment.submit(Chainer(str(source), entry_script="train.py", script_params={"--epochs": 15}))
    details = run.wait_for_completion(timeout=900, raise_on_error=False)
    assert details["status"] == st.COMPLETED, details["error"]
    assert details["environment"]["name"] == "runyard-chainer-7.8-cpu"
    assert run.get_tags()["estimator"] == "Chainer"
    metrics = run.get_metrics()
    assert len(metrics["loss"]) == 15 and metrics["loss"][-1] < metrics["loss"][0] / 5
    assert metrics["accuracy"][-1] > 0.9
    assert "outputs/model.npz" in run.get_file_names()
