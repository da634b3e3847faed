"""The processes runyard started on this machine, and the proof that a pid is one of them.

A run's row names its supervisor's and job's pids, but a row is only a claim: whoever can
write the run history (every job holds the workspace's token) can write any pid there. So
runyard signals a process only when this machine proves that it is the run's own. When
runyard starts a supervisor or a job's process it writes a marker, ``<cache>/processes/<pid>``,
with the run's id, the process's role and its start time. A pid is the run's process when it
runs (not a zombie), a marker this user wrote names that run, and the process started when
the marker (and the row, where it says) says: a reused pid started later, and a process
runyard did not start has no marker.

A job's processes die with the supervisor that started them (Linux's parent-death signal,
``die_with_parent``). What a lost job left behind in its session, its own children, is
found and stopped by ``kill_job``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

#: the roles of the processes runyard starts for a run
SUPERVISOR, JOB = "supervisor", "job"
#: psutil's start times of one process can differ by a clock tick and a rounded boot time
_SAME_START_S = 1.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Marker:
    """What runyard wrote when it started process ``pid`` for run ``run_id``."""

    pid: int
    run_id: str
    role: str
    started: float
    #: the process took up its run (a supervisor: its SIGTERM handler is set; before that a
    #: SIGTERM would kill it instead of canceling the run)
    ready: bool = True


def folder() -> Path:
    """Where the markers are: ``processes/`` in runyard's cache (``RUNYARD_CACHE_DIR``)."""
    from .local_env import cache_root
    return cache_root() / "processes"


def start_time(pid: int | None) -> float | None:
    """When process ``pid`` started (psutil's create time), or None if it does not run."""
    if not pid:
        return None
    import psutil
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def runs_since(pid: int | None, started: float) -> bool:
    """True if ``pid`` runs (not a zombie) and started at ``started``: the process a record
    names still runs. It proves nothing of whose process that is."""
    process = _running(pid) if pid else None
    return process is not None and _same_start(process, started)


def record(pid: int, run_id: str, role: str, ready: bool = True) -> float | None:
    """Mark ``pid`` as run ``run_id``'s ``role`` process (written atomically), ``ready`` once it
    took up its run; its start time, or None, with nothing written, when it no longer runs.
    A marker that is not ``ready`` never replaces this process's own (the process may have
    marked itself ready first). Stale markers are pruned when a supervisor is marked (not
    when a job is: its pid goes into the run's record as soon as it can)."""
    started = start_time(pid)
    if started is None:
        return None
    where = folder()
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    if role == SUPERVISOR:
        _prune(where)
    path = where / str(pid)
    fd, tmp = tempfile.mkstemp(dir=where, prefix=".marker-")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump({"pid": pid, "run_id": run_id, "role": role, "started": started, "ready": ready}, fh)
        if ready:
            os.replace(tmp, path)
            return started
        try:
            os.link(tmp, path)  # only where there is none
        except FileExistsError:
            existing = _marker(path)
            if existing is None or (existing.run_id, existing.role) != (run_id, role) or (
                    abs(existing.started - started) >= _SAME_START_S):
                os.replace(tmp, path)  # a stale one
    finally:
        Path(tmp).unlink(missing_ok=True)
    return started


def forget(run_id: str, pid: int | None = None) -> None:
    """Remove the markers of run ``run_id`` (only ``pid``'s, if given); best effort."""
    for marker in _markers():
        if marker.run_id == run_id and pid in (None, marker.pid):
            (folder() / str(marker.pid)).unlink(missing_ok=True)


def is_runs_process(pid: int | None, started: float | None, run_id: str, role: str | None = None) -> bool:
    """True only if ``pid`` runs (not a zombie), a marker names it ``run_id``'s process (in
    ``role``, if given), and it started when the marker says and, if ``started`` is given (the
    row's record), then too."""
    if not pid:
        return False
    marker = _marker(folder() / str(pid))
    if marker is None or marker.run_id != run_id or role not in (None, marker.role):
        return False
    process = _running(pid)
    return (process is not None and _same_start(process, marker.started)
            and (started is None or _same_start(process, started)))


