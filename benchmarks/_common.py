"""Shared helpers for the runyard benchmarks (not a benchmark itself).

Each ``bench_*.py`` imports this module from its own folder. It knows where the
MLflow peer lives (``setup_peers.sh`` creates ``.peers/mlflow-venv``), how to
call ``peers/mlflow_peer.py`` with that venv's interpreter, how to set up a
scratch folder (workspace, source folder, ``RUNYARD_CACHE_DIR``) and how to
print tables and goal verdicts the same way everywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Sequence

BENCH_DIR = Path(__file__).resolve().parent
TESTS_DIR = BENCH_DIR.parent / "tests"
PEER_SCRIPT = BENCH_DIR / "peers" / "mlflow_peer.py"
PEER_PYTHON = Path(os.environ.get("RUNYARD_BENCH_PEER_PYTHON")
                   or BENCH_DIR / ".peers" / "mlflow-venv" / "bin" / "python")

TRIVIAL_SCRIPT = 'print("hi")\n'


class BrokenRun(Exception):
    """The benchmark could not produce a valid figure (a run failed, data was lost...)."""


# -- arguments and scratch space --------------------------------------------------
def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true",
                   help="fewer repeats / smaller counts: a smoke test that runs in seconds")
    p.add_argument("--workdir", default=None,
                   help="scratch folder for the workspace, sources and (unless RUNYARD_CACHE_DIR is "
                        "set) the environment cache; default: a new temp folder, removed afterwards")
    p.add_argument("--no-peer", action="store_true",
                   help="skip the MLflow peer (its ratios are then reported as NOT MEASURED)")
    p.add_argument("--json", metavar="PATH", default=None,
                   help="also write every figure as JSON to PATH")
    return p


@contextlib.contextmanager
def scratch(workdir: str | None, prefix: str) -> Iterator[Path]:
    """The scratch folder; RUNYARD_CACHE_DIR defaults to ``<scratch>/cache``."""
    created = workdir is None
    folder = Path(tempfile.mkdtemp(prefix=prefix) if created else workdir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("RUNYARD_CACHE_DIR"):
        os.environ["RUNYARD_CACHE_DIR"] = str(folder / "cache")
    try:
        yield folder
    finally:
        if created:
            shutil.rmtree(folder, ignore_errors=True)


def write_trivial_source(folder: Path) -> Path:
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "trivial.py").write_text(TRIVIAL_SCRIPT)
    return src


# -- services: PostgreSQL and HTTP servers ---------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[Any]:
    """A throwaway PostgreSQL server (Debian's binaries, loopback only), the one the tests start
    (``tests/pg_service.py``); ``.create_database(name)`` gives a fresh database's URL.

    Its folder is a new one in the system temp folder, not the scratch folder: as root, the
    cluster runs as the postgres user, which must be able to reach it."""
    sys.path.insert(0, str(TESTS_DIR))
    try:
        from pg_service import PostgresServer
    finally:
        sys.path.remove(str(TESTS_DIR))
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="runyard-bench-pg-")))
    try:
        server.start()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", b"") or b""
        shutil.rmtree(server.folder, ignore_errors=True)
        raise BrokenRun(f"could not start PostgreSQL: {e} {detail.decode(errors='replace')[-1000:]}") from e
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@contextlib.contextmanager
def http_server(argv: Sequence[str], ready_url: str, log: Path, what: str, *,
                env: dict[str, str] | None = None, timeout: float = 120) -> Iterator[subprocess.Popen]:
    """Run a server process (in a session of its own, so its workers stop with it) until the
    block ends; ready once ``ready_url`` answers 200."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise BrokenRun(f"{what} exited with {proc.returncode} before answering:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise BrokenRun(f"{what} did not answer at {ready_url} within {timeout:g} s:\n{_tail(log)}")
            time.sleep(0.1)
        yield proc
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the server's process group, SIGKILL after ``grace``; reaped either way."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # the leader gone, workers may linger
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else ""


# -- the MLflow peer --------------------------------------------------------------
def peer_available() -> bool:
    return PEER_PYTHON.is_file() and os.access(PEER_PYTHON, os.X_OK) and PEER_SCRIPT.is_file()


def peer_env() -> dict[str, str]:
    """The environment for processes of the peer venv (without this interpreter's paths)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def run_peer(subcommand: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """Run ``mlflow_peer.py SUBCOMMAND ARGS`` with the peer venv; its JSON result."""
    cmd = [str(PEER_PYTHON), str(PEER_SCRIPT), subcommand, *args]
    env = peer_env()
    print(f"  peer: {' '.join(cmd[1:])}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise BrokenRun(f"MLflow peer {subcommand} failed (rc={proc.returncode}):\n{tail}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise BrokenRun(f"MLflow peer {subcommand} printed no JSON result: {proc.stdout[-500:]!r}") from e


# -- numbers and printing ---------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if abs(seconds) < 0.0009995:
        return f"{seconds * 1e6:.0f} us"
    if abs(seconds) < 0.009995:
        return f"{seconds * 1000:.2f} ms"
    if abs(seconds) < 0.9995:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(per_s: float | None) -> str:
    return "-" if per_s is None else f"{per_s:,.0f}/s"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def verdict(met: bool | None) -> str:
    return "NOT MEASURED" if met is None else ("MET" if met else "MISSED")


def goal_line(label: str, value: str, goal: str, met: bool | None) -> str:
    return f"  {label:<48} {value:>11}   goal {goal:<12} {verdict(met)}"


def machine_info() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "loadavg_1m": loadavg()}


def loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def load_note(when: str) -> str:
    """A line on how busy the machine is: other processes inflate every wall-clock figure."""
    load, cpus = loadavg(), os.cpu_count() or 1
    if load is None:
        return f"load average ({when}): unknown"
    note = f"load average ({when}): {load:.2f} on {cpus} CPUs"
    if load > 0.5 * cpus:
        note += "  WARNING: other processes compete for the CPUs; figures are inflated"
    return note


def finish(result: dict[str, Any], json_path: str | None) -> None:
    print("\n" + load_note("end"))
    result.setdefault("machine", machine_info())
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {json_path}")


def main_wrapper(fn) -> int:
    """Exit 0 when the benchmark ran (goals missed included), 1 when a run was broken."""
    try:
        fn()
    except BrokenRun as e:
        print(f"\nBROKEN RUN: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
