"""Runs that die: an exception, SIGKILL of the job, SIGKILL of its supervisor, a time limit.

The exit code, error tail and time limit are checked on every compute target; killing the
job or its supervisor by pid is a local matter."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from runyard import ScriptRunConfig, Workspace
from runyard import status as st
from runyard.errors import RunFailedError


def test_script_that_raises(experiment, project, compute_target):
    src = project({"boom.py": """\
        print("about to fail", flush=True)
        def train():
            raise RuntimeError("learning rate too high")
        train()
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="boom.py", compute_target=compute_target))
    with pytest.raises(RunFailedError, match="learning rate too high"):
        run.wait_for_completion()
    details = run.get_details()
    assert details["status"] == st.FAILED
    assert details["exitCode"] == 1
    # The exception leads the message; the exit code and the log's tail follow.
    assert details["error"]["message"].startswith("RuntimeError: learning rate too high (the process exited "
                                                  "with code 1). Last lines of logs/driver.log:")
    assert "logs/driver.log" in run.get_file_names()
    log = run.get_log()
    assert "about to fail" in log and "Traceback" in log
    assert [e["status"] for e in details["statusHistory"]][-1] == st.FAILED


@pytest.mark.parametrize("code", [7, 200])  # 200: above 128, yet no signal killed it
def test_nonzero_exit_code_is_kept(experiment, project, compute_target, code):
    src = project({"exit.py": f"raise SystemExit({code})\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="exit.py", compute_target=compute_target))
    details = run.wait_for_completion(raise_on_error=False)
    assert (details["status"], details["exitCode"]) == (st.FAILED, code)
    assert f"exited with code {code}" in details["error"]["message"]


def test_job_killed_with_sigkill(experiment, project, wait_for):
    src = project({"victim.py": """\
        import os, time
        print("pid", os.getpid(), flush=True)
        time.sleep(60)
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="victim.py"))
    match = wait_for(lambda: re.search(r"pid (\d+)", run.get_log()), what="the job's pid")
    os.kill(int(match.group(1)), signal.SIGKILL)
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "SIGKILL" in details["error"]["message"]
    assert details["exitCode"] == -signal.SIGKILL
    assert "logs/driver.log" in run.get_file_names()
    assert f"pid {match.group(1)}" in run.get_log()


def test_cancel_kills_a_job_that_ignores_sigterm_after_the_grace(experiment, project, wait_for, process_gone):
    src = project({"stubborn.py": """\
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("pid", os.getpid(), flush=True)
        time.sleep(60)
        """})
    assert os.environ["RUNYARD_CANCEL_GRACE_SECONDS"] == "2"
    run = experiment.submit(ScriptRunConfig(str(src), script="stubborn.py"))
    pid = int(wait_for(lambda: re.search(r"pid (\d+)", run.get_log()), what="the job's pid").group(1))
    asked = time.monotonic()
    run.cancel()
    time.sleep(1)
    assert not process_gone(pid)  # SIGTERM was ignored; the grace is not over yet
    details = run.wait_for_completion(raise_on_error=False, timeout=30)
    assert time.monotonic() - asked >= 2
    assert details["status"] == st.CANCELED
    assert process_gone(pid)
    assert "SIGTERM, SIGKILL after 2 s" in run.get_log()


def test_supervisor_killed_with_sigkill(workspace, experiment, project, wait_for, process_gone, compute_target):
    """The run ends Failed when the workspace is next opened, and its job is stopped: the local
    process dies with its supervisor (the kernel sends it SIGKILL), the container is removed
    when the run is found lost (the docker_target fixture checks none is left)."""
    src = project({"long.py": "import time\nprint('working', flush=True)\ntime.sleep(60)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="long.py", compute_target=compute_target))
    wait_for(lambda: "working" in run.get_log(), timeout=300, what="the job to start")
    row = workspace._store.get_run(run.id)
    supervisor_pid, job_pid = row["supervisor_pid"], row["job_pid"]
    assert supervisor_pid and (job_pid or compute_target != "local")
    os.kill(supervisor_pid, signal.SIGKILL)
    wait_for(lambda: process_gone(supervisor_pid), what="the supervisor to die")
    assert run.get_status() == st.RUNNING  # nobody has noticed yet
    if job_pid:  # no need to wait for anyone to notice
        wait_for(lambda: process_gone(job_pid), what="the orphaned job to die with its supervisor")

    Workspace.get(workspace.path)  # opening the workspace notices the lost run
    details = run.get_details()
    assert details["status"] == st.FAILED
    assert "supervisor" in details["error"]["message"]
    assert str(supervisor_pid) in details["error"]["message"]
    if job_pid:
        assert process_gone(job_pid)
    assert "working" in run.get_log()


def test_max_run_duration(experiment, project, compute_target):
    src = project({"sleep.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="sleep.py", max_run_duration_seconds=2,
                                            compute_target=compute_target))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == st.FAILED
    assert "max_run_duration_seconds=2" in details["error"]["message"]
    assert "sleeping" in run.get_log()


def test_a_failed_import_is_the_runs_error(experiment, project, compute_target):
    src = project({"train.py": "print('starting')\nimport no_such_framework_xyz\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="train.py", compute_target=compute_target))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["error"]["message"].startswith("ModuleNotFoundError: No module named 'no_such_framework_xyz'")


def test_an_r_error_is_the_runs_error(experiment, project, compute_target):
    from runyard import Environment
    src = project({"train.R": "cat('starting\\n')\nstop('the data has no rows')\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="train.R", compute_target=compute_target,
                                            environment=Environment("r-plain", r={"cran_packages": []})))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["error"]["message"].startswith("Error: the data has no rows"), details["error"]["message"]
