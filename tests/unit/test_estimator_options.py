"""Estimators: Azure's arguments, checked when the estimator is made."""

from __future__ import annotations

import pytest

from runyard import ConfigError, Environment, Estimator, MpiConfiguration, PyTorchConfiguration, SKLearn


@pytest.fixture
def src(tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")
    return tmp_path


def test_script_params_become_arguments_and_empty_values_flags(src):
    est = Estimator(str(src), entry_script="train.py", script_params={"--alpha": 0.5, "--verbose": "", "--n": 3})
    assert est.arguments == ["--alpha", "0.5", "--verbose", "--n", "3"]
    config = est.run_config()
    assert (config.script, config.resolved_arguments()) == ("train.py", est.arguments)
    assert Estimator(str(src), entry_script="train.py", arguments=["a", 1]).arguments == ["a", "1"]


def test_generic_estimator_environment_from_packages(src):
    assert Estimator(str(src), entry_script="train.py").environment is None
    est = Estimator(str(src), entry_script="train.py", pip_packages=["six==1.16.0"], custom_docker_image="python:3.11")
    assert est.environment.python.conda_dependencies.pip_packages == ["six==1.16.0"]
    assert est.environment.docker.base_image == "python:3.11"


def test_nodes_and_processes_become_a_distributed_config(src):
    est = Estimator(str(src), entry_script="train.py", node_count=2, process_count_per_node=2)
    assert isinstance(est.distributed_training, MpiConfiguration) and est.distributed_training.total_processes == 4
    given = PyTorchConfiguration(process_count=2)
    assert Estimator(str(src), entry_script="train.py", distributed_training=given).distributed_training is given


def test_sklearn_uses_its_curated_environment(src):
    est = SKLearn(str(src), entry_script="train.py")
    assert est.environment.name == "runyard-sklearn-1.9-cpu" and est.framework_version == "1.9"
    assert any(p.startswith("scikit-learn==1.9") for p in est.environment.python.conda_dependencies.pip_packages)
    assert SKLearn(str(src), entry_script="train.py", framework_version="1.8.0").environment.name == \
        "runyard-sklearn-1.8-cpu"
    extra = SKLearn(str(src), entry_script="train.py", pip_packages=["six==1.16.0"]).environment
    assert extra.name == "runyard-sklearn-1.9-cpu-custom"
    assert "six==1.16.0" in extra.python.conda_dependencies.pip_packages


@pytest.mark.parametrize("kwargs, message", [
    ({"node_count": 2}, "SKLearn: node_count - sklearn trains in one process"),
    ({"process_count_per_node": 2}, "process_count_per_node"),
    ({"distributed_training": PyTorchConfiguration(process_count=2)}, "distributed_training"),
    ({"framework_version": "0.20"}, r"framework_version '0.20' is not supported for sklearn; supported: 1.7, 1.8, 1.9"),
    ({"entry_script": "missing.py"}, "script 'missing.py' does not exist"),
    ({"entry_script": None}, "entry_script is required"),
    ({"environment_definition": Environment("mine"), "pip_packages": ["six"]}, "environment_definition replaces"),
    ({"script_params": {"--a": 1}, "arguments": ["--b"]}, "script_params or arguments"),
    ({"node_count": 0}, "node_count must be a whole number >= 1"),
])
def test_bad_options_are_refused_naming_the_option(src, kwargs, message):
    kwargs = {"entry_script": "train.py", **kwargs}
    with pytest.raises(ConfigError, match=message):
        SKLearn(str(src), **kwargs)


def test_pytorch_processes_become_a_pytorch_configuration(src):
    from runyard import PyTorch, TensorflowConfiguration
    est = PyTorch(str(src), entry_script="train.py", node_count=2, process_count_per_node=2)
    assert isinstance(est.distributed_training, PyTorchConfiguration)
    assert (est.distributed_training.total_processes, est.distributed_training.node_count) == (4, 2)
    assert est.environment.name == "runyard-pytorch-2.13-cpu"
    with pytest.raises(ConfigError, match="PyTorch: distributed_training must be a PyTorchConfiguration"):
        PyTorch(str(src), entry_script="train.py", distributed_training=TensorflowConfiguration())
    with pytest.raises(ConfigError, match="supported: 2.13"):
        PyTorch(str(src), entry_script="train.py", framework_version="1.13")


def test_r_estimator_options(tmp_path):
    from runyard import REstimator
    (tmp_path / "train.R").write_text("cat(1)\n")
    (tmp_path / "train.py").write_text("print(1)\n")
    est = REstimator(str(tmp_path), entry_script="train.R", cran_packages=["glmnet", {"name": "caret", "version": "6.0"}])
    assert [p.name for p in est.environment.r.cran_packages] == ["glmnet", "caret"]
    with pytest.raises(ConfigError, match="not an R script"):
        REstimator(str(tmp_path), entry_script="train.py")
    with pytest.raises(ConfigError, match="has no R section"):
        REstimator(str(tmp_path), entry_script="train.R", environment_definition=Environment("py"))


def test_tensorflow_distribution(src):
    from runyard import TensorFlow, TensorflowConfiguration
    est = TensorFlow(str(src), entry_script="train.py", node_count=3)
    assert (est.distributed_training.worker_count, est.distributed_training.parameter_server_count) == (3, 0)
    given = TensorflowConfiguration(worker_count=2, parameter_server_count=1)
    assert TensorFlow(str(src), entry_script="train.py", distributed_training=given).distributed_training is given
    with pytest.raises(ConfigError, match="TensorFlow: distributed_training must be"):
        TensorFlow(str(src), entry_script="train.py", distributed_training=PyTorchConfiguration())
    with pytest.raises(ConfigError, match="supported: 2.20, 2.21"):
        TensorFlow(str(src), entry_script="train.py", framework_version="1.15")


def test_chainer_options(src):
    from runyard import Chainer
    est = Chainer(str(src), entry_script="train.py", process_count_per_node=2)
    assert est.environment.name == "runyard-chainer-7.8-cpu" and est.framework_version == "7.8"
    assert isinstance(est.distributed_training, MpiConfiguration) and est.distributed_training.total_processes == 2
    deps = est.environment.python.conda_dependencies
    assert "chainer==7.8.1" in deps.pip_packages and deps.pip_options == ["--no-build-isolation"]
    with pytest.raises(ConfigError, match="Chainer: distributed_training must be a MpiConfiguration, "
                                          "got PyTorchConfiguration"):
        Chainer(str(src), entry_script="train.py", distributed_training=PyTorchConfiguration(process_count=2))
    with pytest.raises(ConfigError, match="framework_version '5.1' is not supported for chainer; supported: 7.8"):
        Chainer(str(src), entry_script="train.py", framework_version="5.1")
