"""A run row is a claim, not a proof: rows planted in the run history (anyone holding the
workspace's token can write one) that name this machine and the pid of a process that is not
the run's own never get that process signalled - not by opening the workspace, not by waiting
on the run, not by canceling it (issue #12, "never kill on a row's word"). What a lost run
leaves of its own job is still stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from runyard import Experiment, ScriptRunConfig, Workspace
from runyard import status as st
from runyard.errors import RunyardError
from runyard.run import new_run_id
from server_service import start_server, stop_server

#: a process runyard did not start: it records every catchable signal it gets
VICTIM = """\
import signal, sys, time
def caught(signum, frame):
    with open(sys.argv[1], "a") as fh:
        fh.write(f"{signum}\\n")
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
    signal.signal(signum, caught)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def victim(tmp_path):
    """An unrelated live process (a session and group leader, so a killpg would reach it):
    ``(pid, start time, file of signals it caught)``; after the test it must still run."""
    caught = tmp_path / "caught.txt"
    (tmp_path / "victim.py").write_text(VICTIM)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "victim.py"), str(caught)], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc.pid, psutil.Process(proc.pid).create_time(), caught
    alive = proc.poll() is None
    proc.kill()
    proc.wait()
    proc.stdout.close()
    assert alive, f"the unrelated process was killed (exit {proc.returncode})"
    assert not caught.exists(), f"the unrelated process was signalled: {caught.read_text()}"


def plant(ws: Workspace, database: Path, *, status: str = st.RUNNING, age_s: float = 0, **process) -> str:
    """A script run on the local target, its row then written straight into the database as
    only an attacker would: ``process`` are the columns host, supervisor_pid, job_pid..."""
    run_id = new_run_id("planted")
    ws._store.create_run({"run_id": run_id, "experiment": "planted", "run_type": "script", "status": st.QUEUED,
                          "target": "local", "definition": "{}"})
    columns = {"status": status, "created_at": time.time() - age_s, **process}
    with sqlite3.connect(database, timeout=30) as db:
        db.execute(f"UPDATE runs SET {', '.join(f'{name} = ?' for name in columns)} WHERE run_id = ?",
                   [*columns.values(), run_id])
    db.close()
    return run_id


def naming(pid: int, started: float | None) -> dict:
    """Process columns naming ``pid`` on this machine as a run's supervisor and its job."""
    return {"host": socket.gethostname(), "supervisor_pid": pid, "supervisor_started": started,
            "job_pid": pid, "job_started": started}


