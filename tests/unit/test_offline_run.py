"""The offline run (``Run.get_context()`` outside a job): every method of ``Run`` that makes
sense in one process works; what needs a workspace is a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from runyard import Run
from runyard import status as st
from runyard.errors import ConfigError, RunFailedError, RunyardError
from runyard.run import _OfflineRun


@pytest.fixture
def run() -> _OfflineRun:
    return _OfflineRun()


def test_get_context_outside_a_job_is_an_offline_run(monkeypatch):
    monkeypatch.delenv("RUNYARD_RUN_ID", raising=False)
    monkeypatch.setattr(Run, "_context", None)
    context = Run.get_context()
    assert isinstance(context, _OfflineRun) and context.id.startswith("OfflineRun_")
    assert Run.get_context() is context


def test_metric_rows_keep_step_and_description(run, capsys):
    run.log("loss", 0.5, description="training loss", step=1)
    run.log("loss", 0.25, step=2)
    run.log_list("scores", [1, 2], description="per fold")
    run.log_row("curve", description="by epoch", epoch=1, auc=0.7)
    run.log_table("table", {"x": [1, 2]}, description="")
    rows = [(r["name"], r["kind"], r["step"], r["description"]) for r in run._metrics]
    assert rows == [("loss", "scalar", 1, "training loss"), ("loss", "scalar", 2, None),
                    ("scores", "list", None, "per fold"), ("curve", "row", None, "by epoch"),
                    ("table", "table", None, None)]
    assert set(run._metrics[0]) == {"run_id", "name", "kind", "value_num", "value_text", "logged_at", "step",
                                    "description"}
    assert run.get_metrics() == {"loss": [0.5, 0.25], "scores": [1, 2], "curve": {"epoch": [1], "auc": [0.7]},
                                 "table": {"x": [1, 2]}}
    assert run.get_metrics("loss") == {"loss": [0.5, 0.25]}
    assert [(h["value"], h["step"], h["description"]) for h in run.get_metric_history("loss")] == [
        (0.5, 1, "training loss"), (0.25, 2, None)]
    out = capsys.readouterr().out
    assert "[runyard offline] loss (step 1): 0.5" in out and "[runyard offline] scores: [1, 2]" in out


def test_bad_metrics_are_refused_as_online(run):
    with pytest.raises(ConfigError, match="step 'one' must be a whole number"):
        run.log("loss", 0.5, step="one")
    with pytest.raises(ConfigError, match="description must be text"):
        run.log("loss", 0.5, description=3)
    with pytest.raises(ConfigError, match="log_row takes the row's columns as named values"):
        run.log_row("empty")
    with pytest.raises(ConfigError, match="is not a number, string, bool or None"):
        run.log_list("l", [object()])
    with pytest.raises(ConfigError, match="log_table takes a dict of column name -> list of values"):
        run.log_table("t", {"x": 1})
    assert run._metrics == []


def test_uploads_are_remembered_and_downloaded_back(run, tmp_path):
    source = tmp_path / "model.pkl"
    source.write_bytes(b"weights")
    assert run.upload_file("outputs/model.pkl", str(source)) == "outputs/model.pkl"
    run.upload_file("notes.txt", io.BytesIO(b"hello"))
    (tmp_path / "folder" / "sub").mkdir(parents=True)
    (tmp_path / "folder" / "sub" / "a.txt").write_text("a")
    assert run.upload_folder("logs", tmp_path / "folder") == ["logs/sub/a.txt"]
    assert run.upload_files(["x/y.txt"], [str(source)]) == ["x/y.txt"]
    source.write_bytes(b"changed afterwards")  # the upload is a copy, as online
    assert run.get_file_names() == ["logs/sub/a.txt", "notes.txt", "outputs/model.pkl", "x/y.txt"]
    got = run.download_file("outputs/model.pkl", str(tmp_path / "back.pkl"))
    assert Path(got).read_bytes() == b"weights"
    written = run.download_files(prefix="logs", output_directory=str(tmp_path / "dl"), append_prefix=False)
    assert [Path(p).relative_to(tmp_path / "dl").as_posix() for p in written] == ["sub/a.txt"]
    with pytest.raises(ConfigError, match="is not a file"):
        run.upload_file("missing.txt", str(tmp_path / "missing.txt"))
    with pytest.raises(ConfigError, match="must be a relative path"):
        run.upload_file("../escape.txt", io.BytesIO(b"x"))


def test_log_image_keeps_the_file_as_an_image_of_the_run(run, tmp_path):
    png = tmp_path / "plot.png"
    png.write_bytes(b"\x89PNG fake")
    run.log_image("roc", path=str(png), description="ROC curve")
    assert run.get_file_names() == ["images/roc.png"]
    assert Path(run.get_metrics()["roc"]).read_bytes() == b"\x89PNG fake"
    assert run._metrics[0]["description"] == "ROC curve"


def test_tags_and_write_once_properties(run):
    run.tag("team", "a")
    run.tag("flag")
    run.set_tags({"n": 3})
    assert run.get_tags() == {"team": "a", "flag": None, "n": "3"}
    run.remove_tags(["team", "absent"])
    assert run.get_tags() == {"flag": None, "n": "3"}
    with pytest.raises(ConfigError, match="remove_tags takes a list of tag names"):
        run.remove_tags("flag")
    run.add_properties({"auc": 0.9})
    run.add_properties({"auc": "0.9"})  # the same value again is fine
    with pytest.raises(ConfigError, match="property 'auc' of run .* is already '0.9'; properties cannot change"):
        run.add_properties({"auc": 0.8})
    with pytest.raises(ConfigError, match="tags must be a dict"):
        run.set_tags(["x"])
    assert run.get_properties() == {"auc": "0.9"}


def test_children_are_offline_runs_whose_parent_is_this_one(run):
    first = run.child_run("fold-1")
    with run.child_run("fold-2", run_id="fold_2") as second:
        second.log("auc", 0.8)
        grandchild = second.child_run("inner")
    assert isinstance(first, _OfflineRun) and first.parent is run and first.display_name == "fold-1"
    assert second.id == "fold_2" and second.get_status() == st.COMPLETED
    assert grandchild.get_status() == st.COMPLETED  # ended with its parent
    assert run.get_children() == [first, second]
    assert run.get_children(recursive=True) == [first, second, grandchild]
    assert run.get_children(status=st.RUNNING) == [first]
    made = run.create_children(tag_key="fold", tag_values=["a", "b"])
    assert run.get_children(tags={"fold": "b"}) == [made[1]]
    assert run.get_metrics(recursive=True)["fold_2"] == {"auc": 0.8}
    with pytest.raises(ConfigError, match="already has a child with that id"):
        run.child_run(run_id="fold_2")
    with pytest.raises(ConfigError, match="run_id 'a/b'"):
        run.child_run(run_id="a/b")
    run.complete()
    assert first.get_status() == st.COMPLETED


def test_child_outputs_folder_is_kept_when_the_child_ends(run, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "m.txt").write_text("m")
    child = run.child_run("c", outputs=str(tmp_path / "out"))
    assert child.get_file_names() == []
    child.complete()
    assert child.get_file_names() == ["outputs/m.txt"]


def test_status_details_and_waiting(run, capsys):
    run.tag("where", "laptop")
    details = run.get_details()
    online_keys = {"runId", "experimentName", "runNumber", "displayName", "runType", "parentRunId", "status",
                   "target", "createdTimeUtc", "startTimeUtc", "endTimeUtc", "durationSeconds", "exitCode",
                   "error", "environment", "environmentHash", "snapshotId", "runDefinition", "host",
                   "properties", "tags", "statusHistory", "logFiles"}
    assert set(details) == online_keys
    assert (details["status"], details["target"], details["tags"]) == (st.RUNNING, "offline", {"where": "laptop"})
    assert details["endTimeUtc"] is None
    assert run.wait_for_completion(show_output=True, wait_post_processing=True)["runId"] == run.id
    assert f"RunId: {run.id}" in capsys.readouterr().out
    run.fail("no data", error_code="UserError")
    details = run.get_details_with_logs()
    assert details["status"] == st.FAILED and details["error"] == {"message": "UserError: no data"}
    assert [e["status"] for e in details["statusHistory"]] == [st.RUNNING, st.FAILED]
    assert details["endTimeUtc"] and details["logFiles"] == {}
    with pytest.raises(RunFailedError, match="UserError: no data"):
        run.wait_for_completion()
    assert run.wait_for_completion(raise_on_error=False)["status"] == st.FAILED
    run.complete()  # moot: the run already ended
    assert run.status == st.FAILED


def test_cancel_ends_the_run_and_its_children(run):
    child = run.child_run()
    run.cancel()
    assert (run.get_status(), child.get_status()) == (st.CANCELED, st.CANCELED)


def test_what_needs_a_workspace_is_a_clear_error(run):
    with pytest.raises(RunyardError, match="offline run .* has no experiment"):
        run.experiment
    with pytest.raises(RunyardError, match="offline run .* has no workspace; open one with Workspace.from_config"):
        run.workspace
    with pytest.raises(ConfigError, match="register_model\\(\\) on an offline run"):
        run.register_model("m", "outputs/m.pkl")
    assert run.input_datasets == {} and run.output_datasets == {}
    with pytest.raises(KeyError, match="has no dataset inputs"):
        run.input_datasets["train"]
    assert run.get_log() == ""
