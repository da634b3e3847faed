"""The runyard command, run as a user runs it: a separate process, text and JSON out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runyard import Run, Workspace


def runyard(*args: str, cwd: Path, timeout: float = 180, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.fixture
def cli_project(tmp_path: Path, project) -> Path:
    folder = project({
        "train.py": """
            import sys
            from runyard import Run
            run = Run.get_context()
            run.log("args", " ".join(sys.argv[1:]))
            for i in range(3):
                run.log("loss", 1.0 / (i + 1))
            open("outputs/model.txt", "w").write("weights")
            print("trained with", sys.argv[1:])
        """,
        "fail.py": "raise SystemExit('bad data: column x missing')\n",
        "sleep.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n",
        "requirements.txt": "six==1.16.0\n",
    }, name="proj")
    result = runyard("init", ".", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert (folder / ".runyard" / "config.yaml").is_file()
    return folder


def test_init_twice_reuses_the_workspace(cli_project: Path):
    result = runyard("init", ".", cwd=cli_project)
    assert result.returncode == 0
    assert "Workspace exists" in result.stdout


def test_submit_streams_output_and_prints_metrics(cli_project: Path):
    result = runyard("run", "submit", "train.py", "--", "--alpha", "0.5", cwd=cli_project)
    assert result.returncode == 0, result.stderr
    assert "trained with ['--alpha', '0.5']" in result.stdout
    assert "Status: Completed" in result.stdout
    assert "loss" in result.stdout and "outputs/model.txt" in result.stdout
    run = next(Workspace.get(cli_project).experiments["default"].get_runs())
    assert run.get_metrics()["args"] == "--alpha 0.5"


def test_detached_run_then_list_show_logs_metrics_download(cli_project: Path, tmp_path: Path):
    submitted = runyard("run", "submit", "--detach", "-e", "exp1", "-t", "team=a", "train.py", cwd=cli_project)
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.strip()
    follow = runyard("run", "logs", "-f", run_id, cwd=cli_project)
    assert "trained with []" in follow.stdout

    listed = json.loads(runyard("run", "list", "--json", "--tag", "team=a", cwd=cli_project).stdout)
    assert [r["runId"] for r in listed] == [run_id]
    assert listed[0]["status"] == "Completed"
    assert json.loads(runyard("run", "list", "--json", "--tag", "team=b", cwd=cli_project).stdout) == []

    shown = json.loads(runyard("run", "show", run_id, "--json", cwd=cli_project).stdout)
    assert shown["status"] == "Completed" and shown["exitCode"] == 0 and shown["snapshotId"]
    text = runyard("run", "show", run_id, cwd=cli_project).stdout
    assert run_id in text and "Completed" in text

    metrics = json.loads(runyard("run", "metrics", run_id, "--json", cwd=cli_project).stdout)
    assert metrics["loss"] == [1.0, 0.5, 1 / 3]

    out = tmp_path / "downloaded"
    download = runyard("run", "download", run_id, "--prefix", "outputs/", "-o", str(out), cwd=cli_project)
    assert download.returncode == 0, download.stderr
    assert (out / "outputs" / "model.txt").read_text() == "weights"
    again = runyard("run", "download", run_id, "--json", "-o", str(tmp_path / "all"), cwd=cli_project)
    written = json.loads(again.stdout)
    assert str(tmp_path / "all" / "outputs" / "model.txt") in written
    assert str(tmp_path / "all" / "logs" / "driver.log") in written
    assert all(Path(path).is_file() for path in written)


def test_failed_run_exits_1_with_the_error(cli_project: Path):
    result = runyard("run", "submit", "fail.py", cwd=cli_project)
    assert result.returncode == 1
    assert "bad data: column x missing" in result.stdout
    listed = json.loads(runyard("run", "list", "--json", "--status", "Failed", cwd=cli_project).stdout)
    assert len(listed) == 1


def test_cancel_stops_a_detached_run(cli_project: Path, wait_for):
    run_id = runyard("run", "submit", "--detach", "sleep.py", cwd=cli_project).stdout.strip()
    ws = Workspace.get(cli_project)
    wait_for(lambda: "sleeping" in Run.get(ws, run_id).get_log(), what="the script to start")
    result = runyard("run", "cancel", run_id, cwd=cli_project)
    assert result.returncode == 0, result.stderr
    assert f"{run_id}: Canceled" in result.stdout
    assert Run.get(ws, run_id).get_status() == "Canceled"


def test_bad_input_exits_2_and_records_nothing(cli_project: Path):
    missing = runyard("run", "submit", "nope.py", cwd=cli_project)
    assert missing.returncode == 2
    assert "script 'nope.py' does not exist" in missing.stderr
    target = runyard("run", "submit", "-c", "gpu-cluster", "train.py", cwd=cli_project)
    assert target.returncode == 2
    assert "'gpu-cluster'" in target.stderr and "local" in target.stderr
    assert Workspace.get(cli_project)._store.list_runs() == []


def test_unknown_run_exits_3(cli_project: Path):
    result = runyard("run", "show", "no_such_run", cwd=cli_project)
    assert result.returncode == 3
    assert "no_such_run" in result.stderr


def test_no_workspace_exits_3_with_the_fix(tmp_path: Path):
    result = runyard("run", "list", cwd=tmp_path)
    assert result.returncode == 3
    assert "runyard init" in result.stderr


def test_job_file_error_names_file_line_and_field(cli_project: Path):
    (cli_project / "job.yml").write_text("type: command\ncode: .\ncommand: python train.py\nlimits:\n  timeout: soon\n")
    result = runyard("job", "submit", "-f", "job.yml", cwd=cli_project)
    assert result.returncode == 2
    assert "job.yml" in result.stderr and "line 5" in result.stderr and "limits.timeout" in result.stderr


def test_job_submit_runs_the_command(cli_project: Path):
    (cli_project / "job.yml").write_text(
        "command: python train.py --lr ${{inputs.lr}}\ninputs:\n  lr: 0.01\nexperiment_name: jobs\n")
    result = runyard("job", "submit", "-f", "job.yml", cwd=cli_project)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "trained with ['--lr', '0.01']" in result.stdout
    assert list(Workspace.get(cli_project).experiments) == ["jobs"]


def test_environments_register_list_show_build(cli_project: Path):
    registered = runyard("env", "register", "-f", "requirements.txt", "--name", "six", cwd=cli_project)
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.startswith("six:1 ")
    listed = json.loads(runyard("env", "list", "--json", cwd=cli_project).stdout)
    assert [(e["name"], e["version"]) for e in listed] == [("six", 1)]
    shown = json.loads(runyard("env", "show", "six:1", "--json", cwd=cli_project).stdout)
    assert shown["python"]["conda_dependencies"]["pip_packages"] == ["six==1.16.0"]
    built = runyard("env", "build", "six", cwd=cli_project)
    assert built.returncode == 0, built.stderr
    assert "six (" in built.stdout
    again = runyard("env", "build", "six", cwd=cli_project)
    assert "cached" in again.stdout
    run = runyard("run", "submit", "--env", "six:1", "train.py", cwd=cli_project)
    assert run.returncode == 0, run.stderr
    assert "cached at" in run.stdout


def test_compute_list(cli_project: Path):
    targets = json.loads(runyard("compute", "list", "--json", cwd=cli_project).stdout)
    assert targets == [{"name": "local", "type": "local"}]


def on_a_terminal(tmp_path: Path) -> dict:
    """The environment of a runyard whose stderr counts as a terminal (rich's TTY_COMPATIBLE), with
    an empty environment cache so environments are really built."""
    return {**os.environ, "TTY_COMPATIBLE": "1", "RUNYARD_CACHE_DIR": str(tmp_path / "fresh-cache")}


def screen_text(stderr: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stderr).replace("\r", "\n")


def test_snapshot_progress_bar_on_a_terminal(cli_project: Path, tmp_path: Path):
    (cli_project / "data.bin").write_bytes(os.urandom(21 * 1024 * 1024))
    shown = runyard("run", "submit", "train.py", cwd=cli_project, env=on_a_terminal(tmp_path))
    assert shown.returncode == 0, shown.stderr
    screen = screen_text(shown.stderr)
    assert "Snapshot" in screen and "/44.0 MB" in screen  # hashed, then zipped: twice 22 MB
    piped = runyard("run", "submit", "train.py", cwd=cli_project)
    assert piped.returncode == 0 and "Snapshot" not in piped.stderr


def test_env_build_shows_steps_packages_and_time(cli_project: Path, tmp_path: Path):
    built = runyard("env", "build", "-f", "requirements.txt", cwd=cli_project, env=on_a_terminal(tmp_path))
    assert built.returncode == 0, built.stderr
    final = [line for line in screen_text(built.stderr).splitlines() if " steps, " in line][-1]
    match = re.search(r"2/2 steps, (\d+) resolved, (\d+) installed (\d+:\d\d:\d\d)", final)
    assert match, final
    assert int(match.group(2)) >= 2 and int(match.group(1)) >= int(match.group(2))  # six and runyard's client


def test_submit_shows_a_preparing_line_while_the_environment_builds(cli_project: Path, tmp_path: Path):
    (cli_project / "job.yml").write_text("command: python train.py\nenvironment: env.yml\n")
    (cli_project / "env.yml").write_text("name: prep\nrequirements_file: requirements.txt\n")
    for command in (["run", "submit", "--env-file", "requirements.txt", "train.py"], ["job", "submit", "-f", "job.yml"]):
        result = runyard(*command, cwd=cli_project, env=on_a_terminal(tmp_path / command[0]))
        assert result.returncode == 0, result.stderr
        lines = [line for line in screen_text(result.stderr).splitlines() if line.startswith("Preparing ")]
        assert lines, result.stderr
        assert any(re.match(r"Preparing \d+:\d\d  \S", line) for line in lines), lines  # elapsed, build line
        assert "Building environment" in result.stdout and "trained with" in result.stdout


def _ctrl_c_as_on_a_terminal() -> None:
    """SIGINT back to its default in the CLI's process: a test suite started in the background
    by a shell (``make test &``) inherits SIGINT ignored, and Python then keeps ignoring it."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_streaming(cli_project: Path, wait_for) -> tuple[subprocess.Popen, Run]:
    """``runyard run submit sleep.py`` following its run, once the script prints."""
    proc = subprocess.Popen([sys.executable, "-m", "runyard.cli", "run", "submit", "sleep.py"], cwd=cli_project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"}, preexec_fn=_ctrl_c_as_on_a_terminal)
    ws = Workspace.get(cli_project)
    run = wait_for(lambda: next(iter(ws.experiments["default"].get_runs()), None)
                   if "default" in ws.experiments else None, what="the run to be recorded")
    wait_for(lambda: "sleeping" in run.get_log(), what="the script to start")
    return proc, run


def communicate(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """``proc.communicate``; a CLI that does not end in time is made to print where each of its
    threads was (faulthandler, on SIGABRT) and the test fails with that."""
    import signal
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"the CLI did not end within {timeout} s; its threads then:\n{err}\n{out}")


def test_a_followed_run_that_is_canceled_exits_4(cli_project: Path, wait_for):
    proc, run = start_streaming(cli_project, wait_for)
    run.cancel()
    out, err = communicate(proc, 60)
    assert proc.returncode == 4, out + err
    assert "Status: Canceled" in out


def test_ctrl_c_while_following_exits_130_and_the_run_goes_on(cli_project: Path, wait_for):
    import signal
    proc, run = start_streaming(cli_project, wait_for)
    proc.send_signal(signal.SIGINT)
    out, err = communicate(proc, 60)
    assert proc.returncode == 130, out + err
    assert f"Stopped following; run {run.id} goes on" in err
    assert f"runyard run cancel {run.id}" in err
    assert run.get_status() == "Running"
    run.cancel()
    assert run.wait_for_completion(raise_on_error=False, timeout=30)["status"] == "Canceled"


def test_run_partitions_shows_a_parallel_steps_table_and_its_failed_traceback(cli_project: Path, tmp_path: Path):
    from parallel_runs import partitioned_run
    run = partitioned_run(Workspace.get(cli_project), tmp_path)
    wide = {**os.environ, "COLUMNS": "250"}
    text = runyard("run", "partitions", run.id, cwd=cli_project, env=wide)
    assert text.returncode == 0, text.stderr
    assert f"Mini batches of {run.id}: 2 Succeeded, 1 Failed, 0 NotRun" in text.stdout
    failed_line = next(line for line in text.stdout.splitlines() if "store=2" in line)
    assert "Failed" in failed_line and "ValueError: no sales for store 2" in failed_line
    assert "Traceback" not in text.stdout  # the table shows the error's first line only

    failed = json.loads(runyard("run", "partitions", run.id, "--status", "Failed", "--json", cwd=cli_project).stdout)
    assert [(r["partition"], r["status"], r["tries"], r["items"]) for r in failed] == [({"store": "2"}, "Failed", 1, 2)]
    assert "check_sales" in failed[0]["traceback"] and "no sales for store 2" in failed[0]["traceback"]
    succeeded = json.loads(runyard("run", "partitions", run.id, "--status", "Succeeded", "--json",
                                   cwd=cli_project).stdout)
    assert [r["partition"]["store"] for r in succeeded] == ["1", "3"]

    bad = runyard("run", "partitions", run.id, "--status", "Done", cwd=cli_project)
    assert bad.returncode == 2 and "'Done' is not one of 'Succeeded', 'Failed', 'NotRun'" in bad.stderr
    plain = runyard("run", "submit", "--detach", "train.py", cwd=cli_project).stdout.strip()
    Run.get(Workspace.get(cli_project), plain).wait_for_completion()
    not_parallel = runyard("run", "partitions", plain, cwd=cli_project)
    assert not_parallel.returncode == 2
    assert f"run {plain} keeps no partition table: it is not a ParallelRunStep's run" in not_parallel.stderr
