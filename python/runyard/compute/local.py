"""The local compute target: each run under a detached supervisor process.

The supervisor (``runyard.compute._supervisor``) outlives the Python session
or CLI that submitted the run: it materialises the environment, runs the
script, records the status and uploads ``outputs/`` and ``logs/``. Its pid and
start time are stored with the run, and marked on this machine
(``_processes``), so a supervisor that vanished (kill -9, reboot) is noticed
the next time the workspace is opened or the run is waited on. What runyard
signals it proves first to be the run's own: never a pid only because a row
names it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .. import mlflow_tracking, resume
from .. import status as st
from ..errors import ComputeError, ConfigError
from . import ComputeTarget, JobSpec, _launcher, _processes
from ._ranks import (FAILED_RANK_FILE, abort_on_error, cancel_grace_s, failed_rank_message, mpi_env, mpirun_argv,
                     spawn, start_ranks, stop_all, take_failed_rank, wait_all)
from ..metrics import SPILL_ENV, SPILL_FILE
from .execution import Execution, collect_folder, job_argv, job_credentials, send_spilled_metrics
from .local_env import PreparedPython, materialise, materialise_spec, stop_build, submitting_interpreter

if TYPE_CHECKING:
    from ..environment import Environment
    from ..workspace import Workspace

#: a run whose supervisor never recorded itself is given this long before it counts as lost
_START_GRACE_S = 120


class SupervisedTarget(ComputeTarget):
    """A target whose jobs run under a detached runyard supervisor on this machine."""

    def submit(self, job: JobSpec) -> str:
        start_detached(self.workspace, "runyard.compute._supervisor", job.run_id, "supervisor.log")
        return job.run_id

    def check(self, handle: str) -> None:
        row = self.workspace._store.get_run(handle)
        if row is not None and row["status"] not in st.TERMINAL:
            _fail_if_lost(self.workspace, row)

    def on_lost(self, row: dict[str, Any]) -> None:
        """Clean up after a run whose supervisor vanished: what is left of its job on this
        machine, as far as it is provably the run's (``_processes.kill_job``)."""
        _processes.kill_job(row["run_id"])

    def status(self, handle: str) -> str:
        row = self.workspace._store.get_run(handle)
        if row is None:
            raise ComputeError(f"no run {handle!r}")
        return row["status"]

    def logs(self, handle: str) -> Iterator[str]:
        path = self.workspace._artifacts.run_dir(handle) / "logs" / "driver.log"
        if path.is_file():
            with open(path, errors="replace") as fh:
                yield from fh

    def cancel(self, handle: str) -> None:
        store = self.workspace._store
        row = store.get_run(handle)
        if row is None or row["status"] in st.TERMINAL:
            return
        store.set_status(handle, st.CANCEL_REQUESTED)
        state, pid = supervisor_state(row)
        if state == RUNNING:
            _signal(pid, signal.SIGTERM)
            return
        if state not in (GONE, NEVER_STARTED):
            return  # starting, or not this machine's to prove: it sees CancelRequested and stops
        self.on_lost(row)
        store.set_status(handle, st.CANCELED, error="canceled; its supervisor was no longer running")


class LocalTarget(SupervisedTarget):
    """Runs jobs as processes on this machine. Always present, named ``local``."""

    type = "local"

    def check_environment(self, environment: "Environment") -> None:
        """A job here is a process of this machine: an environment that asks for a container
        (``docker.enabled``) is refused; its other ``docker`` fields describe an image, which
        only targets that run containers use."""
        if environment.docker.enabled:
            raise ConfigError(f"Environment {environment.name!r}: docker.enabled=True asks for a container, and the "
                              f"local target runs jobs as processes of this machine; submit to a Docker target "
                              f"(runyard compute attach docker NAME), or set docker.enabled=False")

    def prepare(self, environment: "Environment | None", log) -> PreparedPython:
        return materialise(environment, log)

    def execution(self, job: JobSpec, work: Path, logs_dir: Path) -> "LocalExecution":
        return LocalExecution(job, work, logs_dir, self.workspace)


