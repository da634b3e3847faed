"""The local target materialises environments as uv virtualenvs, once per hash.

Only tiny packages are installed (six). The cache is the session's RUNYARD_CACHE_DIR.
"""

from __future__ import annotations

import pytest

from runyard import Environment, ScriptRunConfig
from runyard import status as st
from runyard.compute.local_env import env_folder

USES_SIX = """\
import sys
import six
from runyard import Run
run = Run.get_context()
run.log("six", six.__version__)
run.log("python", sys.executable)
"""


def build_log(run) -> str:
    path = run.workspace._artifacts.run_dir(run.id) / "logs" / "environment_build.log"
    return path.read_text()


def test_environment_is_built_once_then_reused(experiment, project):
    src = project({"train.py": USES_SIX, "requirements.txt": "six==1.16.0\n"})
    env = Environment.from_pip_requirements("six-env", src / "requirements.txt")
    folder = env_folder(env)

    first = experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env))
    assert first.wait_for_completion()["environmentHash"] == env.hash
    second = experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env))
    second.wait_for_completion()

    for run in (first, second):
        metrics = run.get_metrics()
        assert metrics["six"] == "1.16.0"  # runyard's client logs from inside the env
        assert metrics["python"].startswith(str(folder))
    # the first run may find it already built by an earlier test of this session
    assert build_log(first).count("Building environment") <= 1
    assert "Building environment" not in build_log(second)
    assert "cached at" in build_log(second)


def test_failed_build_fails_the_run_and_leaves_no_environment(experiment, project, cache_dir):
    src = project({"train.py": "print('never runs')\n",
                   "requirements.txt": "runyard-no-such-package-xyz==1.0\n"})
    env = Environment.from_pip_requirements("broken", src / "requirements.txt")
    run = experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "environment build failed" in details["error"]["message"]
    assert "runyard-no-such-package-xyz" in details["error"]["message"]
    assert "logs/environment_build.log" in run.get_file_names()
    assert "runyard-no-such-package-xyz" in build_log(run)
    assert "never runs" not in run.get_log()
    prefix = env_folder(env).name
    left = [p.name for p in (cache_dir / "envs").iterdir() if prefix in p.name]
    assert left and all(name.endswith(".lock") for name in left), left


def test_parallel_runs_build_a_new_environment_once(experiment, project):
    src = project({"train.py": USES_SIX})
    env = Environment("parallel")
    env.python.conda_dependencies.add_pip_package("six==1.15.0")
    assert not env_folder(env).exists()
    runs = [experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env)) for _ in range(3)]
    for run in runs:
        run.wait_for_completion()
    logs = [build_log(run) for run in runs]
    assert sum(log.count("Building environment") for log in logs) == 1
    assert all(run.get_metrics()["six"] == "1.15.0" for run in runs)


def test_user_managed_environment_uses_the_given_interpreter(experiment, project):
    import sys
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    src = project({"t.py": "import sys\nfrom runyard import Run\nRun.get_context().log('exe', sys.executable)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", environment=env))
    run.wait_for_completion()
    assert run.get_metrics()["exe"] == sys.executable
    assert "user-managed" in build_log(run)


def test_missing_user_managed_interpreter_is_refused_before_any_run(experiment, project):
    from runyard.errors import ConfigError
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/no/such/python"
    with pytest.raises(ConfigError, match="interpreter_path '/no/such/python' does not exist"):
        experiment.submit(ScriptRunConfig(str(project({"t.py": ""})), script="t.py", environment=env))
    assert list(experiment.get_runs()) == []


@pytest.mark.parametrize("kind", ["built", "user-managed"])
def test_environment_variables_reach_the_job(experiment, project, kind):
    src = project({"train.py": """\
        import os
        from runyard import Run
        run = Run.get_context()
        run.log("greeting", os.environ.get("GREETING", "unset"))
        run.log("workers", os.environ.get("WORKERS", "unset"))
        """, "requirements.txt": "six==1.16.0\n"})
    if kind == "built":
        env = Environment.from_pip_requirements("six-env", src / "requirements.txt")
    else:
        env = Environment("mine")
        env.python.user_managed_dependencies = True
    env.environment_variables = {"GREETING": "hello from the environment", "WORKERS": 3}
    run = experiment.submit(ScriptRunConfig(str(src), script="train.py", environment=env))
    run.wait_for_completion()
    assert run.get_metrics() == {"greeting": "hello from the environment", "workers": "3"}
