"""A ``runyard server`` for tests: a real subprocess on a free loopback port."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_kept_for_a_restart() -> int:
    """A free port below the kernel's ephemeral range, for a server that is stopped and started
    again on the same address: a port from ``free_port()`` (the ephemeral range) may be handed
    to another test's server, or a client's socket, while ours is down (the CI runs shards side
    by side), and the jobs that hold the address would then talk to a stranger."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(20000, low), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between 20000 and {low}")


def server_env() -> dict[str, str]:
    """This process's variables without a token (and without what R sets for an embedded
    Python: the R tests start servers too)."""
    from runyard.compute.local import child_python_environment
    env = child_python_environment()
    env.pop("RUNYARD_TOKEN", None)
    return env


def start_server(store_url: str, artifacts: Path, log: Path, token: str | None = None, port: int | None = None):
    """``runyard server`` on ``port`` (a free one by default); (its process, its URL)."""
    port = port or free_port()
    args = ["server", "--store", store_url, "--artifacts", str(artifacts), "--port", str(port), "--name", "served"]
    return start_command(args + (["--token", token] if token else []), port, log)


def start_command(args: list[str], port: int, log: Path, cwd: Path | None = None):
    """``runyard ARGS`` serving on ``port``, once it answers; (its process, its URL)."""
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "runyard.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                                env=server_env(), cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"runyard {args[0]} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if requests.get(f"{url}/openapi.json", timeout=5).status_code == 200:
                    time.sleep(0.2)  # the server answering may be another's, ours failing to bind
                    if proc.poll() is None:
                        return proc, url
            except requests.RequestException:  # not listening yet, or too busy to answer yet
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"runyard {args[0]} did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.1)
    except BaseException:  # never leave a server behind that nobody will stop
        stop_server(proc)
        raise


def served_on_postgres(postgres, folder: Path, token: str | None = None):
    """A server on a fresh database of ``postgres``, its files in ``folder``; yields its URL
    (a generator for pytest fixtures: the server stops when the fixture ends)."""
    import uuid
    store_url = postgres.create_database(f"srv_{uuid.uuid4().hex[:12]}")
    proc, url = start_server(store_url, folder / "artifacts", folder / "server.log", token=token)
    try:
        yield url
    finally:
        stop_server(proc)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
