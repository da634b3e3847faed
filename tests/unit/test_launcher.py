"""The launcher that forks runyard's detached processes: what a started process gets, when
a launcher is stale, and what it refuses. Each test drives real launchers of a copy of the
runyard package (with a probe module added) in a folder of its own."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import runyard
from runyard.compute import _launcher
from runyard.compute.local_env import submitting_interpreter

PROBE = """\
import json, os, re, sys
if __name__ == "__main__":
    status = open("/proc/self/status").read()
    print(json.dumps({
        "argv": sys.argv[1:], "pid": os.getpid(), "ppid": os.getppid(),
        "session_leader": os.getsid(0) == os.getpid(), "cwd": os.getcwd(), "path0": sys.path[0],
        "umask": int(re.search(r"^Umask:\\s*([0-7]+)$", status, re.M).group(1), 8),
        "mark": os.environ.get("RUNYARD_TEST_MARK"), "runyard": sys.modules["runyard"].__file__,
    }), flush=True)
    sys.exit(int(sys.argv[1]))
"""
NOBODY = 65534


@pytest.fixture
def launchers(tmp_path, monkeypatch):
    """A copy of the runyard package with ``runyard._probe``; the launchers of this test listen in
    a short folder of its own (a socket's path has at most 107 bytes) and are stopped after it."""
    package = tmp_path / "pkg" / "runyard"
    shutil.copytree(Path(runyard.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "_probe.py").write_text(PROBE)
    monkeypatch.setattr(_launcher, "_PACKAGE", package)
    folder = Path(tempfile.mkdtemp(prefix="ry-"))
    monkeypatch.setenv(_launcher.ENV_FOLDER, str(folder))
    monkeypatch.delenv(_launcher.ENV_SWITCH, raising=False)
    yield package, folder
    for pid in _launcher.stop_launchers(folder):
        _wait_for(lambda: _gone(pid))
    shutil.rmtree(folder, ignore_errors=True)


def _env(package: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(package.parent), **extra}


def _probe(package: Path, work: Path, code: int = 0, **extra: str) -> tuple[int | None, dict | None, Path]:
    """Start ``runyard._probe`` through the launcher; its pid and what it printed."""
    work.mkdir(exist_ok=True)
    log = work / f"probe-{time.monotonic_ns()}.log"
    pid = _launcher.start(submitting_interpreter(), "runyard._probe", [str(code)], _env(package, **extra),
                          str(work), log)
    if pid is None:
        return None, None, log
    _wait_for(lambda: log.exists() and log.read_text().endswith("\n"))
    return pid, json.loads(log.read_text().splitlines()[-1]), log


def _launcher_pids(folder: Path) -> dict[str, int]:
    """name -> pid of the launchers that say they are ready in their logs."""
    found = {}
    for log in folder.glob("*.log"):
        for line in log.read_text().splitlines():
            if ", ready after" in line:
                found[log.stem] = int(line.split("pid ")[1].split(",")[0])
    return found


def _wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:  # no such process (any more)
        return True


def _raw_request(path: Path, payload: bytes) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(path))
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        return json.loads(conn.makefile("rb").readline())


def _framed(message) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


def test_a_started_process_is_what_a_new_interpreter_would_be(launchers, tmp_path):
    package, folder = launchers
    first, seen, _ = _probe(package, tmp_path / "jobs", 3, RUNYARD_TEST_MARK="first")  # starts the launcher
    old_umask = os.umask(0o027)
    try:
        second, again, _ = _probe(package, tmp_path / "jobs", 0, RUNYARD_TEST_MARK="second")
    finally:
        os.umask(old_umask)
    [launcher] = _launcher_pids(folder).values()
    assert first == seen["pid"] and second == again["pid"] and first != second
    # the launcher's child in a session of its own, not this process's
    assert seen["ppid"] == again["ppid"] == launcher != os.getpid() and again["session_leader"]
    assert again["argv"] == ["0"] and again["runyard"].startswith(str(package))
    assert again["cwd"] == again["path0"] == str(tmp_path / "jobs")
    assert (seen["umask"], again["umask"]) == (old_umask, 0o027)
    # each request's own variables: none kept from the request that started the launcher
    assert (seen["mark"], again["mark"]) == ("first", "second")
    assert "RUNYARD_TEST_MARK" not in Path(f"/proc/{launcher}/environ").read_text()
    assert sorted(p.suffix for p in folder.iterdir()) == [".lock", ".log", ".sock"]
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)
    assert oct((folder / f"{_launcher_pids(folder).popitem()[0]}.sock").stat().st_mode & 0o777) == oct(0o600)


