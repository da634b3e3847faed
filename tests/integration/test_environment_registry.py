"""Environments registered in a workspace: versions by spec, lookups."""

from __future__ import annotations

import pytest

from runyard import CondaDependencies, Environment
from runyard.errors import ConfigError, NotFoundError


@pytest.fixture
def workspace(any_store_workspace):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_store_workspace


def six_env(version: str, name: str = "train") -> Environment:
    env = Environment(name)
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=[f"six=={version}"])
    return env


def test_register_same_spec_keeps_the_version(workspace):
    assert six_env("1.16.0").register(workspace).version == "1"
    assert six_env("1.16.0").register(workspace).version == "1"
    assert six_env("1.15.0").register(workspace).version == "2"
    assert six_env("1.15.0").register(workspace).version == "2"


def test_changed_variables_are_a_new_version_with_the_same_build(workspace):
    first = six_env("1.16.0").register(workspace)
    again = six_env("1.16.0")
    again.environment_variables = {"ONLY": "a variable"}  # not part of what gets built...
    assert again.register(workspace).version == "2"       # ...but kept by the version, never dropped
    assert Environment.get(workspace, "train").environment_variables == {"ONLY": "a variable"}
    assert Environment.get(workspace, "train", version=1).environment_variables == {}
    assert Environment.get(workspace, "train").hash == first.hash   # one environment to build
    assert again.register(workspace).version == "2"


def test_get_latest_and_by_version(workspace):
    first = six_env("1.16.0").register(workspace)
    second = six_env("1.15.0").register(workspace)
    latest = Environment.get(workspace, "train")
    assert (latest.version, latest.hash) == ("2", second.hash)
    assert Environment.get(workspace, "train", version=1).hash == first.hash
    assert Environment.get(workspace, "train", version="2").python.conda_dependencies.pip_packages == ["six==1.15.0"]
    assert workspace.environments["train"].version == "2"


def test_unknown_environments(workspace):
    six_env("1.16.0").register(workspace)
    with pytest.raises(NotFoundError, match="registered: train"):
        Environment.get(workspace, "nope")
    with pytest.raises(NotFoundError, match="version 9"):
        Environment.get(workspace, "train", version=9)
    with pytest.raises(ConfigError, match="whole number"):
        Environment.get(workspace, "train", version="latest-ish")


def test_register_refuses_what_cannot_be_built(workspace):
    env = Environment("gpu")
    env.python.conda_dependencies.add_conda_package("cudatoolkit=11.8")
    with pytest.raises(ConfigError, match="cudatoolkit"):
        env.register(workspace)
    assert workspace.environments == {}
