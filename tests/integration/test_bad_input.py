"""Bad input gets a clear error before any work starts, and nothing is recorded."""

from __future__ import annotations

import pytest

from runyard import Environment, Experiment, Run, ScriptRunConfig
from runyard.errors import ConfigError, RunNotFoundError, SnapshotError


def assert_nothing_recorded(workspace) -> None:
    assert workspace._store.list_runs() == []
    assert not workspace.snapshots_dir.exists() or not any(workspace.snapshots_dir.iterdir())
    assert not (workspace._artifacts.root / "runs").exists()


@pytest.fixture
def src(project):
    return project({"train.py": "print('hi')\n"})


def test_missing_source_folder(workspace, experiment, src):
    with pytest.raises(ConfigError, match="does not exist or is not a folder"):
        experiment.submit(ScriptRunConfig(str(src / "missing"), script="train.py"))
    assert_nothing_recorded(workspace)


def test_missing_script(workspace, experiment, src):
    with pytest.raises(ConfigError, match="script 'trian.py' does not exist"):
        experiment.submit(ScriptRunConfig(str(src), script="trian.py"))
    assert_nothing_recorded(workspace)


def test_script_and_command(workspace, experiment, src):
    with pytest.raises(ConfigError, match="not both"):
        experiment.submit(ScriptRunConfig(str(src), script="train.py", command="python train.py"))
    assert_nothing_recorded(workspace)


def test_unknown_compute_target_lists_the_valid_names(workspace, experiment, src):
    with pytest.raises(ConfigError) as info:
        experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target="gpu-cluster"))
    assert "'gpu-cluster'" in str(info.value)
    assert "valid names: local" in str(info.value)
    assert_nothing_recorded(workspace)


def test_invalid_environment(workspace, experiment, src):
    with pytest.raises(ConfigError, match="environment name"):
        ScriptRunConfig(str(src), script="train.py", environment=Environment("no spaces allowed"))
    env = Environment("gpu")
    env.python.conda_dependencies.add_conda_package("cudatoolkit=11.8")
    with pytest.raises(ConfigError, match="cudatoolkit"):
        experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env))
    assert_nothing_recorded(workspace)


def test_a_number_where_a_path_is_needed(workspace, experiment):
    with pytest.raises(ConfigError, match="field 'source_directory'.*got 5"):
        ScriptRunConfig(source_directory=5, script="train.py")
    assert_nothing_recorded(workspace)


def test_snapshot_over_the_limit_records_no_run(workspace, experiment, project, monkeypatch):
    src = project({"train.py": "", **{f"data/{i}.csv": "x" for i in range(5)}})
    monkeypatch.setenv("RUNYARD_SNAPSHOT_MAX_FILES", "3")
    with pytest.raises(SnapshotError, match=r"data/ \(5 files\)"):
        experiment.submit(ScriptRunConfig(str(src), script="train.py"))
    assert_nothing_recorded(workspace)


def test_not_a_config_and_bad_tags(workspace, experiment, src):
    with pytest.raises(ConfigError, match="pass a ScriptRunConfig"):
        experiment.submit("train.py")
    with pytest.raises(ConfigError, match="tags must be a dict"):
        experiment.submit(ScriptRunConfig(str(src), script="train.py"), tags=["a"])
    assert_nothing_recorded(workspace)


def test_bad_experiment_name(workspace):
    with pytest.raises(ConfigError, match="experiment name"):
        Experiment(workspace, "has space")
    with pytest.raises(ConfigError, match="experiment name"):
        Experiment(workspace, "")


def test_unknown_run_id(workspace, experiment):
    with pytest.raises(RunNotFoundError, match="no run 'tests_0_deadbeef'"):
        Run(experiment, "tests_0_deadbeef")
    with pytest.raises(RunNotFoundError):
        workspace.get_run("tests_0_deadbeef")
    with pytest.raises(RunNotFoundError):
        Run.get(workspace, "nope")