def runs_processes(run_id: str, role: str) -> list[Marker]:
    """The markers of processes that are verifiably run ``run_id``'s ``role`` processes here."""
    return [m for m in _markers() if m.run_id == run_id and is_runs_process(m.pid, None, run_id, role)]


def kill_job(run_id: str) -> list[int]:
    """SIGKILL what is left on this machine of run ``run_id``'s job; the pids signalled.

    Each job process runyard started leads a session of its own, and a session cannot be
    joined, only left (``setsid``); so the session of a job process that still runs as its
    marker says holds nothing but the job's processes. Once that process has ended (it dies
    with its supervisor) its pid stays reserved while its session has members, but a session
    of a reused pid cannot be told from it by number: there a member must also carry the
    run's ``RUNYARD_RUN_ID``, which runyard gave the job."""
    import psutil
    from ..run import ENV_RUN_ID
    sessions = {m.pid: m for m in _markers() if m.run_id == run_id and m.role == JOB}
    leader_runs: dict[int, bool] = {}
    killed = []
    for pid, marker in sessions.items():
        process = _running(pid)
        if process is not None and not _same_start(process, marker.started):
            continue  # the pid was reused: that session is another's
        leader_runs[pid] = process is not None
        if process is not None:
            _signal_group(pid, signal.SIGKILL)  # the job's process group at once
            killed.append(pid)
    for process in psutil.process_iter():
        pid = process.pid
        if pid == os.getpid() or pid in killed:
            continue
        try:
            session = os.getsid(pid)
        except OSError:
            continue
        if session not in leader_runs:
            continue
        try:
            if process.create_time() < sessions[session].started - _SAME_START_S:
                continue  # older than the job: not of its session
            if not leader_runs[session] and process.environ().get(ENV_RUN_ID) != run_id:
                continue
            process.kill()  # psutil checks the pid was not reused since it listed it
            killed.append(pid)
        except psutil.Error:
            continue
    return killed


def die_with_parent(signum: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that has the kernel send ``signum`` to the new
    process when the thread that started it ends (Linux's ``PR_SET_PDEATHSIG``); None on
    other systems. A job's processes get it, so a supervisor killed with SIGKILL leaves no
    job running; its children are ``kill_job``'s."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def tie_to_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent ended before the tie was made
            os.kill(os.getpid(), signum)
    return tie_to_parent


# -- markers -------------------------------------------------------------------------------
def _marker(path: Path) -> Marker | None:
    """The marker at ``path`` if this user wrote it and it reads as one, else None."""
    try:
        if path.stat().st_uid != os.geteuid():
            return None
        data: Any = json.loads(path.read_text())
        marker = Marker(int(data["pid"]), str(data["run_id"]), str(data["role"]), float(data["started"]),
                        data.get("ready") is not False)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return marker if path.name == str(marker.pid) else None


def _markers() -> list[Marker]:
    try:
        paths = [p for p in folder().iterdir() if p.name.isdigit()]
    except OSError:
        return []
    return [m for m in map(_marker, paths) if m is not None]


def _prune(where: Path) -> None:
    """Remove markers of processes that ended, except a job's whose session still has members
    (``kill_job`` needs it while the run is not yet found lost)."""
    sessions: set[int] | None = None
    for marker in _markers():
        process = _running(marker.pid)
        if process is not None:
            if _same_start(process, marker.started):
                continue
        elif marker.role == JOB:
            sessions = _sessions() if sessions is None else sessions
            if marker.pid in sessions:
                continue
        (where / str(marker.pid)).unlink(missing_ok=True)


def _sessions() -> set[int]:
    import psutil
    found = set()
    for pid in psutil.pids():
        try:
            found.add(os.getsid(pid))
        except OSError:
            continue
    return found


def _running(pid: int) -> Any:
    """psutil's ``Process`` of ``pid`` if it runs (a zombie has ended), else None."""
    import psutil
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except psutil.Error:
        return None


def _same_start(process: Any, started: float) -> bool:
    import psutil
    try:
        return abs(process.create_time() - started) < _SAME_START_S
    except psutil.Error:
        return False


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except OSError:
        pass
