"""What the Ray target asks Ray for: settings, job ids and runtime environments."""

from __future__ import annotations

import pytest

from runyard import ConfigError, Environment, RayCluster
from runyard.compute.ray import RaySettings, runtime_env_for, submission_id
from runyard.environment import CondaDependencies, CranPackage, RSection


def test_settings_are_checked_and_stored_without_defaults():
    assert RayCluster(address="http://head:8265/").config == {"address": "http://head:8265"}
    for bad in ({"address": "head:8265"}, {"tracking_uri": "/srv/ws"}, {"stop_grace_s": -1}, {"nodes": 3}):
        with pytest.raises(ConfigError, match="RayCluster"):
            RayCluster(**bad)


def test_the_address_falls_back_to_ray_address(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "http://elsewhere:8265")
    assert RayCluster().address == "http://elsewhere:8265"
    monkeypatch.delenv("RAY_ADDRESS")
    assert RayCluster().address == "http://127.0.0.1:8265"


def test_each_attempt_has_its_own_job_id():
    assert submission_id("exp_1_ab", 1) == "runyard-exp_1_ab"
    assert submission_id("exp_1_ab", 3) == "runyard-exp_1_ab-retry2"


def test_pip_and_conda_packages_become_the_pip_runtime_env():
    env = Environment("e")
    env.python.conda_dependencies = CondaDependencies.create(conda_packages=["numpy=1.26"],
                                                             pip_packages=["requests>=2"],
                                                             pip_indexurl="https://pypi.example/simple")
    runtime_env = runtime_env_for(env.model_dump(mode="json"), RaySettings())
    assert runtime_env == {"pip": {"packages": ["--index-url=https://pypi.example/simple", "numpy==1.26.*",
                                                "requests>=2"], "pip_check": False}}
    assert runtime_env_for({}, RaySettings()) == {}


def test_an_image_only_when_asked_and_r_packages_are_refused():
    env = Environment("e")
    env.docker.base_image = "python:3.11-slim"
    spec = env.model_dump(mode="json")
    assert "image_uri" not in runtime_env_for(spec, RaySettings())
    assert runtime_env_for(spec, RaySettings(use_image=True))["image_uri"] == "python:3.11-slim"
    env.r = RSection(cran_packages=[CranPackage(name="glmnet")])
    with pytest.raises(ConfigError, match="R packages are not installed on Ray nodes"):
        runtime_env_for(env.model_dump(mode="json"), RaySettings())