class LocalExecution(Execution):
    """The job as processes of this machine in a session of their own (so their children stop
    with them): one process, or one per rank of a distributed job."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.procs: list[subprocess.Popen] = []
        self.prepared: PreparedPython | None = None
        self.mpirun: str | None = None
        self.failed_rank: tuple[int, int] | None = None  # (rank, exit code) of an MPI job's failed rank
        # where a job of a workspace folder sends its metrics (store/spool.py); beside the job's
        # folder, not in it, so the script does not see it among its files
        self.spool = None if self.workspace.url else self.work.with_name(self.work.name + ".spool")

    def prepare(self, log) -> None:
        gpus = (self.job.resources or {}).get("num_gpus")
        if gpus and not local_gpus():
            raise ComputeError(f"the run asks for {gpus:g} GPU(s) (num_gpus, or an estimator's use_gpu=True) "
                               f"and this machine has none (no NVIDIA GPU listed by nvidia-smi)")
        self.prepared = materialise_spec(self.job.environment, self.job.environment_hash, log,
                                         submitting_python=self.job.submitting_python)
        if (self.job.distributed or {}).get("framework") == "mpi":
            self.mpirun = find_mpirun(self.prepared.path_prefix)
            log.write(f"MPI job: {self.job.distributed['process_count']} processes under {self.mpirun}\n")

    def start(self, output) -> int | None:
        from .. import snapshot
        assert self.prepared is not None
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        snapshot.extract(self.job.snapshot_path, self.work)
        (self.work / "outputs").mkdir(exist_ok=True)
        (self.work / "logs").mkdir(exist_ok=True)
        resumed = resume.put_into(self.work, self.job.resume_from, self.workspace)
        resume.put_inputs(self.work, self.job.inputs, self.job.output_folders, self.workspace)
        rscript = (self.job.environment.get("r") or {}).get("rscript_path") or "Rscript"
        argv = job_argv(self.job, self.prepared.python, rscript)
        env = self._process_env()
        if self.spool is not None:
            from ..run import ENV_SPOOL
            from ..store.spool import write_run_file
            shutil.rmtree(self.spool, ignore_errors=True)
            store = self.workspace._store
            write_run_file(self.spool, store.get_run(self.job.run_id), {}, {})
            env[ENV_SPOOL] = str(self.spool)
        if resumed:
            env[resume.ENV_VAR] = str(resumed)
        if not self.job.distributed:
            self.procs = [self._spawn(argv, env, output)]
        elif self.mpirun:
            count = int(self.job.distributed["process_count"])
            env.update(mpi_env(self.logs_dir))
            (self.logs_dir / FAILED_RANK_FILE).unlink(missing_ok=True)
            argv = abort_on_error(argv, env, self.work)
            # SIGTERM if the supervisor dies: mpirun then stops its ranks itself (SIGTERM after
            # the cancel's grace, SIGKILL after twice that)
            mpirun = mpirun_argv(self.mpirun, count, argv, cancel_grace_s())
            self.procs = [self._spawn(mpirun, env, output, signal.SIGTERM)]
        else:  # every rank on this machine, each marked below
            try:
                self.procs = start_ranks(self.job.distributed, argv, env, self.work, self.logs_dir, output)
            except OSError as e:
                raise ComputeError(f"could not start {argv[0]!r}: {e}") from e
        for proc in self.procs:  # a lost run's cleanup stops only what is marked as its job
            _processes.record(proc.pid, self.job.run_id, _processes.JOB)
        return self.procs[0].pid

    def _spawn(self, argv: list[str], env: dict[str, str], output,
               parent_death_signal: int = signal.SIGKILL) -> subprocess.Popen:
        try:
            return spawn(argv, env, self.work, output, parent_death_signal)
        except OSError as e:
            raise ComputeError(f"could not start {argv[0]!r}: {e}") from e

    def _process_env(self) -> dict[str, str]:
        from ..run import ENV_RUN_ID, ENV_TRACKING_URI
        assert self.prepared is not None
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.update(self.job.environment.get("environment_variables") or {})
        env.update(self.job.environment_variables)
        env.update(mlflow_tracking.job_variables(self.job))
        env.update(self.prepared.env_vars)
        env.pop("RUNYARD_TOKEN", None)  # the workspace's token stays here; the job gets its own
        env.update(job_credentials(self.workspace, self.job.run_id))
        if self.prepared.path_prefix:
            env["PATH"] = os.pathsep.join([*self.prepared.path_prefix, env.get("PATH", "")])
        env.update({
            ENV_RUN_ID: self.job.run_id,
            ENV_TRACKING_URI: self.job.workspace_path,
            "RUNYARD_EXPERIMENT_NAME": self.job.experiment,
            "RUNYARD_OUTPUTS_DIR": str(self.work / "outputs"),
            SPILL_ENV: str(self.work / SPILL_FILE),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def wait(self, timeout: float) -> int | None:
        """Rank 0's exit code once every process ended, or the first failing process's (under
        mpirun, the code its rank's wrapper recorded, not mpirun's own)."""
        code = wait_all(self.procs, timeout)
        if code is not None and self.mpirun and self.failed_rank is None:
            self.failed_rank = take_failed_rank(self.logs_dir)
        return self.failed_rank[1] if code is not None and self.failed_rank else code

    def failure_reason(self, code: int) -> str | None:
        if self.failed_rank is None:
            return None
        rank, rank_code = self.failed_rank
        count = int(self.job.distributed["process_count"])
        return f"{failed_rank_message(rank, count, rank_code)}; the other ranks were stopped"

    def stop(self, grace_s: float, output) -> None:
        if not self.procs:
            stop_build()
            return
        stop_all(self.procs, grace_s, self.logs_dir if self.mpirun else None)

    tick_s = 0.1  # a sweep's early-termination policy sees a trial's metric within this

    def tick(self) -> None:
        """Apply the metrics the job sent through its spool since the last tick."""
        if self.spool is not None and self.spool.is_dir():
            from ..store.spool import drain
            drain(self.workspace._store, self.spool, self.job.run_id, note=self.note)

    def collect(self) -> None:
        self.tick()
        send_spilled_metrics(self.workspace._store, self.work / SPILL_FILE, self.note)
        for folder in ("outputs", "logs"):
            collect_folder(self.workspace._artifacts, self.job.run_id, self.work, folder, self.note, move=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)


#: Set in a process that starts many short-lived supervisors (a pipeline's driver): a
#: ``Forkserver`` that starts them by ``fork``, runyard already imported, instead of each
#: starting a new interpreter.
FORKSERVER: "Forkserver | None" = None


def start_detached(workspace: "Workspace", module: str, run_id: str, log_name: str) -> None:
    """Start ``python -m <module> WS RUN_ID`` in a session of its own (it outlives this process),
    its output in the run's ``logs/<log_name>``; record it as the run's supervisor.

    It is forked by this process's ``FORKSERVER`` if it has one, else by this user's launcher
    (``_launcher``: the same process, without an interpreter's start and imports), else
    started as a new interpreter."""
    log_dir = workspace._artifacts.run_dir(run_id) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    if FORKSERVER is not None:
        _record_supervisor(workspace, run_id, FORKSERVER.start(module, workspace, run_id, log_dir / log_name),
                           ready=False)
        return
    package_parent = str(Path(__file__).resolve().parents[2])
    env = child_python_environment()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    if workspace.token:
        env["RUNYARD_TOKEN"] = workspace.token
    interpreter, argv, cwd = submitting_interpreter(), [workspace.address, run_id], str(workspace._local_folder("jobs"))
    pid = _launcher.start(interpreter, module, argv, env, cwd, log_dir / log_name)
    if pid is not None:
        _record_supervisor(workspace, run_id, pid, ready=False)
        return
    with open(log_dir / log_name, "ab") as supervisor_log:
        proc = subprocess.Popen(
            [interpreter, "-m", module, *argv],
            stdin=subprocess.DEVNULL, stdout=supervisor_log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, env=env, cwd=cwd)
    _record_supervisor(workspace, run_id, proc.pid, ready=False)  # before it can be reaped and its pid reused
    # Reap the supervisor when it ends (no zombie, no "still running" ResourceWarning
    # when the Popen is collected); a daemon thread never keeps this process alive.
    threading.Thread(target=proc.wait, name=f"runyard-reap-{proc.pid}", daemon=True).start()


def start_driven_run(experiment: Any, definition: dict[str, Any], *, run_type: str, module: str, log_name: str,
                     what: str, tags: dict[str, Any], properties: dict[str, Any], display_name: str | None = None,
                     parent_run_id: str | None = None) -> Any:
    """Record a run whose children a detached driver (``module``) runs Queued (a pipeline, a
    sweep, an AutoML run), and start the driver; the run, of its type. A driver that cannot
    start leaves the run Failed, saying why."""
    from ..errors import NotFoundError
    from ..run import Run, new_run_id
    workspace = experiment.workspace
    if parent_run_id is not None and workspace._store.get_run(parent_run_id) is None:
        raise NotFoundError(f"parent_run_id {parent_run_id!r}: no such run in workspace {workspace.name!r}")
    run_id = new_run_id(experiment.name)
    row = workspace._store.create_run({
        "run_id": run_id, "experiment": experiment.name, "display_name": display_name, "parent_id": parent_run_id,
        "run_type": run_type, "status": st.QUEUED, "target": None,  # its driver runs here; children on targets
        "definition": json.dumps(definition),
    }, tags=tags, properties=properties)
    try:
        start_detached(workspace, module, run_id, log_name)
    except Exception as e:
        workspace._store.set_status(run_id, st.FAILED, error=f"could not start the {what}'s driver: {e}")
        raise ComputeError(f"could not start the driver of {what} {run_id}: {e}") from e
    return Run._from_row(workspace, row)


def _record_supervisor(workspace: "Workspace", run_id: str, pid: int, ready: bool) -> None:
    """Mark ``pid`` on this machine as the run's supervisor (``ready`` once it handles SIGTERM),
    then record it (and this host) with the run: a run is never shown supervised by a process
    that is not marked."""
    started = _processes.record(pid, run_id, _processes.SUPERVISOR, ready)
    workspace._store.set_run_process(run_id, host=socket.gethostname(), supervisor_pid=pid,
                                     supervisor_started=started)


class Forkserver:
    """A process forked before this one opened any database, with runyard imported; it forks
    each detached process ``start_detached`` asks for (SQLite forbids using, or even
    inheriting, an open connection across ``fork``, so the forks come from it, not from here).
    It ends when this process does (its request pipe closes).

    >>> local.FORKSERVER = Forkserver(["runyard.compute._supervisor"])  # doctest: +SKIP
    """

    def __init__(self, modules: list[str]):
        import importlib
        for module in modules:  # imported once, here, for every fork
            importlib.import_module(module)
        requests_r, self._requests = os.pipe()
        self._replies, replies_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._requests)
            os.close(self._replies)
            _serve_forks(requests_r, replies_w)
        os.close(requests_r)
        os.close(replies_w)
        self._lock = threading.Lock()

    def start(self, module: str, workspace: "Workspace", run_id: str, log: Path) -> int:
        """Start ``module`` as ``__main__`` with argv ``WS RUN_ID``; its pid."""
        request = json.dumps({"module": module, "argv": [workspace.address, run_id], "log": str(log),
                              "cwd": str(workspace._local_folder("jobs")), "token": workspace.token})
        with self._lock:
            os.write(self._requests, request.encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = os.read(self._replies, 64)
                if not chunk:
                    raise ComputeError("runyard's forkserver ended; cannot start the step's supervisor")
                reply += chunk
        return int(reply)


def _serve_forks(requests_fd: int, replies_fd: int) -> None:
    """The forkserver's loop: one detached process per request line; never returns."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the parent is not ours
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # our children are reaped by the kernel
    with os.fdopen(requests_fd, "rb") as requests:
        for line in requests:
            spec = json.loads(line)
            pid = os.fork()
            if pid:
                os.write(replies_fd, f"{pid}\n".encode())
                continue
            try:
                os.close(replies_fd)
                os.setsid()
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                    signal.signal(signum, signal.SIG_DFL)
                env = {**os.environ, "RUNYARD_TOKEN": spec["token"]} if spec["token"] else None
            except BaseException:
                os._exit(1)
            _launcher.run_detached(spec["module"], spec["argv"], spec["log"], spec["cwd"], env=env)
    os._exit(0)


def open_detached_run(workspace_path: str, run_id: str) -> tuple["Workspace", dict[str, Any]]:
    """In a process ``start_detached`` started: its workspace and the row of its run."""
    from ..store.base import ENV_RETRY_WINDOW, JOB_RETRY_WINDOW_S
    from ..workspace import Workspace
    # a supervisor (and the job it starts) rides out a server restart rather than failing the run
    os.environ.setdefault(ENV_RETRY_WINDOW, str(JOB_RETRY_WINDOW_S))
    workspace = Workspace(workspace_path, _check_lost_runs=False)
    row = workspace._store.get_run(run_id)
    if row is None:
        raise SystemExit(f"no run {run_id} in {workspace_path}")
    return workspace, row


def claim_run(workspace: "Workspace", run_id: str, on_sigterm: Any) -> None:
    """In a process ``start_detached`` started: record it as the run's supervisor (so a lost
    one is noticed) and have SIGTERM (a cancel) call ``on_sigterm``. A run that already ended
    (found lost before its supervisor started) is left as it is: this process exits."""
    row = workspace._store.get_run(run_id)
    if row is None or row["status"] in st.TERMINAL:
        raise SystemExit(f"run {run_id} already ended ({row['status'] if row else 'deleted'}); not starting it")
    signal.signal(signal.SIGTERM, on_sigterm)
    _record_supervisor(workspace, run_id, os.getpid(), ready=True)  # now a SIGTERM cancels, not kills


def keep_driver_log(workspace: "Workspace", run_id: str, log_name: str) -> None:
    """At the end of a driver ``start_detached`` started (a pipeline's, a sweep's): on a served
    workspace this machine's copy of its log (``logs/<log_name>``) is all there is, so send it."""
    log = workspace._artifacts.run_dir(run_id) / "logs" / log_name
    if workspace.url and log.is_file():
        sys.stdout.flush()
        try:
            workspace._artifacts.put_file(run_id, f"logs/{log_name}", log)
        except Exception:  # the run has ended either way
            import traceback
            traceback.print_exc()


def release_run(run_id: str) -> None:
    """At the end of a process ``claim_run`` claimed: its run's marks on this machine go (its
    own and its job's; the job has ended)."""
    _processes.forget(run_id)


def cancel_requested(workspace: "Workspace", run_id: str) -> bool:
    """Whether the run was asked to cancel (status CancelRequested)."""
    row = workspace._store.get_run(run_id)
    return row is not None and row["status"] == st.CANCEL_REQUESTED


def local_gpus() -> list[str]:
    """The NVIDIA GPUs of this machine, as ``nvidia-smi -L`` lists them."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in listed.stdout.splitlines() if line.startswith("GPU ")] if listed.returncode == 0 else []


def find_mpirun(path_prefix: list[str]) -> str:
    """The ``mpirun`` an MPI job runs under: the environment's own, else this machine's."""
    found = shutil.which("mpirun", path=os.pathsep.join([*path_prefix, os.environ.get("PATH", "")]))
    if found is None:
        raise ComputeError("MpiConfiguration runs the script's processes under mpirun, and none is on this "
                           "machine's PATH or in the run's environment: install Open MPI (Debian/Ubuntu: "
                           "apt-get install openmpi-bin) or use PyTorchConfiguration, whose processes "
                           "runyard starts itself")
    return found


def child_python_environment() -> dict[str, str]:
    """This process's variables, minus what R set for an embedded Python (under reticulate):
    R's library path would make another Python load the system libpython, and reticulate's
    PYTHONPATH would hide that Python's site-packages."""
    env = dict(os.environ)
    if "rpytools" not in sys.modules:
        return env
    env.pop("PYTHONPATH", None)
    r_home = env.get("R_HOME", "")
    kept = [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep)
            if p and not (r_home and p.startswith(r_home)) and not p.startswith("/usr/lib/jvm")
            and p.rstrip("/") not in ("/usr/lib", "/lib", "/usr/lib64", "/usr/local/lib")
            and not re.fullmatch(r"/(usr/)?lib/[a-z0-9_]+-linux-gnu[a-z0-9_]*/?", p)]
    if kept:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(kept)
    else:
        env.pop("LD_LIBRARY_PATH", None)
    return env


