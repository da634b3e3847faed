"""config: ScriptRunConfig / RunConfiguration validation (pydantic, errors name the field)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runyard import Environment, RunConfiguration, ScriptRunConfig
from runyard.errors import ConfigError


def test_positional_arguments_follow_azure_order():
    config = ScriptRunConfig("src", "train.py", ["--alpha", 0.5, 3, True])
    assert (config.source_directory, config.script) == ("src", "train.py")
    assert config.resolved_arguments() == ["--alpha", "0.5", "3", "True"]


def test_path_source_directory_is_accepted():
    assert ScriptRunConfig(source_directory=Path("a/b"), script="t.py").source_directory == "a/b"


@pytest.mark.parametrize("kwargs, field", [
    ({"source_directory": 5}, "source_directory"),
    ({"source_directory": ["src"]}, "source_directory"),
    ({"arguments": "--alpha 1"}, "arguments"),
    ({"arguments": [{"a": 1}]}, "arguments.0"),
    ({"max_run_duration_seconds": 0}, "max_run_duration_seconds"),
    ({"environment": "not-an-environment"}, "environment"),
    ({"scirpt": "train.py"}, "scirpt"),
])
def test_invalid_fields_are_named(kwargs, field):
    with pytest.raises(ConfigError) as info:
        ScriptRunConfig(**kwargs)
    assert f"field '{field}" in str(info.value)
    assert "ScriptRunConfig" in str(info.value)


def test_too_many_or_repeated_positional_arguments():
    with pytest.raises(ConfigError, match="given twice"):
        ScriptRunConfig("src", source_directory="other")
    with pytest.raises(ConfigError, match="at most"):
        RunConfiguration(*range(20))


def test_assignment_is_validated():
    config = ScriptRunConfig("src", script="train.py")
    with pytest.raises(ConfigError, match="max_run_duration_seconds"):
        config.max_run_duration_seconds = -1
    config.max_run_duration_seconds = 5
    assert config.max_run_duration_seconds == 5


def test_run_config_supplies_what_the_script_config_leaves_out():
    env = Environment("e")
    run_config = RunConfiguration(script="train.py", arguments=["--n", 2], target="local",
                                  environment=env, environment_variables={"A": "1"})
    config = ScriptRunConfig("src", run_config=run_config)
    assert config.resolved_arguments() == ["--n", "2"]
    assert config.resolved_environment() is env
    assert config.resolved_target() == "local"
    own = Environment("own")
    config = ScriptRunConfig("src", run_config=run_config, arguments=["x"], environment=own, compute_target="t")
    assert (config.resolved_arguments(), config.resolved_environment(), config.resolved_target()) == (["x"], own, "t")


@pytest.mark.parametrize("kwargs, message", [
    ({"source_directory": "missing", "script": "train.py"}, "missing' does not exist or is not a folder"),
    ({"script": "nope.py"}, "script 'nope.py' does not exist"),
    ({"script": "train.py", "command": "python train.py"}, "give script or command, not both"),
    ({}, "give script= (a file in source_directory) or command="),
    ({"script": "../train.py"}, "must be a path relative to source_directory"),
    ({"script": "/etc/passwd"}, "must be a path relative to source_directory"),
])
def test_validate_source(project, kwargs, message):
    src = project({"train.py": "print(1)\n"})
    kwargs = {"source_directory": str(src), **kwargs}
    if kwargs["source_directory"] == "missing":
        kwargs["source_directory"] = str(src / "missing")
    with pytest.raises(ConfigError) as info:
        ScriptRunConfig(**kwargs).validate_source()
    assert message in str(info.value)


def test_validate_source_accepts_a_script_or_a_command(project):
    src = project({"train.py": "", "pkg/step.py": ""})
    assert ScriptRunConfig(str(src), script="pkg/step.py").validate_source() == src
    assert ScriptRunConfig(str(src), command="echo hi").validate_source() == src


def test_a_value_that_fits_no_member_of_a_union_is_one_problem():
    with pytest.raises(ConfigError) as info:
        ScriptRunConfig(".", script="train.py", arguments=[{"alpha": 1}])
    assert str(info.value) == ("ScriptRunConfig: field 'arguments.0': expected one of: "
                               "str, int, float, bool, DatasetConsumptionConfig")
