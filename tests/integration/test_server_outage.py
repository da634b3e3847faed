"""A workspace server killed in the middle of a burst of metrics and started again a minute
later: the jobs keep training through the outage, every job ends Completed, and every value
they logged is stored exactly once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from runyard import Experiment, ScriptRunConfig, Workspace
from runyard import status as st
from server_service import port_kept_for_a_restart, start_server

TOKEN = "outage-test-token-0123456789"
JOBS = 8
VALUES = 3000
OUTAGE_S = 60
JOB = """\
import os, sys, time
from pathlib import Path
from runyard import Run
run = Run.get_context(allow_offline=False)
Path(sys.argv[2], run.id).touch()
for k in range(int(sys.argv[1])):
    run.log("value", k, step=k)
    if k % 20 == 0:
        time.sleep(0.05)   # about 8 s of logging: the server goes away in the middle of it
print("logged everything", flush=True)
"""


def test_jobs_ride_out_a_minute_without_the_server(tmp_path, project, wait_for):
    folder = tmp_path / "server"
    folder.mkdir()
    store_url = f"sqlite:///{folder}/ws.db"
    proc, url = start_server(store_url, folder / "artifacts", folder / "server.log", token=TOKEN,
                             port=port_kept_for_a_restart())
    ready = tmp_path / "ready"
    ready.mkdir()
    try:
        ws = Workspace.get(url, token=TOKEN)
        src = project({"log_values.py": JOB})
        config = ScriptRunConfig(str(src), script="log_values.py", arguments=[VALUES, str(ready)])
        runs = [Experiment(ws, "outage").submit(config) for _ in range(JOBS)]
        wait_for(lambda: len(list(ready.iterdir())) == JOBS, timeout=180, what="every job to start logging")
        time.sleep(2)  # mid-burst
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = time.monotonic()
        time.sleep(OUTAGE_S)
        assert all(r.id in os.listdir(ready) for r in runs)
        port = int(url.rsplit(":", 1)[1])  # the address the jobs hold
        proc, _url = start_server(store_url, folder / "artifacts", folder / "server-2.log", token=TOKEN, port=port)
        outage = time.monotonic() - killed_at
        for run in runs:
            details = run.wait_for_completion(raise_on_error=False, timeout=300)
            assert details["status"] == st.COMPLETED, (f"{run.id}: {details['error']}\nthe server's log:\n"
                                                       + _tail(folder / "server.log") + _tail(folder / "server-2.log"))
        for run in runs:
            history = run.get_metric_history("value")
            assert [h["value"] for h in history] == list(range(VALUES)), run.id  # none lost, none twice
            assert [h["step"] for h in history] == list(range(VALUES))
            assert "logged everything" in Path(run.download_file("logs/driver.log", tmp_path / f"{run.id}.log")
                                               ).read_text()
        assert outage >= OUTAGE_S
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
