"""The forkserver a pipeline driver starts its step supervisors from: each request is a
detached process running a module as ``__main__``, its output in the log named, and the
forkserver ends with the process that made it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

MODULE = """\
import os, sys
if __name__ == "__main__":
    print("argv", sys.argv[1:], "session leader", os.getsid(0) == os.getpid(), flush=True)
    print("token", os.environ.get("RUNYARD_TOKEN"), flush=True)
    sys.exit(int(sys.argv[2]))
"""


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_each_request_is_a_detached_process_running_the_module(tmp_path, monkeypatch):
    (tmp_path / "forked_probe.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    from runyard.compute.local import Forkserver
    server = Forkserver(["forked_probe"])
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    workspace = SimpleNamespace(address="/some/ws", token="t0k", _local_folder=lambda what: jobs)
    pids = [server.start("forked_probe", workspace, str(code), tmp_path / f"log{code}.txt") for code in (0, 3)]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    for code in (0, 3):
        log = tmp_path / f"log{code}.txt"
        _wait_for(lambda: "token" in (log.read_text() if log.exists() else ""))
        assert f"argv ['/some/ws', '{code}'] session leader True" in log.read_text()
        assert "token t0k" in log.read_text()
    # reaped by the forkserver: no zombies left behind under it
    _wait_for(lambda: all(not Path(f"/proc/{pid}").exists() for pid in pids))


def test_the_forkserver_ends_with_its_parent(tmp_path):
    code = textwrap.dedent("""
        import sys
        from runyard.compute.local import Forkserver
        print(Forkserver([]).pid, flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[-1])
    _wait_for(lambda: not Path(f"/proc/{pid}").exists() or
              Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")
