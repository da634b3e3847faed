"""The processes of a distributed job on one machine: one per rank, each with its framework's
variables, ended together.

The local target's supervisor runs them on this machine (an MPI job under Open MPI's
``mpirun``); the Docker target runs them in one container through this module's entry point,
with the container's Python and runyard's client:

    python -m runyard.compute._ranks PLAN_JSON LOGS_DIR -- ARGV...

Rank 0 writes to this process's output (the run's driver log); rank N to ``LOGS_DIR/rank_N.log``.
As torchrun does, the first process that fails ends the others and its exit code is the job's.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from ._processes import die_with_parent


def start_ranks(plan: dict[str, Any], argv: list[str], env: dict[str, str], cwd: Path, logs_dir: Path,
                output: IO[bytes] | None) -> list[subprocess.Popen]:
    """Every rank of ``plan`` on this machine, rendezvous on loopback; each in a session of its
    own, so its children end with it. An ``OSError`` starting one ends those already started."""
    from ..distributed import process_env, rank_log_name  # its pydantic models: not for every supervisor
    count = int(plan["process_count"])
    ports = free_ports(count)
    procs: list[subprocess.Popen] = []
    try:
        for rank in range(count):
            rank_env = {**env, **process_env({**plan, "node_count": 1}, rank, ["127.0.0.1"] * count, ports)}
            if rank == 0:
                procs.append(spawn(argv, rank_env, cwd, output))
                continue
            with open(logs_dir / rank_log_name(rank), "ab") as rank_output:
                procs.append(spawn(argv, rank_env, cwd, rank_output))
    except OSError:
        for proc in procs:
            signal_group(proc.pid, signal.SIGKILL)
        raise
    return procs


def spawn(argv: list[str], env: dict[str, str], cwd: Path, output: IO[bytes] | None,
          parent_death_signal: int = signal.SIGKILL) -> subprocess.Popen:
    """``argv`` as a job process: a session of its own, sent ``parent_death_signal`` by the
    kernel if this thread ends first (a supervisor killed with SIGKILL leaves no job running)."""
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=die_with_parent(parent_death_signal))


def wait_all(procs: list[subprocess.Popen], timeout: float) -> int | None:
    """Rank 0's exit code once every process ended; as soon as one process fails, the others
    are stopped and that process's code is returned. None if ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        codes = [proc.poll() for proc in procs]
        failed = next((code for code in codes if code not in (None, 0)), None)
        if failed is not None:
            if len(procs) > 1:
                stop_all(procs, 5)
            return failed
        if all(code == 0 for code in codes):
            return 0
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if len(procs) == 1:
            try:
                return procs[0].wait(timeout=left)
            except subprocess.TimeoutExpired:
                return None
        time.sleep(min(0.05, left))


def stop_all(procs: list[subprocess.Popen], grace_s: float, rank_pids: Path | None = None) -> None:
    """SIGTERM to every process's group, SIGKILL to those still there after ``grace_s``, then
    to anything they left behind. ``rank_pids``: the folder where ranks under mpirun record
    their process ids (see ``_MPI_RANK``): their groups are signalled directly, since mpirun
    passes a SIGTERM on to its ranks only after ``odls_base_sigkill_timeout``."""
    groups = _rank_groups(rank_pids) if rank_pids is not None else []
    for group in groups:
        signal_group(group, signal.SIGTERM)
    for proc in procs:
        signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    for group in groups:
        signal_group(group, signal.SIGKILL)
    for proc in procs:
        signal_group(proc.pid, signal.SIGKILL)


def _rank_groups(folder: Path) -> list[int]:
    """The process groups of the ranks still running that recorded themselves in ``folder``
    (never this process's own group)."""
    own = os.getpgid(0)
    groups = []
    for path in folder.glob(f"{RANK_PID_FILE}.*"):
        try:
            group = os.getpgid(int(path.read_text().strip()))
        except (OSError, ValueError):  # ended (its wrapper removes the file) or half-written
            continue
        if group != own and group not in groups:
            groups.append(group)
    return groups


def signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on loopback now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


#: where the first rank under mpirun that failed records itself ("RANK CODE"), for the run's error
FAILED_RANK_FILE = ".failed_rank"
#: where each rank under mpirun records its process id while it runs (``.rank_pid.RANK``)
RANK_PID_FILE = ".rank_pid"

#: run by mpirun as each rank: torch.distributed's variables from Open MPI's, rank 0's output
#: to mpirun's (the run's driver log), every other rank's to its own log. The command runs as a
#: child, not exec'd, so that a rank failing on its own records which one it was (mpirun then
#: ends the others and exits with its code). Each rank is a process group of its own (Open MPI
#: makes it one), recorded while it runs for a cancel to signal at once (``stop_all``); a
#: signal to the group reaches the child too: the traps keep this shell waiting for its child,
#: and a rank stopped that way (cancel, or mpirun ending the job) records nothing.
_MPI_RANK = ('export RANK="$OMPI_COMM_WORLD_RANK" WORLD_SIZE="$OMPI_COMM_WORLD_SIZE" '
             'LOCAL_RANK="$OMPI_COMM_WORLD_LOCAL_RANK" LOCAL_WORLD_SIZE="$OMPI_COMM_WORLD_LOCAL_SIZE" '
             'NODE_RANK=0 GROUP_RANK=0 RUNYARD_PROCESS_RANK="$OMPI_COMM_WORLD_RANK" '
             'PMI_RANK="$OMPI_COMM_WORLD_RANK" PMI_SIZE="$OMPI_COMM_WORLD_SIZE"; '
             'stopping=; trap stopping=1 TERM INT HUP; trap : USR1 USR2; '
             'pid="$RUNYARD_LOGS_DIR/{pid}.$RANK"; echo $$ >"$pid"; '
             'if [ "$RANK" = 0 ]; then "$@"; else "$@" >>"$RUNYARD_LOGS_DIR/{log}" 2>&1; fi; code=$?; '
             'rm -f "$pid"; '
             'if [ "$code" != 0 ] && [ -z "$stopping" ]; then failed="$RUNYARD_LOGS_DIR/{failed}"; '
             'echo "$RANK $code" >"$failed.$RANK" && ln "$failed.$RANK" "$failed" 2>/dev/null; '
             'rm -f "$failed.$RANK"; fi; exit "$code"')

#: exits 0 when the Python running it can import mpi4py
_HAS_MPI4PY = "import importlib.util, sys; sys.exit(importlib.util.find_spec('mpi4py') is None)"


def mpi_env(logs_dir: Path) -> dict[str, str]:
    """What every rank under mpirun shares: torch.distributed's rendezvous and the logs folder."""
    return {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_ports(1)[0]), "RUNYARD_LOGS_DIR": str(logs_dir)}


def cancel_grace_s() -> float:
    """How long a canceled job's processes have between SIGTERM and SIGKILL."""
    return float(os.environ.get("RUNYARD_CANCEL_GRACE_SECONDS", "10"))


def mpirun_argv(mpirun: str, count: int, argv: list[str], grace_s: float) -> list[str]:
    """``argv`` as ``count`` ranks on this machine under Open MPI's ``mpirun``: as many as asked
    whatever the cores (--oversubscribe), unbound, and as root when the job is root's. A
    SIGTERM to mpirun reaches every rank, which then has ``grace_s`` (whole seconds, at least
    one) before mpirun's SIGKILL: Open MPI's own default is one second, which a rank on a busy
    machine can miss."""
    from ..distributed import rank_log_name  # its pydantic models: not for every supervisor
    options = ["-np", str(count), "--oversubscribe", "--bind-to", "none",
               "--mca", "odls_base_sigkill_timeout", str(max(1, math.ceil(grace_s)))]
    if os.geteuid() == 0:
        options.append("--allow-run-as-root")
    wrapper = _MPI_RANK.format(log=rank_log_name("$RANK"), failed=FAILED_RANK_FILE, pid=RANK_PID_FILE)
    return [mpirun, *options, "/bin/sh", "-c", wrapper, "runyard-rank", *argv]