#: what ``supervisor_state`` finds of a run's supervisor
RUNNING, STARTING, ELSEWHERE, UNPROVEN, GONE, NEVER_STARTED = (
    "running", "starting", "elsewhere", "unproven", "gone", "never started")


def supervisor_state(row: dict[str, Any]) -> tuple[str, int | None]:
    """Where the run's supervisor is, and its pid when this machine proves it is the run's:

    - RUNNING: a process marked as the run's supervisor runs here, started when marked, and
      has taken up the run (a SIGTERM cancels it);
    - STARTING: that process has not taken up the run yet, or none is recorded yet and the
      run was created within ``_START_GRACE_S``: it sees CancelRequested when it does;
    - ELSEWHERE: the row names another machine (or none, once the run left Queued);
    - UNPROVEN: the row's pid runs, started when the row says, but nothing here marks it as
      the run's (another user's runyard, another RUNYARD_CACHE_DIR, or a planted row):
      neither signalled nor given up on;
    - GONE: the recorded supervisor does not run (or not the process recorded);
    - NEVER_STARTED: still no supervisor after the grace (its submitter ended first).

    The row's pids only say where to look: nothing is signalled because a row names it.
    """
    found = _processes.runs_processes(row["run_id"], _processes.SUPERVISOR)
    if found:
        return (RUNNING, found[0].pid) if found[0].ready else (STARTING, None)
    # no host yet: it never left Queued (a cancel asked before a supervisor took it up included)
    unclaimed = row["host"] is None and row["status"] in (st.QUEUED, st.CANCEL_REQUESTED)
    if row["host"] != socket.gethostname() and not unclaimed:
        return ELSEWHERE, None
    if row["supervisor_pid"] is None:
        young = time.time() - row["created_at"] < _START_GRACE_S
        return (STARTING if young else NEVER_STARTED), None
    recorded = row["supervisor_started"]
    if recorded is not None and _processes.runs_since(row["supervisor_pid"], recorded):
        return UNPROVEN, None
    return GONE, None