def test_a_stale_launcher_is_stopped_and_not_used(launchers, tmp_path):
    package, folder = launchers
    _, before, _ = _probe(package, tmp_path / "jobs")
    stale = before["ppid"]
    edited = package / "compute" / "_supervisor.py"
    edited.write_text(edited.read_text() + "\n")  # the checkout was edited
    _, after, _ = _probe(package, tmp_path / "jobs")
    assert after["ppid"] != stale
    _wait_for(lambda: _gone(stale))  # the new launcher stopped it
    assert list(_launcher_pids(folder).values()) == [after["ppid"]]
    assert len(list(folder.iterdir())) == 3  # the new one's socket, lock and log


def test_a_launcher_exits_when_idle(launchers, tmp_path, monkeypatch):
    package, folder = launchers
    monkeypatch.setenv(_launcher.ENV_IDLE, "1")
    _, seen, _ = _probe(package, tmp_path / "jobs")
    _wait_for(lambda: _gone(seen["ppid"]), timeout=20)
    assert list(folder.iterdir()) == []  # its socket, lock and log


def test_off_when_runyard_launcher_is_0(launchers, tmp_path, monkeypatch):
    package, folder = launchers
    monkeypatch.setenv(_launcher.ENV_SWITCH, "0")
    pid, _, _ = _probe(package, tmp_path / "jobs")
    assert pid is None and list(folder.iterdir()) == []


def test_a_folder_others_may_enter_is_not_used(launchers, tmp_path, caplog):
    package, folder = launchers
    folder.chmod(0o755)
    pid, _, _ = _probe(package, tmp_path / "jobs")
    assert pid is None and list(folder.iterdir()) == []
    assert "mode 0700" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_folder_or_socket_of_another_user_is_not_used(launchers, tmp_path, caplog):
    package, folder = launchers
    _, seen, _ = _probe(package, tmp_path / "jobs")
    [sock] = folder.glob("*.sock")
    os.chown(sock, NOBODY, NOBODY)
    assert _probe(package, tmp_path / "jobs")[0] is None
    assert f"{sock}: it is not a socket of uid 0" in caplog.text
    os.chown(sock, 0, 0)
    os.chown(folder, NOBODY, NOBODY)
    assert _probe(package, tmp_path / "jobs")[0] is None
    assert "and it is a folder of uid 65534" in caplog.text
    os.chown(folder, 0, 0)
    assert _probe(package, tmp_path / "jobs")[1]["ppid"] == seen["ppid"]


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another user needs root")
def test_a_connection_of_another_user_is_refused(launchers, tmp_path):
    """Another user cannot reach the socket (a private folder, mode 0600); and if a link and a
    mode let it, the launcher still refuses it by its uid."""
    package, folder = launchers
    _, seen, _ = _probe(package, tmp_path / "jobs")
    [sock] = folder.glob("*.sock")
    open_door = Path(tempfile.mkdtemp(prefix="ry-open-"))
    try:
        open_door.chmod(0o755)
        os.link(sock, open_door / "s")
        request = _framed({"kind": "start", "protocol": 1, "name": sock.stem, "module": "runyard._probe",
                           "argv": ["0"], "env": {}, "cwd": "/", "log": str(tmp_path / "nobody.log"), "umask": 0})
        client = textwrap.dedent("""\
            import socket, sys
            c = socket.socket(socket.AF_UNIX)
            c.connect(sys.argv[1])
            try:
                c.sendall(bytes.fromhex(sys.argv[2]))
            except BrokenPipeError:  # refused before it was read: the answer came first
                pass
            print(c.makefile().readline())
            """)
        python = shutil.which("python3", path=os.defpath) or sys.executable  # one that user may run

        def connect_as_nobody(path: Path) -> subprocess.CompletedProcess:
            return subprocess.run([python, "-c", client, str(path), request.hex()], user=NOBODY, group=NOBODY,
                                  extra_groups=[], cwd="/", capture_output=True, text=True, timeout=60)
        denied = connect_as_nobody(sock)
        assert "PermissionError" in denied.stderr
        sock.chmod(0o666)
        refused = connect_as_nobody(open_door / "s")
        assert json.loads(refused.stdout) == {"error": "uid 65534 may not use this launcher"}, refused.stderr
    finally:
        sock.chmod(0o600)
        shutil.rmtree(open_door)
    assert not (tmp_path / "nobody.log").exists()
    assert _probe(package, tmp_path / "jobs")[1]["ppid"] == seen["ppid"]  # and serves on


