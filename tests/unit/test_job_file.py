"""The job YAML file (config.load_job_file) and YAML error locations (_yaml)."""

from __future__ import annotations

import shlex

import pytest

from runyard import _yaml, load_job_file
from runyard.errors import ConfigError

GOOD_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
experiment_name: yaml-jobs
display_name: from yaml
tags:
  team: vision
code: src
command: >-
  python train.py --alpha ${{inputs.alpha}} --data ${{ inputs.data }} --name ${{inputs.name}}
inputs:
  alpha:
    type: number
    default: 0.5
  name: my run
  data:
    type: uri_folder
    path: data
environment: requirements.txt
environment_variables:
  MODE: 1
limits:
  timeout: 600
compute: azureml:local
"""


def line(text: str, needle: str) -> int:
    """1-based number of the line of ``text`` that starts (after indentation) with ``needle``."""
    return next(i for i, row in enumerate(text.splitlines(), 1) if row.lstrip().startswith(needle))


def assert_points_at(message: str, line_number: int, field: str) -> None:
    assert f"line {line_number}" in message, message
    assert f"field '{field}'" in message, message


def job_project(project, job_text: str, **extra_files: str):
    files = {"job.yml": job_text, "src/train.py": "print('hi')\n", "data/rows.csv": "a\n1\n",
             "requirements.txt": "six==1.16.0\n", **extra_files}
    return project(files)


def test_good_job_file(project):
    folder = job_project(project, GOOD_JOB)
    job = load_job_file(folder / "job.yml")
    assert job.experiment_name == "yaml-jobs"
    assert job.display_name == "from yaml"
    assert job.tags == {"team": "vision"}
    config = job.config
    assert config.source_directory == str(folder / "src")
    assert shlex.split(config.command) == [
        "python", "train.py", "--alpha", "0.5", "--data", str(folder / "data"), "--name", "my run"]
    assert config.resolved_target() == "local"
    assert config.max_run_duration_seconds == 600
    assert config.run_config.environment_variables == {"MODE": "1"}
    env = config.resolved_environment()
    assert env.python.conda_dependencies.pip_packages == ["six==1.16.0"]


def test_inline_environment_with_conda_file(project):
    job = GOOD_JOB.replace("environment: requirements.txt\n", "environment:\n  name: inline\n  conda_file: conda.yml\n")
    folder = job_project(project, job, **{
        "conda.yml": "dependencies:\n  - python=3.11\n  - numpy=1.26\n  - pip:\n    - six==1.16.0\n"})
    env = load_job_file(folder / "job.yml").config.resolved_environment()
    assert env.name == "inline"
    assert env.python.conda_dependencies.python_version == "3.11"
    assert env.python.conda_dependencies.requirements() == ["numpy==1.26.*", "six==1.16.0"]


def error_for(project, job_text: str, **extra_files: str) -> tuple[str, str]:
    folder = job_project(project, job_text, **extra_files)
    with pytest.raises(ConfigError) as info:
        load_job_file(folder / "job.yml")
    return str(info.value), str(folder / "job.yml")


def test_unknown_top_level_key(project):
    text = GOOD_JOB.replace("compute: azureml:local\n", "compute: local\nservices: 1\n")
    message, path = error_for(project, text)
    assert message.startswith(path)
    assert_points_at(message, line(text, 'services:'), "services")
    assert "Extra inputs are not permitted" in message


def test_wrong_type_for_limits_timeout(project):
    message, path = error_for(project, GOOD_JOB.replace("timeout: 600", "timeout: ten minutes"))
    assert message.startswith(path)
    assert_points_at(message, line(GOOD_JOB, 'timeout:'), "limits.timeout")
    assert "'ten minutes'" in message


def test_undefined_input_in_command(project):
    message, path = error_for(project, GOOD_JOB.replace("--name ${{inputs.name}}", "--name ${{inputs.y}}"))
    assert message.startswith(path)
    assert_points_at(message, line(GOOD_JOB, 'command:'), "command")
    assert "inputs.y" in message and "alpha, name, data" in message


def test_unknown_job_type(project):
    message, path = error_for(project, GOOD_JOB.replace("type: command", "type: pipeline"))
    assert message.startswith(path)
    assert_points_at(message, line(GOOD_JOB, 'type: command'), "type")
    assert "'pipeline'" in message and "command" in message


def test_missing_command(project):
    text = "\n".join(line for line in GOOD_JOB.splitlines() if not line.startswith(("command:", "  python")))
    message, path = error_for(project, text)
    assert message.startswith(path)
    assert "field 'command': Field required" in message


def test_missing_code_folder_and_input_path(project):
    message, _ = error_for(project, GOOD_JOB.replace("code: src", "code: nowhere"))
    assert_points_at(message, line(GOOD_JOB, 'code:'), "code")
    assert "nowhere" in message
    message, _ = error_for(project, GOOD_JOB.replace("path: data", "path: no-data"))
    assert_points_at(message, line(GOOD_JOB, 'path: data'), "inputs.data.path")
    assert "no-data" in message


def test_environment_file_errors_point_at_the_job_file(project):
    message, path = error_for(project, GOOD_JOB.replace("environment: requirements.txt", "environment: conda.yml"),
                              **{"conda.yml": "dependencies:\n  - cudatoolkit=11.8\n"})
    assert message.startswith(path)
    assert_points_at(message, line(GOOD_JOB, 'environment:'), "environment")
    assert "cudatoolkit=11.8" in message


def test_registered_environment_needs_a_workspace(project):
    message, _ = error_for(project, GOOD_JOB.replace("environment: requirements.txt", "environment: azureml:train:3"))
    assert "open a workspace first" in message


def test_invalid_yaml_gives_line_and_column(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("command: echo\ninputs:\n  a: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_job_file(path)
    assert str(info.value).startswith(f"{path}, line 4, column 1: invalid YAML")


def test_not_a_mapping_and_missing_file(tmp_path):
    path = tmp_path / "list.yml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_job_file(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_job_file(tmp_path / "missing.yml")


def test_line_of_nested_keys_and_list_items(tmp_path):
    path = tmp_path / "doc.yml"
    path.write_text("a: 1\nb:\n  c:\n    - x\n    - y: 2\n      z: 3\n")
    doc = _yaml.load(path)
    assert doc.line_of(["a"]) == 1
    assert doc.line_of(["b", "c"]) == 3
    assert doc.line_of(["b", "c", 0]) == 4
    assert doc.line_of(["b", "c", 1, "z"]) == 6
    assert doc.line_of(["b", "missing"]) == 2
    error = doc.error(["b", "c", 1], "bad item")
    assert str(error) == f"{path}: line 5, field 'b.c.1': bad item"


def test_inline_environment_field_errors_point_into_the_job_file(project):
    text = GOOD_JOB.replace("environment: requirements.txt\n",
                            "environment:\n  name: inline\n  docker:\n    base_imag: python:3.11\n")
    message, path = error_for(project, text)
    assert message.startswith(path)
    assert_points_at(message, line(text, "base_imag:"), "environment.docker.base_imag")


DISTRIBUTED = GOOD_JOB + """\
distribution:
  type: pytorch
  process_count_per_instance: 2
resources:
  instance_count: 2
  num_cpus: 1
  max_retries: 1
"""


def test_distribution_and_resources_as_in_cli_v2(project):
    config = load_job_file(job_project(project, DISTRIBUTED) / "job.yml").config
    dist = config.distributed_job_config
    assert (dist.framework, dist.process_count, dist.node_count) == ("pytorch", 4, 2)
    assert (config.run_config.num_cpus, config.run_config.max_retries) == (1, 1)
    mpi = DISTRIBUTED.replace("type: pytorch", "type: mpi")
    dist = load_job_file(job_project(project, mpi) / "job.yml").config.distributed_job_config
    assert (dist.process_count_per_node, dist.node_count) == (2, 2)


def test_bad_distribution_points_at_the_field(project):
    text = DISTRIBUTED.replace("type: pytorch", "type: horovod")
    message, _path = error_for(project, text)
    assert_points_at(message, line(text, "type: horovod"), "distribution.type")
    text = GOOD_JOB + "resources:\n  instance_count: 3\n"
    message, _path = error_for(project, text)
    assert "instance_count" in message and "distribution" in message
