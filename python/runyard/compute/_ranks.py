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
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from ..distributed import process_env, rank_log_name


def start_ranks(plan: dict[str, Any], argv: list[str], env: dict[str, str], cwd: Path, logs_dir: Path,
                output: IO[bytes] | None) -> list[subprocess.Popen]:
    """Every rank of ``plan`` on this machine, rendezvous on loopback; each in a session of its
    own, so its children end with it. An ``OSError`` starting one ends those already started."""
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


def spawn(argv: list[str], env: dict[str, str], cwd: Path, output: IO[bytes] | None) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                            stderr=subprocess.STDOUT, start_new_session=True)


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


def stop_all(procs: list[subprocess.Popen], grace_s: float) -> None:
    """SIGTERM to every process's group, SIGKILL to those still there after ``grace_s``, then
    to anything they left behind."""
    for proc in procs:
        signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    for proc in procs:
        signal_group(proc.pid, signal.SIGKILL)


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


#: run by mpirun as each rank: torch.distributed's variables from Open MPI's, rank 0's output
#: to mpirun's (the run's driver log), every other rank's to its own log
_MPI_RANK = ('export RANK="$OMPI_COMM_WORLD_RANK" WORLD_SIZE="$OMPI_COMM_WORLD_SIZE" '
             'LOCAL_RANK="$OMPI_COMM_WORLD_LOCAL_RANK" LOCAL_WORLD_SIZE="$OMPI_COMM_WORLD_LOCAL_SIZE" '
             'NODE_RANK=0 GROUP_RANK=0 RUNYARD_PROCESS_RANK="$OMPI_COMM_WORLD_RANK" '
             'PMI_RANK="$OMPI_COMM_WORLD_RANK" PMI_SIZE="$OMPI_COMM_WORLD_SIZE"; '
             '[ "$RANK" = 0 ] && exec "$@"; exec "$@" >>"$RUNYARD_LOGS_DIR/{log}" 2>&1')


def mpi_env(logs_dir: Path) -> dict[str, str]:
    """What every rank under mpirun shares: torch.distributed's rendezvous and the logs folder."""
    return {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_ports(1)[0]), "RUNYARD_LOGS_DIR": str(logs_dir)}


def mpirun_argv(mpirun: str, count: int, argv: list[str]) -> list[str]:
    """``argv`` as ``count`` ranks on this machine under Open MPI's ``mpirun``: as many as asked
    whatever the cores (--oversubscribe), unbound, and as root when the job is root's."""
    options = ["-np", str(count), "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        options.append("--allow-run-as-root")
    return [mpirun, *options, "/bin/sh", "-c", _MPI_RANK.format(log=rank_log_name("$RANK")), "runyard-rank", *argv]


def main(args: list[str]) -> int:
    """The entry point a container runs: the ranks of ``PLAN_JSON``, ended on SIGTERM."""
    if len(args) < 4 or args[2] != "--":
        print("usage: python -m runyard.compute._ranks PLAN_JSON LOGS_DIR -- ARGV...", file=sys.stderr)
        return 2
    plan, logs_dir, argv = json.loads(args[0]), Path(args[1]), args[3:]
    sys.stdout.flush()
    mpirun = shutil.which("mpirun") if plan.get("framework") == "mpi" else None
    if mpirun:
        procs = [spawn(mpirun_argv(mpirun, int(plan["process_count"]), argv), {**os.environ, **mpi_env(logs_dir)},
                       Path.cwd(), None)]
    else:
        if plan.get("framework") == "mpi":
            print("runyard: no mpirun in this image; the ranks start without an MPI runtime "
                  "(install Open MPI in the environment's image for MPI programs)", flush=True)
        procs = start_ranks(plan, argv, dict(os.environ), Path.cwd(), logs_dir, None)
    grace = float(os.environ.get("RUNYARD_CANCEL_GRACE_SECONDS", "10"))
    signal.signal(signal.SIGTERM, lambda *_: stop_all(procs, grace))
    code = wait_all(procs, float("inf"))
    return 128 - code if code is not None and code < 0 else (code or 0)  # killed by signal N: 128 + N


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
