"""Local runs whose supervisor the launcher forked (``runyard.compute._launcher``): they run,
are canceled and outlive their submitter as a supervisor started as a new interpreter does,
with the submitter's variables; with the launcher off, runs start an interpreter again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import uuid

import psutil

from runyard import Run, ScriptRunConfig
from runyard import status as st

#: the job says who started its supervisor, and what the submitter gave it
REPORT = """\
import os
supervisor = os.getppid()
with open(f"/proc/{supervisor}/stat") as fh:
    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
with open(f"/proc/{parent}/cmdline") as fh:
    print("supervisor", supervisor, "started by", parent, fh.read().replace("\\0", " "), flush=True)
print("mark", os.environ.get("RUNYARD_TEST_MARK"), flush=True)
"""


def _starter(log: str) -> tuple[int, int, str]:
    """(supervisor pid, its parent's pid, its parent's command line) from the job's log."""
    found = re.search(r"supervisor (\d+) started by (\d+) (.*)", log)
    assert found, log
    return int(found.group(1)), int(found.group(2)), found.group(3)


def test_a_run_is_supervised_by_a_fork_of_the_launcher(experiment, project):
    src = project({"report.py": REPORT})
    runs = [experiment.submit(ScriptRunConfig(str(src), script="report.py")) for _ in range(2)]
    starters = []
    for run in runs:
        assert run.wait_for_completion()["status"] == st.COMPLETED
        supervisor, parent, command = _starter(run.get_log())
        assert run.workspace._store.get_run(run.id)["supervisor_pid"] == supervisor
        assert "-m runyard.compute._launcher serve" in command and parent != os.getpid()
        # nothing in the supervisor's own log: no warning of running an imported module as __main__
        assert (run.workspace._artifacts.run_dir(run.id) / "logs" / "supervisor.log").read_text() == ""
        starters.append(parent)
    assert starters[0] == starters[1]  # one launcher for both


def test_a_run_goes_on_when_its_submitter_is_killed(workspace, project, wait_for):
    src = project({"slow.py": """\
        import os, time
        time.sleep(3)
        os.makedirs("outputs", exist_ok=True)
        open("outputs/done.txt", "w").write("done")
        """})
    submitter = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from runyard import Experiment, ScriptRunConfig, Workspace
        run = Experiment(Workspace({str(workspace.path)!r}), "orphans").submit(
            ScriptRunConfig({str(src)!r}, script="slow.py"))
        print(run.id, flush=True)
        time.sleep(120)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        run_id = submitter.stdout.readline().strip()
        run = Run.get(workspace, run_id)
        wait_for(lambda: run.get_status() == st.RUNNING, what="the run to be Running")
    finally:
        submitter.send_signal(signal.SIGKILL)
        submitter.wait()
        submitter.stdout.close()
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED
    assert "outputs/done.txt" in run.get_file_names()
    supervisor = workspace._store.get_run(run_id)["supervisor_pid"]
    assert supervisor != submitter.pid


def test_cancel_and_the_submitters_variables_reach_a_launched_run(experiment, project, monkeypatch, wait_for):
    first = experiment.submit(ScriptRunConfig(str(project({"report.py": REPORT})), script="report.py"))
    first.wait_for_completion()  # the launcher runs, started with the session's variables
    mark = f"m-{uuid.uuid4().hex}"
    monkeypatch.setenv("RUNYARD_TEST_MARK", mark)
    monkeypatch.setenv("RUNYARD_CANCEL_GRACE_SECONDS", "1")  # the session's is 2
    src = project({"stubborn.py": REPORT + textwrap.dedent("""\
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        time.sleep(60)
        """)})
    run = experiment.submit(ScriptRunConfig(str(src), script="stubborn.py"))
    wait_for(lambda: "ignoring SIGTERM" in run.get_log(), what="the job to ignore SIGTERM")
    assert _starter(run.get_log())[1] == _starter(first.get_log())[1]  # the same launcher
    run.cancel()
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.CANCELED
    log = run.get_log()
    assert f"mark {mark}" in log
    assert "SIGTERM, SIGKILL after 1 s" in log


def test_a_killed_launcher_loses_no_run(experiment, project, wait_for, process_gone):
    src = project({"report.py": REPORT + "import time\ntime.sleep(3)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="report.py"))
    wait_for(lambda: "started by" in run.get_log(), what="the job's report")
    launcher = _starter(run.get_log())[1]
    psutil.Process(launcher).kill()
    wait_for(lambda: process_gone(launcher), what="the launcher to die")
    assert run.wait_for_completion()["status"] == st.COMPLETED
    after = experiment.submit(ScriptRunConfig(str(src), script="report.py"))
    assert after.wait_for_completion()["status"] == st.COMPLETED
    _, parent, command = _starter(after.get_log())
    assert parent != launcher and "_launcher serve" in command  # a new one, at the socket the dead one left


def test_with_the_launcher_off_a_run_starts_an_interpreter(experiment, project, monkeypatch):
    monkeypatch.setenv("RUNYARD_LAUNCHER", "0")
    run = experiment.submit(ScriptRunConfig(str(project({"report.py": REPORT})), script="report.py"))
    assert run.wait_for_completion()["status"] == st.COMPLETED
    assert _starter(run.get_log())[1] == os.getpid()  # started by this process, as a new interpreter
