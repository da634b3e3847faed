"""Estimators by framework name (what R's estimator() makes): the name and the options checked."""

from __future__ import annotations

import pytest

from runyard import ConfigError
from runyard.estimators import FRAMEWORKS, REstimator, SKLearn, create_estimator, estimator_class


@pytest.fixture
def src(tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")
    (tmp_path / "train.R").write_text("cat(1)\n")
    return tmp_path


def test_each_framework_name_is_its_estimator():
    assert estimator_class("SKLearn") is SKLearn and estimator_class("R") is REstimator
    assert set(FRAMEWORKS) == {"R", "SKLearn", "PyTorch", "TensorFlow", "Chainer", "RLlib", "Estimator"}


@pytest.mark.parametrize("framework", ["Caffe", "sklearn", 5, None])
def test_an_unknown_framework_lists_the_known_ones(framework):
    with pytest.raises(ConfigError, match=r"framework .*: use one of R, SKLearn, PyTorch, TensorFlow, Chainer, "
                                          r"RLlib, Estimator"):
        estimator_class(framework)


def test_create_estimator_passes_the_options_on(src):
    est = create_estimator("SKLearn", str(src), entry_script="train.py", script_params={"--alpha": "0.5"})
    assert isinstance(est, SKLearn) and est.arguments == ["--alpha", "0.5"]
    assert isinstance(create_estimator("R", str(src), entry_script="train.R"), REstimator)


@pytest.mark.parametrize("framework, options, named", [
    ("R", {"pip_packages": ["six"]}, "pip_packages"),
    ("R", {"framework_version": "1.0", "use_docker": False}, "framework_version, use_docker"),
    ("SKLearn", {"cran_packages": ["glmnet"]}, "cran_packages"),
])
def test_an_option_the_framework_does_not_take_is_named(src, framework, options, named):
    script = "train.R" if framework == "R" else "train.py"
    with pytest.raises(ConfigError, match=f"framework '{framework}' \\(\\w+\\) does not take {named}$"):
        create_estimator(framework, str(src), entry_script=script, **options)


def test_the_estimator_still_checks_its_own_options(src):
    with pytest.raises(ConfigError, match="SKLearn: node_count - sklearn trains in one process"):
        create_estimator("SKLearn", str(src), entry_script="train.py", node_count=2)


def test_the_r_estimator_takes_use_gpu_and_refuses_more_than_one_process(src):
    est = create_estimator("R", str(src), entry_script="train.R", use_gpu=True)
    assert est.use_gpu and est.run_config().run_config.num_gpus == 1
    with pytest.raises(ConfigError, match="REstimator: node_count - this framework trains in one process"):
        create_estimator("R", str(src), entry_script="train.R", node_count=2)
