"""``runyard studio`` and ``runyard server`` on a workspace folder: what the studio reads
(live logs by offset, metric names) and does (cancel a run), through the real commands."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests

from runyard import Experiment, ScriptRunConfig, Workspace
from runyard import status as st
from server_service import free_port, server_env, start_command, start_server, stop_server

SLOW_PRINTER = """\
import time
from runyard import Run
run = Run.get_context()
for i in range(400):
    print(f"line {i} — naïve ✓", flush=True)
    run.log("loss", 1.0 / (i + 1))
    time.sleep(0.01)
time.sleep(600)
"""


@pytest.fixture
def project(tmp_path):
    Workspace.create(tmp_path / ".runyard")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(SLOW_PRINTER)
    return tmp_path


def runyard(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=server_env(), timeout=120)


def read_while_running(api: str, run, until: str) -> tuple[list[str], int]:
    """A live view's reads of the run's driver.log until ``until`` shows, the run still running:
    (the texts read, the offset to go on from)."""
    text, offset, deadline = [], 0, time.monotonic() + 120
    while until not in "".join(text):  # read while the run writes
        assert time.monotonic() < deadline, "".join(text)[-500:]
        logs = requests.get(f"{api}/runs/{run.id}/logs", timeout=30).json()
        if any(log["name"] == "driver.log" for log in logs):
            chunk = requests.get(f"{api}/runs/{run.id}/logs/driver.log", params={"offset": offset},
                                 timeout=30).json()
            assert chunk["offset"] == offset
            text.append(chunk["text"])
            offset = chunk["next_offset"]
        time.sleep(0.05)
    assert run.get_status() == st.RUNNING
    return text, offset


def read_the_rest(api: str, run, text: list[str], offset: int) -> str:
    """After the run's end: the rest, once more, all that was read."""
    while True:
        chunk = requests.get(f"{api}/runs/{run.id}/logs/driver.log", params={"offset": offset}, timeout=30).json()
        text.append(chunk["text"])
        if chunk["next_offset"] == offset:
            return "".join(text)
        offset = chunk["next_offset"]


def test_the_studio_follows_a_running_log_and_cancels_the_run(project, tmp_path):
    ws = Workspace.get(project)
    run = Experiment(ws, "live").submit(ScriptRunConfig(str(project / "src"), script="train.py"))
    port = free_port()
    proc, url = start_command(["studio", str(project), "--port", str(port)], port, tmp_path / "studio.log")
    api = f"{url}/api/v1"
    try:
        assert requests.get(f"{api}/workspace", timeout=30).json()["name"] == ws.name
        text, offset = read_while_running(api, run, "line 150 ")
        names = requests.get(f"{api}/runs/{run.id}/metric-names", timeout=30).json()
        assert names[0]["name"] == "loss" and names[0]["kind"] == "scalar" and names[0]["count"] > 0

        canceled = requests.post(f"{api}/runs/{run.id}/cancel", timeout=60)
        assert canceled.status_code == 200, canceled.text
        assert run.wait_for_completion(timeout=120, raise_on_error=False)["status"] == st.CANCELED
        read = read_the_rest(api, run, text, offset)  # nothing lost, nothing twice
        log = (ws._artifacts.run_dir(run.id) / "logs" / "driver.log").read_text()
        assert read == log and "line 150 — naïve ✓\n" in log and "cancel requested" in log
        missing = requests.post(f"{api}/runs/nope_1/cancel", timeout=60)
        assert missing.status_code == 404 and "nope_1" in missing.json()["message"]
    finally:
        run.cancel()
        stop_server(proc)


def test_a_run_on_a_served_workspace_sends_its_log_as_it_grows(project, tmp_path):
    """The job runs on this machine, its workspace is a server's: the supervisor sends the log's
    new bytes while it runs, so the server's live view has them before the run ends."""
    proc, url = start_server(f"sqlite:///{tmp_path}/served.db", tmp_path / "served-files", tmp_path / "server.log")
    api = f"{url}/api/v1"
    run = Experiment(Workspace.get(url), "live").submit(ScriptRunConfig(str(project / "src"), script="train.py"))
    try:
        text, offset = read_while_running(api, run, "line 150 ")
        run.cancel()
        assert run.wait_for_completion(timeout=120, raise_on_error=False)["status"] == st.CANCELED
        read = read_the_rest(api, run, text, offset)
        log = (tmp_path / "served-files" / "runs" / run.id / "logs" / "driver.log").read_text()
        assert read == log and "line 150 — naïve ✓\n" in log and "cancel requested" in log
    finally:
        run.cancel()
        stop_server(proc)


