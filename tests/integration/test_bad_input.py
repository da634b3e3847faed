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


def test_malformed_requirement_records_nothing(workspace, experiment, project):
    src = project({"train.py": "print('hi')\n", "req.txt": "six==1.16.0\nthis is not a requirement!!\n"})
    with pytest.raises(ConfigError, match=r"req.txt: line 2: 'this is not a requirement!!' is not a pip requirement"):
        experiment.submit(ScriptRunConfig(str(src), script="train.py",
                                          environment=Environment.from_file(src / "req.txt")))
    env = Environment("bad-pins")
    env.python.conda_dependencies.pip_packages = ["six>=>1"]
    with pytest.raises(ConfigError, match=r"pip_packages\[0\] 'six>=>1' is not a pip requirement"):
        experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env))
    assert_nothing_recorded(workspace)


def test_malformed_requirement_from_the_cli_records_nothing(workspace, project):
    import subprocess
    import sys
    src = project({"train.py": "print('hi')\n", "req.txt": "this is not a requirement!!\n",
                   "env.yml": "name: x\npython:\n  conda_dependencies:\n    pip_packages: ['six>=>1']\n"})
    for env_file, where in (("req.txt", "req.txt: line 1"), ("env.yml", "line 4")):
        result = subprocess.run([sys.executable, "-m", "runyard.cli", "-w", str(workspace.path), "run", "submit",
                                 "-s", str(src), "--env-file", str(src / env_file), "train.py"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stdout + result.stderr
        assert where in result.stderr and "is not a pip requirement" in result.stderr
    assert_nothing_recorded(workspace)
