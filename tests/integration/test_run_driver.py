"""Run seen from the driver: submit, wait, details, metrics, files, tags, cancel, re-attach."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from runyard import Experiment, Run, ScriptRunConfig, Workspace
from runyard import status as st
from runyard.errors import ConfigError, RunNotFoundError

TRAIN = """\
import os, sys
from runyard import Run
run = Run.get_context()
print("training with", sys.argv[1:], flush=True)
print("to stderr", file=sys.stderr, flush=True)
for epoch in range(3):
    run.log("loss", 1.0 / (epoch + 1))
run.log("alpha", float(sys.argv[2]))
run.log("name", "ridge")
os.makedirs("outputs/model", exist_ok=True)
with open("outputs/model/weights.txt", "w") as fh:
    fh.write("w=1")
with open("outputs/summary.json", "w") as fh:
    fh.write('{"ok": true}')
os.symlink("/etc/passwd", "outputs/evil")  # must not become the run's file
os.symlink("summary.json", "outputs/ok")  # kept as a copy of summary.json
"""

# What the driver does with a run once it ended does not depend on where it ran.
local_only = pytest.mark.parametrize("compute_target", ["local"], indirect=True)


@pytest.fixture
def finished(experiment, project, compute_target):
    """One completed run of TRAIN on each target, shared by the read-only checks below."""
    src = project({"train.py": TRAIN})
    run = experiment.submit(ScriptRunConfig(str(src), script="train.py", arguments=["--alpha", 0.25],
                                            compute_target=compute_target), tags={"stage": "dev"})
    output = io.StringIO()
    details = run.wait_for_completion(show_output=True, output=output)
    return run, details, output.getvalue()


def test_submit_returns_a_run_that_completes(finished, experiment):
    run, details, _ = finished
    assert isinstance(run, Run)
    assert run.experiment == experiment
    assert run.get_status() == st.COMPLETED == details["status"]
    assert run.number == 1


def test_show_output_streams_the_scripts_output(finished):
    run, _, output = finished
    assert f"RunId: {run.id}" in output
    assert "training with ['--alpha', '0.25']" in output
    assert "to stderr" in output
    assert "Status: Completed" in output


def test_wait_prints_to_stdout_by_default(experiment, project, capsys):
    src = project({"t.py": "print('hello from the job')\n"})
    experiment.submit(ScriptRunConfig(str(src), script="t.py")).wait_for_completion(show_output=True)
    assert "hello from the job" in capsys.readouterr().out


def test_details(finished, compute_target):
    run, details, _ = finished
    assert details["runId"] == run.id
    assert details["target"] == compute_target
    assert details["exitCode"] == 0
    assert details["error"] is None
    assert details["snapshotId"] and len(details["snapshotId"]) == 64
    assert "environmentHash" in details and details["environmentHash"] is None  # no environment given
    assert details["tags"] == {"stage": "dev"}
    assert details["runDefinition"]["script"] == "train.py"
    assert details["runDefinition"]["arguments"] == ["--alpha", "0.25"]
    times = [datetime.fromisoformat(details[k].replace("Z", "+00:00"))
             for k in ("createdTimeUtc", "startTimeUtc", "endTimeUtc")]
    assert times == sorted(times)
    assert details["durationSeconds"] >= 0
    assert [e["status"] for e in details["statusHistory"]] == [
        "Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"]
    assert "logs/driver.log" in details["logFiles"]


def test_environment_hash_in_details(experiment, project):
    from runyard import Environment
    env = Environment("plain")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    run = experiment.submit(ScriptRunConfig(str(project({"t.py": ""})), script="t.py", environment=env))
    details = run.wait_for_completion()
    assert details["environmentHash"] == env.hash
    assert details["environment"] == {"name": "plain", "version": None, "hash": env.hash}


def test_get_metrics(finished):
    run, _, _ = finished
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1.0 / 3], "alpha": 0.25, "name": "ridge"}
    assert run.get_metrics(name="alpha") == {"alpha": 0.25}
    assert run.get_metrics(name="missing") == {}


def test_files(finished, tmp_path):
    run, _, _ = finished
    names = run.get_file_names()
    assert {"outputs/model/weights.txt", "outputs/summary.json", "logs/driver.log"} <= set(names)
    path = run.download_file("outputs/summary.json", tmp_path / "summary.json")
    assert json.loads(Path(path).read_text()) == {"ok": True}
    into_dir = run.download_file("outputs/model/weights.txt", tmp_path)
    assert Path(into_dir).read_text() == "w=1"
    written = run.download_files(prefix="outputs/", output_directory=tmp_path / "all")
    assert sorted(written) == sorted(str(tmp_path / "all" / n) for n in names if n.startswith("outputs/"))
    assert (tmp_path / "all" / "outputs" / "model" / "weights.txt").read_text() == "w=1"
    flat = run.download_files(prefix="outputs/", output_directory=tmp_path / "flat", append_prefix=False)
    assert sorted(flat) == sorted([str(tmp_path / "flat" / "model" / "weights.txt"), str(tmp_path / "flat" / "ok"),
                                   str(tmp_path / "flat" / "summary.json")])
    assert "training with" in run.get_log()


def test_a_link_out_of_outputs_is_left_out_and_one_inside_kept_as_its_file(finished, tmp_path):
    run, _, _ = finished
    names = run.get_file_names()
    assert "outputs/evil" not in names
    assert "left out outputs/evil: a link" in run.get_log() and "/etc/passwd" in run.get_log()
    ok = Path(run.download_file("outputs/ok", tmp_path / "ok"))
    assert ok.read_text() == '{"ok": true}' and not ok.is_symlink()
    stored = run.workspace._artifacts.run_dir(run.id) / "outputs"
    assert not (stored / "evil").exists() and not (stored / "ok").is_symlink()


@local_only
def test_a_source_folder_link_out_of_it_is_left_out_of_the_snapshot_and_said(experiment, project, compute_target,
                                                                             capsys):
    src = project({"t.py": "import os; print(sorted(os.listdir('.')), open('alias.txt').read())\n", "real.txt": "R"})
    (src / "alias.txt").symlink_to("real.txt")
    (src / "evil").symlink_to("/etc/passwd")
    run = experiment.submit(ScriptRunConfig(str(src), script="t.py", compute_target=compute_target))
    run.wait_for_completion()
    line = "runyard: left out evil: a link to a file outside the source folder (/etc/passwd)"
    assert line in capsys.readouterr().err
    log = run.get_log()
    assert line in log and "['alias.txt', 'logs', 'outputs', 'real.txt', 't.py'] R" in log


@local_only
def test_tags_and_properties(finished):
    run, _, _ = finished
    run.tag("quality", "good")
    run.tag("flag")
    run.set_tags({"stage": "prod", "n": 3})
    assert run.get_tags() == {"stage": "prod", "quality": "good", "flag": None, "n": "3"}
    run.remove_tags(["flag"])
    assert "flag" not in run.get_tags()
    run.add_properties({"dataset": "v1"})
    run.add_properties({"dataset": "v1", "seed": 7})  # same value again: fine
    assert run.get_properties() == {"dataset": "v1", "seed": "7"}
    with pytest.raises(ConfigError, match="properties cannot change"):
        run.add_properties({"dataset": "v2"})
    assert run.get_properties()["dataset"] == "v1"


def test_get_runs_filters(experiment, project):
    src = project({"ok.py": "", "bad.py": "raise SystemExit(3)\n"})
    ok = experiment.submit(ScriptRunConfig(str(src), script="ok.py"), tags={"kind": "ok", "team": "a"})
    bad = experiment.submit(ScriptRunConfig(str(src), script="bad.py"), tags={"kind": "bad"})
    ok.wait_for_completion()
    bad.wait_for_completion(raise_on_error=False)
    ids = lambda runs: [r.id for r in runs]  # noqa: E731
    assert ids(experiment.get_runs()) == [bad.id, ok.id]  # newest first
    assert ids(experiment.get_runs(status="Completed")) == [ok.id]
    assert ids(experiment.get_runs(status="Failed")) == [bad.id]
    assert ids(experiment.get_runs(tags={"kind": "bad"})) == [bad.id]
    assert ids(experiment.get_runs(tags="team")) == [ok.id]
    assert ids(experiment.get_runs(tags={"kind": "ok"}, status="Failed")) == []
    ok.add_properties({"p": 1})
    assert ids(experiment.get_runs(properties={"p": 1})) == [ok.id]
    with pytest.raises(ConfigError, match="status 'Done'"):
        experiment.get_runs(status="Done")


def test_cancel_a_sleeping_run(experiment, project, wait_for, compute_target):
    src = project({"sleep.py": "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="sleep.py", compute_target=compute_target))
    wait_for(lambda: "sleeping" in run.get_log(), what="the script to start")
    run.cancel()
    details = run.wait_for_completion()
    assert details["status"] == st.CANCELED
    history = [e["status"] for e in details["statusHistory"]]
    assert history[:4] == [st.QUEUED, st.PREPARING, st.STARTING, st.RUNNING]
    assert st.CANCEL_REQUESTED in history
    assert history[-1] == st.CANCELED
    assert st.COMPLETED not in history and st.FAILED not in history
    assert "logs/driver.log" in run.get_file_names()
    run.cancel()  # canceling an ended run does nothing
    assert run.get_status() == st.CANCELED


@local_only
def test_reattach_by_id(finished, workspace):
    run, _, _ = finished
    again = Run(Experiment(workspace, run.experiment.name), run.id)
    assert again == run
    assert again.get_metrics() == run.get_metrics()
    assert Run.get(workspace, run.id) == run
    with pytest.raises(RunNotFoundError):
        Run(Experiment(workspace, "other"), run.id)


def test_run_survives_the_process_that_submitted_it(workspace, project, run_python, compute_target):
    src = project({"slow.py": """\
        import time
        from runyard import Run
        time.sleep(1.5)
        Run.get_context().log("done", 1)
        print("finished")
        """})
    submitted = run_python(f"""
        from runyard import Experiment, ScriptRunConfig, Workspace
        ws = Workspace.get({str(workspace.path)!r})
        config = ScriptRunConfig({str(src)!r}, script="slow.py", compute_target={compute_target!r})
        run = Experiment(ws, "detached").submit(config)
        print(run.id)
        """)
    assert submitted.returncode == 0, submitted.stderr
    run_id = submitted.stdout.strip().splitlines()[-1]
    run = Run(Experiment(Workspace.get(workspace.path), "detached"), run_id)
    assert run.get_status() not in st.TERMINAL  # the submitting process is gone, the run is not
    details = run.wait_for_completion()
    assert details["status"] == st.COMPLETED
    assert run.get_metrics() == {"done": 1}
    assert "finished" in run.get_log()


def test_wait_timeout(experiment, project):
    from runyard.errors import RunyardError
    src = project({"sleep.py": "import time\ntime.sleep(60)\n"})
    run = experiment.submit(ScriptRunConfig(str(src), script="sleep.py"))
    with pytest.raises(RunyardError, match="still"):
        run.wait_for_completion(timeout=0.5)
    run.cancel()
    assert run.wait_for_completion()["status"] == st.CANCELED


def test_identical_sources_share_one_snapshot(workspace, experiment, project):
    files = {"t.py": "print('same')\n", "lib/u.py": "U = 1\n"}
    first = experiment.submit(ScriptRunConfig(str(project(files)), script="t.py"))
    second = experiment.submit(ScriptRunConfig(str(project(files)), script="t.py"))
    changed = experiment.submit(ScriptRunConfig(str(project({**files, "lib/u.py": "U = 2\n"})), script="t.py"))
    ids = [r.wait_for_completion()["snapshotId"] for r in (first, second, changed)]
    assert ids[0] == ids[1] != ids[2]
    assert sorted(p.name for p in workspace.snapshots_dir.glob("*.zip")) == sorted({f"{i}.zip" for i in ids})


def test_interactive_run_with_start_logging(workspace, experiment, project):
    run = experiment.start_logging(snapshot_directory=str(project({"nb.py": ""})), tags={"where": "notebook"})
    assert run.get_status() == st.RUNNING
    run.log("accuracy", 0.8)
    child = run.child_run("part")
    child.log("x", 1)
    Workspace.get(workspace.path)  # an interactive run has no supervisor: it is not "lost"
    assert run.get_status() == st.RUNNING
    run.complete()
    details = run.get_details()
    assert details["status"] == st.COMPLETED
    assert details["runType"] == "interactive"
    assert details["snapshotId"] and details["tags"] == {"where": "notebook"}
    assert run.get_metrics() == {"accuracy": 0.8}
    assert child.get_metrics() == {"x": 1}
    assert child.get_status() == st.COMPLETED  # ended with its parent
    assert [r.id for r in experiment.get_runs(type="interactive")] == [run.id]


def test_outputs_folders_of_interactive_and_child_runs_are_uploaded_when_they_end(experiment, tmp_path):
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "sub" / "model.txt").write_text("m")
    (tmp_path / "fold").mkdir()
    (tmp_path / "fold" / "scores.csv").write_text("1,2")
    run = experiment.start_logging(outputs=str(tmp_path / "out"))
    with run.child_run("fold-1", outputs=tmp_path / "fold") as child:
        assert child.get_file_names() == []  # uploaded when the child ends
    assert child.get_file_names() == ["outputs/scores.csv"]
    run.complete()
    assert run.get_file_names() == ["outputs/sub/model.txt"]
    # Re-attached with outputs=: uploaded when that object ends the run.
    other = experiment.start_logging()
    (tmp_path / "late").mkdir()
    (tmp_path / "late" / "x.txt").write_text("x")
    again = Run(experiment, other.id, outputs=str(tmp_path / "late"))
    again.fail("stopped", error_code="UserError")
    assert again.get_file_names() == ["outputs/x.txt"]
    assert again.get_details()["error"] == {"message": "UserError: stopped"}


def test_arguments_runs_and_experiments_cannot_honour_are_refused(workspace, experiment, project):
    run = experiment.start_logging()
    with pytest.raises(ConfigError, match=r"Run\(\) got an unexpected argument: _run_dto; it takes experiment, "
                                          r"run_id and outputs"):
        Run(experiment, run.id, _run_dto={})
    with pytest.raises(ConfigError, match=r"Experiment\(\) got unexpected arguments: _create_in_cloud, "
                                          r"_id; it takes workspace and name"):
        Experiment(workspace, "x", _id="1", _create_in_cloud=False)
    with pytest.raises(ConfigError, match="outputs must be a folder path, got int"):
        experiment.start_logging(outputs=3)
    assert [r.id for r in experiment.get_runs()] == [run.id]  # nothing half-made
    with pytest.raises(ConfigError, match="outputs must be a folder path"):
        run.child_run("c", outputs=["a"])
    assert run.get_children() == []
    job = experiment.submit(ScriptRunConfig(str(project({"t.py": ""})), script="t.py"))
    job.wait_for_completion()
    with pytest.raises(ConfigError, match=r"is a script run, whose target uploads its ./outputs folder; add "
                                          r"other files with run.upload_folder"):
        Run(experiment, job.id, outputs="out")
    # wait_post_processing: outputs and logs are stored before a run ends, nothing left to wait for.
    assert job.wait_for_completion(wait_post_processing=True)["logFiles"]


def test_submit_reports_snapshot_progress(experiment, project):
    src = project({"train.py": "print('hi')\n", "data.bin": b"x" * 10000})
    calls: list[tuple[int, int]] = []
    run = experiment.submit(ScriptRunConfig(str(src), script="train.py"),
                            snapshot_progress=lambda done, total: calls.append((done, total)))
    run.wait_for_completion()
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and len(dones) == 4
    assert calls[-1][0] == calls[-1][1] == 2 * (10000 + len("print('hi')\n"))