GATED_PIPELINE = """\
type: pipeline
experiment_name: gated
jobs:
  prep:
    type: command
    code: src
    command: python prep.py --out ${{outputs.rows}}
    outputs:
      rows: {}
  train:
    type: command
    code: src
    command: python gate.py --data ${{inputs.rows}}
    inputs:
      rows: ${{parent.jobs.prep.outputs.rows}}
"""


def test_a_pipeline_runs_steps_change_state_as_they_finish(project, tmp_path):
    gate = tmp_path / "open"
    (project / "pipeline.yml").write_text(GATED_PIPELINE)
    (project / "src" / "prep.py").write_text(
        "import argparse, os\np = argparse.ArgumentParser(); p.add_argument('--out')\n"
        "open(os.path.join(p.parse_args().out, 'rows.txt'), 'w').write('1')\n")
    (project / "src" / "gate.py").write_text(
        f"import os, time\nwhile not os.path.exists({str(gate)!r}):\n    time.sleep(0.1)\n")
    submitted = runyard("pipeline", "submit", "-f", "pipeline.yml", "--detach", cwd=project)
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.strip()
    port = free_port()
    proc, url = start_command(["studio", str(project), "--port", str(port)], port, tmp_path / "studio.log")

    def states() -> list[tuple[str, str, list[str]]]:
        answer = requests.get(f"{url}/api/v1/runs/{run_id}/pipeline-steps", timeout=30)
        assert answer.status_code == 200, answer.text
        return [(s["name"], s["status"], s["upstream"]) for s in answer.json()]

    def wait_for(expected, what: str) -> None:
        deadline = time.monotonic() + 120
        while states() != expected:
            assert time.monotonic() < deadline, f"{what}: {states()}"
            time.sleep(0.2)

    try:
        wait_for([("prep", st.COMPLETED, []), ("train", st.RUNNING, ["prep"])], "train never ran")
        gate.touch()
        wait_for([("prep", st.COMPLETED, []), ("train", st.COMPLETED, ["prep"])], "train never finished")
        steps = requests.get(f"{url}/api/v1/runs/{run_id}/pipeline-steps", timeout=30).json()
        assert steps[1]["inputs"] == [{"name": "rows", "output": "rows", "step": "prep"}]
        assert all(s["run_id"] and s["duration_seconds"] > 0 and s["reused_run_id"] is None for s in steps)
        not_a_pipeline = requests.get(f"{url}/api/v1/runs/{steps[0]['run_id']}/pipeline-steps", timeout=30)
        assert not_a_pipeline.status_code == 400 and "not a pipeline run" in not_a_pipeline.json()["message"]
    finally:
        gate.touch()
        stop_server(proc)


def test_the_server_serves_the_workspace_it_finds(project, tmp_path):
    port = free_port()
    proc, url = start_command(["server", "--port", str(port), "--no-scheduler"], port, tmp_path / "server.log",
                              cwd=project / "src")
    try:
        assert requests.get(f"{url}/api/v1/workspace", timeout=30).json()["name"] == Workspace.get(project).name
        busy = runyard("studio", str(project), "--port", str(port))
        assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr and "--port" in busy.stderr
    finally:
        stop_server(proc)
    half = runyard("server", "--store", "sqlite:////tmp/x.db", cwd=project)
    assert half.returncode == 2 and "--store needs --artifacts too" in half.stderr
    nowhere = runyard("studio", cwd=tmp_path.parent)
    assert nowhere.returncode == 3 and "runyard init" in nowhere.stderr
    elsewhere = runyard("studio", "http://127.0.0.1:9/")
    assert elsewhere.returncode == 0 and "serves its studio: http://127.0.0.1:9/" in elsewhere.stdout


