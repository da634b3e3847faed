"""A Ray cluster for the test session, started for real on loopback: a head node and
worker nodes, each a ``ray start --block`` process of its own, so one node can be
killed (its whole process group, as when a machine goes away) and the rest stopped
cleanly at the end.

Several nodes on one machine need ports of their own (the dashboard agent's
especially: without one, the Jobs API cannot read the logs of a job whose driver
runs on that node). The head checks its nodes' health every second, so a killed
node is noticed in a few seconds rather than half a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 180  # make test runs four lanes at once: a node may take minutes to start on two busy cores
# Fast health checks (a killed node is noticed in seconds) and one try at a runtime
# environment that fails to install (Ray's default of three costs half a minute).
CLUSTER_ENV = {"RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3",
               "RAY_health_check_timeout_ms": "1000", "RAY_USAGE_STATS_ENABLED": "0",
               "RUNTIME_ENV_RETRY_TIMES": "1",
               # Ray turns token authentication on by itself where ~/.ray/auth_token exists (left by
               # `ray get-auth-token --generate` or another Ray session of this user); this loopback
               # cluster runs without, whatever the machine's home folder holds
               "RAY_AUTH_MODE": "disabled"}


class RayServiceError(RuntimeError):
    """The cluster could not be started; the message says why."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ray_cli() -> str:
    found = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if found is None:
        raise RayServiceError("the `ray` command is not installed: pip install 'ray[default]' "
                              "(make test installs it with the test extras)")
    return found


def _node_ports() -> list[str]:
    return [f"--dashboard-agent-listen-port={_free_port()}", f"--dashboard-agent-grpc-port={_free_port()}",
            f"--metrics-export-port={_free_port()}", f"--runtime-env-agent-port={_free_port()}",
            f"--node-manager-port={_free_port()}", f"--object-manager-port={_free_port()}"]


class Node:
    def __init__(self, proc: subprocess.Popen, log: Path, resources: dict[str, float]):
        self.proc = proc
        self.log = log
        self.resources = resources

    def kill(self) -> None:
        """Kill the node's every process at once, as a machine that goes away."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        try:  # what the node's processes started and left in its group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass


class LoopbackCluster:
    """``start()`` a head (2 CPUs); ``add_worker()`` more nodes; ``stop()`` them all."""

    def __init__(self, folder: Path, head_cpus: int = 2):
        self.folder = folder
        self.head_cpus = head_cpus
        self.gcs_port = _free_port()
        self.dashboard_port = _free_port()
        self.nodes: list[Node] = []
        self.temp_dirs: list[str] = []
        from runyard.compute.local import child_python_environment
        # Without what R sets for an embedded Python (the R tests start clusters too).
        self.env = {**child_python_environment(), **CLUSTER_ENV}
        self.env.pop("RAY_ADDRESS", None)
        # The nodes' `python` (what a job's entrypoint runs) is this Python, as on a cluster
        # whose nodes run the environment Ray was installed in.
        self.env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), self.env.get("PATH", "")])

    @property
    def address(self) -> str:
        """The Jobs API (dashboard) address, what a RayCluster target takes."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    def _start_node(self, name: str, args: list[str], resources: dict[str, float]) -> Node:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / f"{name}.log"
        # A temp dir per node: nodes of one machine would otherwise share one session folder,
        # and so one runtime_resources folder, where each node's agent builds (and, when the
        # other's build is there, deletes) the same pip environments. Short, for Unix sockets.
        temp_dir = tempfile.mkdtemp(prefix=f"ray-{name}-")
        self.temp_dirs.append(temp_dir)
        argv = [_ray_cli(), "start", "--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1",
                f"--temp-dir={temp_dir}", *args, *_node_ports()]
        if resources:
            argv.append(f"--resources={json.dumps(resources)}")
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env, start_new_session=True, cwd=self.folder)
        node = Node(proc, log, resources)
        self.nodes.append(node)
        return node

    def start(self) -> "LoopbackCluster":
        self._start_node("head", ["--head", f"--port={self.gcs_port}", f"--num-cpus={self.head_cpus}",
                                  "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                                  f"--dashboard-port={self.dashboard_port}",
                                  f"--ray-client-server-port={_free_port()}"], {})
        self._wait(lambda: self._api("/api/version") is not None, "the head's dashboard to answer")
        self._wait(lambda: len(self.alive_nodes()) >= 1, "the head node to register")
        return self

    def add_worker(self, num_cpus: int = 2, resources: dict[str, float] | None = None) -> Node:
        before = len(self.alive_nodes())
        node = self._start_node(f"worker{len(self.nodes)}", [f"--address=127.0.0.1:{self.gcs_port}",
                                                             f"--num-cpus={num_cpus}"], resources or {})
        self._wait(lambda: len(self.alive_nodes()) > before, "the worker node to join")
        return node

    def alive_nodes(self) -> list[dict[str, Any]]:
        answer = self._api("/nodes?view=summary")
        if not answer:
            return []
        return [n for n in answer["data"]["summary"] if (n.get("raylet") or {}).get("state") == "ALIVE"]

    def wait_until_dead(self, count_alive: int, timeout: float = 60) -> None:
        self._wait(lambda: len(self.alive_nodes()) <= count_alive, "the killed node to be marked dead", timeout)

    def _api(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.address + path, timeout=5) as response:
                return json.loads(response.read() or b"null")
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _wait(self, condition, what: str, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            for node in self.nodes:
                if node.proc.poll() is not None and node is self.nodes[0]:
                    raise RayServiceError(f"the Ray head exited with code {node.proc.returncode}:\n"
                                          f"{node.log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n.log.name}\n{n.log.read_text(errors='replace')[-1500:]}"
                                  for n in self.nodes)
                raise RayServiceError(f"timed out after {timeout:g} s waiting for {what}\n{tails}")
            time.sleep(0.5)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM every node at once, then one shared wait (stopping them in turn waited
        up to twice as long at the end of each session)."""
        running = [node for node in self.nodes if node.proc.poll() is None]
        for node in running:
            try:
                os.killpg(node.proc.pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for node in running:
            node.stop(timeout=max(0.1, deadline - time.monotonic()))
        for temp_dir in self.temp_dirs:
            shutil.rmtree(temp_dir, ignore_errors=True)