def test_garbage_requests_are_refused(launchers, tmp_path):
    package, folder = launchers
    _, seen, _ = _probe(package, tmp_path / "jobs")
    [sock] = folder.glob("*.sock")
    good = {"kind": "start", "protocol": 1, "name": sock.stem, "module": "runyard._probe", "argv": ["0"],
            "env": {}, "cwd": str(tmp_path), "log": str(tmp_path / "garbage.log"), "umask": 0o22}
    refusals = {
        b"GET / HTTP/1.0\r\n\r\n": "a request of",
        struct.pack(">I", 5) + b"{nope": "unreadable request",
        struct.pack(">I", 100) + b"{}": "the connection closed mid-request",
        _framed(["start"]): "not a runyard launcher request",
        _framed({**good, "protocol": 2}): "not a runyard launcher request",
        _framed({**good, "name": "0-0"}): "the request is for launcher '0-0'",
        _framed({**good, "kind": "exec"}): "unknown kind 'exec'",
        _framed({**good, "module": "os"}): "is not a runyard module",
        _framed({**good, "module": "runyard._probe; import os"}): "is not a runyard module",
        _framed({**good, "argv": "0"}): "argv must be a list of strings",
        _framed({**good, "env": {"A": 1}}): "env must map variable names to strings",
        _framed({**good, "env": {"A=B": "1"}}): "env must map variable names to strings",
        _framed({**good, "cwd": "jobs"}): "cwd must be an absolute path",
        _framed({**good, "umask": 0o1000}): "umask must be an integer",
    }
    for payload, reason in refusals.items():
        reply = _raw_request(sock, payload)
        assert reason in reply.get("error", ""), (payload, reply)
    assert not (tmp_path / "garbage.log").exists()
    assert _probe(package, tmp_path / "jobs")[1]["ppid"] == seen["ppid"]  # and serves on


def test_a_request_too_long_is_refused_at_once(launchers, tmp_path, caplog):
    package, folder = launchers
    caplog.set_level(logging.INFO, logger=_launcher.__name__)
    _, seen, _ = _probe(package, tmp_path / "jobs")
    started = time.monotonic()
    assert _probe(package, tmp_path / "jobs", HUGE="x" * (5 << 20))[0] is None  # an interpreter then
    assert time.monotonic() - started < 10
    assert "the launcher refused: unreadable request: a request of" in caplog.text
    assert _probe(package, tmp_path / "jobs")[1]["ppid"] == seen["ppid"]  # and serves on


def test_a_process_whose_pid_was_not_taken_does_not_run(launchers, tmp_path):
    """The submitter that gets no pid starts an interpreter itself: the forked process goes on
    only once told to, so a run never gets two supervisors."""
    package, folder = launchers
    _probe(package, tmp_path / "jobs")
    [sock] = folder.glob("*.sock")
    log = tmp_path / "unstarted.log"
    request = {"kind": "start", "protocol": 1, "name": sock.stem, "module": "runyard._probe", "argv": ["0"],
               "env": {}, "cwd": str(tmp_path), "log": str(log), "umask": 0o22}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(sock))
        conn.sendall(_framed(request))
        pid = json.loads(conn.makefile("rb").readline())["pid"]
    _wait_for(lambda: _gone(pid))
    assert not log.exists()


def test_stop_launchers(launchers, tmp_path):
    package, folder = launchers
    _, seen, _ = _probe(package, tmp_path / "jobs")
    assert _launcher.stop_launchers(folder) == [seen["ppid"]]
    _wait_for(lambda: _gone(seen["ppid"]))
    assert list(folder.iterdir()) == []
