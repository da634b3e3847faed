"""The proof that a pid is a run's own process: markers written when runyard starts one,
checked against the live process's start time; and what a lost job leaves, stopped only
where it is provably the run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from runyard.compute import _processes
from runyard.compute._processes import JOB, SUPERVISOR


@pytest.fixture(autouse=True)
def own_markers(tmp_path, monkeypatch):
    """Each test with a marker folder of its own."""
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def start():
    """``start(argv, **popen)``: a process of the test, ended (and reaped) after it."""
    started: list[subprocess.Popen] = []

    def make(argv: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(argv, **kwargs)
        started.append(proc)
        return proc

    yield make
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_marker_names_the_run_role_and_start_time_and_goes_when_forgotten(start):
    sleeper = start(["sleep", "60"])
    started = _processes.record(sleeper.pid, "exp_1_aaaa", SUPERVISOR)
    assert started == psutil.Process(sleeper.pid).create_time()
    marker = _processes.folder() / str(sleeper.pid)
    assert json.loads(marker.read_text()) == {"pid": sleeper.pid, "run_id": "exp_1_aaaa", "role": SUPERVISOR,
                                              "started": started, "ready": True}
    assert oct(_processes.folder().stat().st_mode & 0o777) == "0o700"
    assert _processes.is_runs_process(sleeper.pid, started, "exp_1_aaaa")
    assert _processes.is_runs_process(sleeper.pid, None, "exp_1_aaaa", SUPERVISOR)
    assert not _processes.is_runs_process(sleeper.pid, None, "exp_1_aaaa", JOB)
    assert [m.pid for m in _processes.runs_processes("exp_1_aaaa", SUPERVISOR)] == [sleeper.pid]
    _processes.record(sleeper.pid, "exp_1_aaaa", SUPERVISOR, ready=False)  # late: it marked itself ready
    assert [m.ready for m in _processes.runs_processes("exp_1_aaaa", SUPERVISOR)] == [True]
    marker.unlink()
    _processes.record(sleeper.pid, "exp_1_aaaa", SUPERVISOR, ready=False)  # not yet handling SIGTERM
    assert [m.ready for m in _processes.runs_processes("exp_1_aaaa", SUPERVISOR)] == [False]
    _processes.record(sleeper.pid, "exp_1_aaaa", SUPERVISOR)
    assert [m.ready for m in _processes.runs_processes("exp_1_aaaa", SUPERVISOR)] == [True]
    _processes.forget("exp_1_aaaa")
    assert not marker.exists()
    assert not _processes.is_runs_process(sleeper.pid, started, "exp_1_aaaa")


def test_a_process_without_a_marker_is_no_runs(start):
    sleeper = start(["sleep", "60"])
    started = psutil.Process(sleeper.pid).create_time()
    assert not _processes.is_runs_process(sleeper.pid, started, "exp_1_aaaa")
    assert not _processes.is_runs_process(sleeper.pid, None, "exp_1_aaaa")
    assert _processes.runs_processes("exp_1_aaaa", SUPERVISOR) == []


def test_another_runs_marker_proves_nothing_for_this_run(start):
    sleeper = start(["sleep", "60"])
    started = _processes.record(sleeper.pid, "exp_1_other", JOB)
    assert not _processes.is_runs_process(sleeper.pid, started, "exp_1_aaaa")
    assert _processes.runs_processes("exp_1_aaaa", JOB) == []
    assert _processes.kill_job("exp_1_aaaa") == []
    assert not gone(sleeper.pid)


def test_a_reused_pid_starts_at_another_time(start):
    """A marker or a row from an earlier process of the same pid: the start times differ."""
    sleeper = start(["sleep", "60"])
    started = _processes.record(sleeper.pid, "exp_1_aaaa", JOB)
    assert not _processes.is_runs_process(sleeper.pid, started - 30, "exp_1_aaaa")  # the row's time
    marker = _processes.folder() / str(sleeper.pid)
    marker.write_text(json.dumps({"pid": sleeper.pid, "run_id": "exp_1_aaaa", "role": JOB, "started": started - 30}))
    assert not _processes.is_runs_process(sleeper.pid, None, "exp_1_aaaa")
    assert not _processes.is_runs_process(sleeper.pid, started, "exp_1_aaaa")
    assert _processes.kill_job("exp_1_aaaa") == []
    assert not gone(sleeper.pid)


def test_a_marker_in_a_file_named_for_another_pid_is_ignored(start):
    sleeper, other = start(["sleep", "60"]), start(["sleep", "60"])
    started = _processes.record(sleeper.pid, "exp_1_aaaa", JOB)
    (_processes.folder() / str(other.pid)).write_text(
        (_processes.folder() / str(sleeper.pid)).read_text())
    assert not _processes.is_runs_process(other.pid, None, "exp_1_aaaa")
    assert _processes.is_runs_process(sleeper.pid, started, "exp_1_aaaa")


def test_a_zombie_is_not_a_running_process(start):
    quick = start(["true"])
    wait_until(lambda: psutil.Process(quick.pid).status() == psutil.STATUS_ZOMBIE)  # ended, not reaped
    started = psutil.Process(quick.pid).create_time()
    (_processes.folder()).mkdir(parents=True)
    (_processes.folder() / str(quick.pid)).write_text(
        json.dumps({"pid": quick.pid, "run_id": "exp_1_aaaa", "role": SUPERVISOR, "started": started}))
    assert not _processes.is_runs_process(quick.pid, started, "exp_1_aaaa")
    assert not _processes.runs_since(quick.pid, started)


def test_nothing_is_marked_for_a_process_that_ended_and_stale_markers_are_pruned(start):
    quick = start(["true"])
    quick.wait()
    assert _processes.record(quick.pid, "exp_1_aaaa", SUPERVISOR) is None
    assert not (_processes.folder() / str(quick.pid)).exists()
    ended = start(["sleep", "60"])
    _processes.record(ended.pid, "exp_1_ended", SUPERVISOR)
    ended.kill()
    ended.wait()
    sleeper = start(["sleep", "60"])
    _processes.record(sleeper.pid, "exp_1_aaaa", SUPERVISOR)  # prunes the marker of the ended one
    assert sorted(p.name for p in _processes.folder().iterdir()) == [str(sleeper.pid)]


def test_kill_job_stops_the_marked_jobs_session_and_nothing_else(start):
    env = {**os.environ, "RUNYARD_RUN_ID": "exp_1_aaaa"}
    job = start(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True, env=env)
    bystander = start(["sleep", "60"], env=env)  # the run's variable, but not of the job's session
    _processes.record(job.pid, "exp_1_aaaa", JOB)
    wait_until(lambda: len(psutil.Process(job.pid).children()) == 2)
    children = [p.pid for p in psutil.Process(job.pid).children()]
    killed = _processes.kill_job("exp_1_aaaa")
    assert killed[0] == job.pid and set(killed) <= {job.pid, *children}  # killed with its group first
    job.wait(timeout=10)
    wait_until(lambda: all(gone(pid) for pid in children))
    assert not gone(bystander.pid)


def test_kill_job_finds_a_dead_jobs_leftovers_by_session_and_run_id(start):
    """The job's first process died with its supervisor; its children in its session remain:
    those that carry the run's RUNYARD_RUN_ID are the run's."""
    script = ("RUNYARD_RUN_ID=exp_1_aaaa sleep 60 & echo $!; RUNYARD_RUN_ID=exp_1_other sleep 60 & echo $!; "
              "read line")
    job = start(["sh", "-c", script], start_new_session=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True)
    _processes.record(job.pid, "exp_1_aaaa", JOB)
    ours, others = int(job.stdout.readline()), int(job.stdout.readline())
    # `$!` is known at fork; the child takes its RUNYARD_RUN_ID only when it execs sleep (slow on a busy machine)
    wait_until(lambda: psutil.Process(ours).environ().get("RUNYARD_RUN_ID") == "exp_1_aaaa"
               and psutil.Process(others).environ().get("RUNYARD_RUN_ID") == "exp_1_other")
    job.stdin.close()
    job.wait(timeout=10)
    job.stdout.close()
    try:
        other_session = start(["sleep", "60"], env={**os.environ, "RUNYARD_RUN_ID": "exp_1_aaaa"})
        # a marker whose process ended but whose session lives is kept when others are pruned
        _processes.record(other_session.pid, "exp_1_x", SUPERVISOR)
        assert (_processes.folder() / str(job.pid)).exists()
        assert _processes.kill_job("exp_1_aaaa") == [ours]
        wait_until(lambda: gone(ours))
        assert not gone(others) and not gone(other_session.pid)
    finally:
        for pid in (ours, others):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_job_process_dies_with_the_process_that_started_it(tmp_path):
    code = ("import sys; from pathlib import Path; from runyard.compute._ranks import spawn; "
            "p = spawn(['sleep', '60'], dict(__import__('os').environ), Path('.'), None); "
            "print(p.pid, flush=True); import time; time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert not gone(child)
        parent.kill()
        parent.wait()
        wait_until(lambda: gone(child))
    finally:
        parent.stdout.close()
        if parent.poll() is None:
            parent.kill()
            parent.wait()