def abort_on_error(argv: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    """A Python command line (``python SCRIPT|-m MODULE|-c CODE ...``) as ``python -m mpi4py
    ...`` when that Python has mpi4py, for mpirun: an uncaught exception or a non-zero exit in
    one rank then calls MPI_Abort, which ends every rank. Run plainly, mpi4py finalizes MPI at
    exit, and the failing rank waits in MPI_Finalize for ranks that may never get there."""
    if len(argv) < 2 or not Path(argv[0]).name.startswith("python") or (
            argv[1].startswith("-") and argv[1] not in ("-m", "-c")):
        return argv
    try:
        found = subprocess.run([argv[0], "-c", _HAS_MPI4PY], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return argv
    return [argv[0], "-m", "mpi4py", *argv[1:]] if found.returncode == 0 else argv


def failed_rank_message(rank: int, count: int, code: int) -> str:
    """What a rank's failure under mpirun says: which rank, its exit code, where its output is."""
    from ..distributed import rank_log_name  # its pydantic models: not for every supervisor
    how = f"exited with code {code}"
    if code > 128:  # the shell's code for a command killed by signal code - 128
        try:
            how += f" (killed by {signal.Signals(code - 128).name})"
        except ValueError:
            pass
    output = "logs/driver.log" if rank == 0 else f"logs/{rank_log_name(rank)}"
    return f"rank {rank} of {count} {how}; its output is in {output}"


def take_failed_rank(logs_dir: Path) -> tuple[int, int] | None:
    """The rank under mpirun that failed first and its exit code, as its wrapper recorded them
    in ``logs_dir``; the record is removed, with the process ids of ranks killed before their
    wrapper could remove them. None when no rank failed on its own."""
    for pid in logs_dir.glob(f"{RANK_PID_FILE}.*"):
        pid.unlink(missing_ok=True)
    path = logs_dir / FAILED_RANK_FILE
    try:
        rank, code = path.read_text().split()
        path.unlink()
    except (OSError, ValueError):
        return None
    return int(rank), int(code)


def main(args: list[str]) -> int:
    """The entry point a container runs: the ranks of ``PLAN_JSON``, ended on SIGTERM."""
    if len(args) < 4 or args[2] != "--":
        print("usage: python -m runyard.compute._ranks PLAN_JSON LOGS_DIR -- ARGV...", file=sys.stderr)
        return 2
    plan, logs_dir, argv = json.loads(args[0]), Path(args[1]), args[3:]
    sys.stdout.flush()
    mpirun = shutil.which("mpirun") if plan.get("framework") == "mpi" else None
    if mpirun:
        env = {**os.environ, **mpi_env(logs_dir)}
        argv = abort_on_error(argv, env, Path.cwd())
        procs = [spawn(mpirun_argv(mpirun, int(plan["process_count"]), argv, cancel_grace_s()), env, Path.cwd(), None,
                       parent_death_signal=signal.SIGTERM)]
    else:
        if plan.get("framework") == "mpi":
            print("runyard: no mpirun in this image; the ranks start without an MPI runtime "
                  "(install Open MPI in the environment's image for MPI programs)", flush=True)
        procs = start_ranks(plan, argv, dict(os.environ), Path.cwd(), logs_dir, None)
    grace = cancel_grace_s()
    signal.signal(signal.SIGTERM, lambda *_: stop_all(procs, grace, logs_dir if mpirun else None))
    code = wait_all(procs, float("inf"))
    failed = take_failed_rank(logs_dir) if mpirun else None
    if failed is not None:  # mpirun's own code says only that the job was stopped
        rank, code = failed
        print(f"runyard: {failed_rank_message(rank, int(plan['process_count']), code)}; "
              f"the other ranks were stopped", flush=True)
    return 128 - code if code is not None and code < 0 else (code or 0)  # killed by signal N: 128 + N


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