def _signal(pid: int, signum: int) -> None:
    """Send ``signum`` to ``pid``, unless it ended (or its pid was reused) since it was proven."""
    import psutil
    try:
        psutil.Process(pid).send_signal(signum)
    except psutil.Error:
        pass


def fail_lost_runs(workspace: "Workspace") -> list[str]:
    """Mark Failed every active run of this host whose supervisor is gone, and every run still
    Queued with no host or supervisor after the start grace; returns their ids.

    Opening a workspace calls this: it signals nothing a row names, only what is left of a lost
    run's job where this machine proves it the run's (see ``_processes``)."""
    store = workspace._store
    rows = store.list_runs(status=st.ACTIVE, host=socket.gethostname())
    rows += [row for row in store.list_runs(status=[st.QUEUED, st.CANCEL_REQUESTED]) if row["host"] is None]
    return [row["run_id"] for row in rows if _fail_if_lost(workspace, row)]


def _fail_if_lost(workspace: "Workspace", row: dict[str, Any]) -> bool:
    if row["run_type"] not in ("script", "command", "pipeline", "hyperdrive", "automl"):  # others end by their own code
        return False
    state, _ = supervisor_state(row)
    if state not in (GONE, NEVER_STARTED):
        return False
    from . import get_target
    try:
        get_target(workspace, row["target"]).on_lost(row)
    except Exception:  # the target may be gone from the workspace; the run still ends
        _processes.kill_job(row["run_id"])
    if row["run_type"] in ("pipeline", "hyperdrive", "automl"):  # its steps (trials) have supervisors: cancel them
        for step in workspace._store.list_runs(parent_id=row["run_id"], status=st.ACTIVE):
            try:
                get_target(workspace, step["target"]).cancel(step["run_id"])
            except Exception:  # a step whose target is gone ends when its own supervisor is found lost
                continue
    if state == NEVER_STARTED and row["status"] == st.CANCEL_REQUESTED:  # canceled before anything ran
        return workspace._store.set_status(row["run_id"], st.CANCELED,
                                           error="canceled before its supervisor started (none ever did)")
    if state == NEVER_STARTED:
        reason = (f"its supervisor never started: the run was still {row['status']} "
                  f"{_START_GRACE_S} s after it was created, with no supervisor recorded (the process "
                  f"that submitted it ended before starting one).")
    else:
        reason = (f"runyard's supervisor of this run (pid {row['supervisor_pid']} on "
                  f"{row['host']}) is gone - the machine restarted or the process was killed - "
                  f"while the run was {row['status']}. Logs up to that point are kept.")
    log = workspace._artifacts.run_dir(row["run_id"]) / "logs" / "supervisor.log"
    if log.is_file() and log.stat().st_size:
        tail = log.read_text(errors="replace").strip().splitlines()[-8:]
        reason += " Last lines of logs/supervisor.log:\n" + "\n".join(tail)
    return workspace._store.set_status(row["run_id"], st.FAILED, error=reason)