def test_the_studio_serves_the_snapshots_a_folders_own_runs_took(project, tmp_path):
    import io
    import zipfile
    ws = Workspace.get(project)
    run = Experiment(ws, "source").start_logging(snapshot_directory=str(project / "src"))
    run.complete()
    snapshot_hash = ws._store.get_run(run.id)["snapshot_hash"]
    assert snapshot_hash and (ws.snapshots_dir / f"{snapshot_hash}.zip").is_file()
    port = free_port()
    proc, url = start_command(["studio", str(project), "--port", str(port)], port, tmp_path / "studio.log")
    try:
        info = requests.get(f"{url}/api/v1/snapshots/{snapshot_hash}", timeout=30)
        assert info.status_code == 200, info.text
        content = requests.get(f"{url}/api/v1/snapshots/{snapshot_hash}/content", timeout=30)
        assert zipfile.ZipFile(io.BytesIO(content.content)).namelist() == ["train.py"]
    finally:
        stop_server(proc)


def test_the_studio_serves_a_parallel_steps_partition_table_a_page_at_a_time(project, tmp_path):
    import json
    from parallel_runs import partitioned_run
    ws = Workspace.get(project)
    step_run = partitioned_run(ws, tmp_path)
    # a table at the scale: 10,000 mini batches, every 1,000th failed
    big = Experiment(ws, "big").start_logging()
    rows = [{"batch_id": f"sales:{i}", "input": "sales", "partition": {"store": str(i)},
             "status": "Failed" if i % 1000 == 7 else "Succeeded", "tries": 1, "duration_s": 0.01, "items": 200,
             "results": 1, "error": None, "traceback": None, "reused_from": None, "models": [], "result_span": [0, 1]}
            for i in range(10_000)]
    (tmp_path / "partitions.json").write_text(json.dumps({"version": 1, "partitions": rows}))
    big.upload_file("parallel_run/partitions.json", str(tmp_path / "partitions.json"))
    big.complete()
    plain = Experiment(ws, "plain").start_logging()
    plain.complete()
    port = free_port()
    proc, url = start_command(["studio", str(project), "--port", str(port)], port, tmp_path / "studio.log")
    api = f"{url}/api/v1"
    try:
        whole = requests.get(f"{api}/runs/{step_run.id}/partitions", timeout=30).json()
        assert whole["counts"] == {"Succeeded": 2, "Failed": 1, "NotRun": 0} and whole["total"] == 3
        assert [r["partition"] for r in whole["rows"]] == [{"store": "1"}, {"store": "2"}, {"store": "3"}]
        failed = requests.get(f"{api}/runs/{step_run.id}/partitions", params={"status": "Failed"}, timeout=30).json()
        assert failed["total"] == 1 and failed["counts"] == whole["counts"]
        assert failed["rows"][0]["error"] == "ValueError: no sales for store 2"
        assert "check_sales" in failed["rows"][0]["traceback"]

        page = requests.get(f"{api}/runs/{big.id}/partitions", params={"offset": 5000, "limit": 100}, timeout=30)
        assert page.status_code == 200 and len(page.content) < 50_000  # a page, not the file
        body = page.json()
        assert body["total"] == 10_000 and body["offset"] == 5000
        assert [r["batch_id"] for r in body["rows"]] == [f"sales:{i}" for i in range(5000, 5100)]
        assert "result_span" not in body["rows"][0]
        failures = requests.get(f"{api}/runs/{big.id}/partitions", params={"status": "Failed", "offset": 8},
                                timeout=30).json()
        assert failures["total"] == 10 and [r["batch_id"] for r in failures["rows"]] == ["sales:8007", "sales:9007"]

        for params, field in [({"status": "Done"}, "query.status"), ({"limit": 0}, "query.limit"),
                              ({"limit": 1001}, "query.limit"), ({"offset": -1}, "query.offset")]:
            refused = requests.get(f"{api}/runs/{big.id}/partitions", params=params, timeout=30)
            assert refused.status_code == 422 and field in refused.json()["message"], (params, refused.text)
        none = requests.get(f"{api}/runs/{plain.id}/partitions", timeout=30)
        assert none.status_code == 404 and "keeps no partition table" in none.json()["message"]
        missing = requests.get(f"{api}/runs/no_such_run/partitions", timeout=30)
        assert missing.status_code == 404 and "no run 'no_such_run'" in missing.json()["message"]
    finally:
        stop_server(proc)