def cancel_with_the_cli(ws: Workspace, run_id: str) -> None:
    done = subprocess.run([sys.executable, "-m", "runyard.cli", "--workspace", str(ws.path), "run", "cancel",
                           run_id, "--no-wait"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("times", ["none", "matching", "other"])
def test_a_planted_row_never_gets_an_unrelated_process_signalled(workspace, victim, times):
    """Start times: none recorded (once counted as alive), the victim's own, or another's."""
    pid, started, _ = victim
    recorded = {"none": None, "matching": started, "other": started - 3600}[times]
    database = workspace.path / "runyard.db"
    opened_later = plant(workspace, database, **naming(pid, recorded))
    waited_on = plant(workspace, database, **naming(pid, recorded))
    by_the_cli = plant(workspace, database, **naming(pid, recorded))

    reopened = Workspace.get(workspace.path)  # opening looks for lost runs
    run = reopened.get_run(waited_on)
    if times == "matching":
        # a live process started when the row says: not proven the run's, nor given up on
        with pytest.raises(RunyardError, match="still Running"):
            run.wait_for_completion(timeout=3)
    else:
        details = run.wait_for_completion(timeout=30, raise_on_error=False)
        assert details["status"] == st.FAILED and f"pid {pid}" in details["error"]["message"]
    run.cancel()
    canceled_here = plant(reopened, database, **naming(pid, recorded))  # not seen by any opening
    reopened.get_run(canceled_here).cancel()
    cancel_with_the_cli(reopened, by_the_cli)

    statuses = {run_id: reopened._store.get_run(run_id)["status"]
                for run_id in (opened_later, waited_on, canceled_here, by_the_cli)}
    if times == "matching":
        assert statuses == {opened_later: st.RUNNING, waited_on: st.CANCEL_REQUESTED,
                            canceled_here: st.CANCEL_REQUESTED, by_the_cli: st.CANCEL_REQUESTED}
    else:
        assert statuses == {opened_later: st.FAILED, waited_on: st.FAILED, canceled_here: st.CANCELED,
                            by_the_cli: st.FAILED}


def test_a_planted_row_naming_another_runs_processes_leaves_that_run_alone(workspace, experiment, project,
                                                                           wait_for):
    src = project({"long.py": "import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)\n"})
    real = experiment.submit(ScriptRunConfig(str(src), script="long.py"))
    wait_for(lambda: "pid" in real.get_log(), timeout=120, what="the job to start")
    row = workspace._store.get_run(real.id)
    database = workspace.path / "runyard.db"
    dead = subprocess.Popen(["true"])
    dead.wait()
    # its job, under a supervisor that is gone; and its live supervisor, with its start time
    lost = plant(workspace, database, host=socket.gethostname(), supervisor_pid=dead.pid,
                 job_pid=row["job_pid"], job_started=row["job_started"])
    posing = plant(workspace, database, host=socket.gethostname(), supervisor_pid=row["supervisor_pid"],
                   supervisor_started=row["supervisor_started"], job_pid=row["job_pid"],
                   job_started=row["job_started"])
    Workspace.get(workspace.path)
    assert workspace._store.get_run(lost)["status"] == st.FAILED
    workspace.get_run(posing).cancel()
    workspace.get_run(lost).cancel()
    time.sleep(1)
    assert workspace._store.get_run(posing)["status"] == st.CANCEL_REQUESTED
    assert real.get_status() == st.RUNNING
    assert psutil.pid_exists(row["job_pid"]) and psutil.pid_exists(row["supervisor_pid"])
    real.cancel()
    assert real.wait_for_completion(timeout=60, raise_on_error=False)["status"] == st.CANCELED


def test_a_run_left_queued_without_a_supervisor_fails_after_the_grace(workspace):
    database = workspace.path / "runyard.db"
    stale = plant(workspace, database, status=st.QUEUED, age_s=3600)
    young = plant(workspace, database, status=st.QUEUED)
    Workspace.get(workspace.path)
    details = workspace.get_run(stale).get_details()
    assert details["status"] == st.FAILED
    assert details["error"]["message"].startswith("its supervisor never started")
    assert workspace._store.get_run(young)["status"] == st.QUEUED


def test_a_lost_jobs_own_children_are_stopped_when_the_run_is_found_lost(workspace, experiment, project,
                                                                          wait_for, process_gone):
    """The job dies with its supervisor (the kernel sends it SIGKILL); what it started in its
    session is stopped when the run is found lost, here on opening the workspace."""
    src = project({"parent.py": """\
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print("child", child.pid, flush=True)
        time.sleep(60)
        """})
    run = experiment.submit(ScriptRunConfig(str(src), script="parent.py"))
    child = int(wait_for(lambda: re.search(r"child (\d+)", run.get_log()), timeout=120,
                         what="the job's child").group(1))
    row = wait_for(lambda: (r := workspace._store.get_run(run.id))["job_pid"] and r, what="the job's pid")
    os.kill(row["supervisor_pid"], signal.SIGKILL)
    wait_for(lambda: process_gone(row["job_pid"]), what="the job to die with its supervisor")
    assert not process_gone(child)
    Workspace.get(workspace.path)
    assert run.get_status() == st.FAILED
    wait_for(lambda: process_gone(child), what="the job's child to be stopped")


@pytest.fixture
def served(tmp_path):
    """A workspace server on SQLite: ``(its URL, its database file)``."""
    database = tmp_path / "served.db"
    proc, url = start_server(f"sqlite:///{database}", tmp_path / "artifacts", tmp_path / "server.log")
    yield url, database
    stop_server(proc)


def test_a_row_planted_in_a_served_workspace_never_gets_an_unrelated_process_signalled(served, victim):
    url, database = served
    pid, started, _ = victim
    ws = Workspace.get(url)
    Experiment(ws, "planted")
    for recorded in (None, started):
        waited_on = plant(ws, database, **naming(pid, recorded))
        canceled = plant(ws, database, **naming(pid, recorded))
        run = ws.get_run(waited_on)
        if recorded is None:
            assert run.wait_for_completion(timeout=30, raise_on_error=False)["status"] == st.FAILED
        else:
            with pytest.raises(RunyardError, match="still Running"):
                run.wait_for_completion(timeout=3)
        ws.get_run(canceled).cancel()
        assert ws._store.get_run(canceled)["status"] == (st.CANCELED if recorded is None else st.CANCEL_REQUESTED)


def test_a_run_canceled_before_any_supervisor_took_it_ends_canceled_after_the_grace(workspace):
    # a sweep's driver killed between recording a trial Queued and starting its supervisor: the
    # lost sweep's cleanup asks the trial to cancel, and nothing would ever honour that request
    database = workspace.path / "runyard.db"
    stale = plant(workspace, database, status=st.CANCEL_REQUESTED, age_s=3600)
    young = plant(workspace, database, status=st.CANCEL_REQUESTED)
    Workspace.get(workspace.path)
    details = workspace.get_run(stale).get_details()
    assert details["status"] == st.CANCELED
    assert details["error"]["message"] == "canceled before its supervisor started (none ever did)"
    assert workspace._store.get_run(young)["status"] == st.CANCEL_REQUESTED
