"""Public entry points refuse an argument of the wrong kind with a ConfigError naming it, before
any work: these are the checks the R package leaves to Python (it passes its arguments on
unchecked), so each holds once, here."""

from __future__ import annotations

import pytest

from runyard import ConfigError, Environment, Experiment, Run, RunyardError, Workspace
from runyard.data import Dataset
from runyard.pipeline import CommandStep, Pipeline, PythonScriptStep
from runyard.pipeline.published import PublishedPipeline
from runyard.pipeline.schedule import Schedule
from runyard.workspace import check_workspace

NOT_A_WORKSPACE = "workspace must be a Workspace \\(Workspace.get\\(...\\) or Workspace.create\\(...\\)\\), got str"


@pytest.mark.parametrize("call", [
    lambda tmp: Workspace.create(5.0),
    lambda tmp: Workspace.get(5.0),
    lambda tmp: Workspace.from_config(5.0),
])
def test_a_workspace_path_must_be_a_path(tmp_path, call):
    with pytest.raises(ConfigError, match="path must be a folder path \\(or a workspace server's URL\\), got float"):
        call(tmp_path)


def test_workspace_name_and_store_url_must_be_text(tmp_path):
    with pytest.raises(ConfigError, match="workspace name 5.0: use 1-255 letters"):
        Workspace.create(tmp_path / "a", name=5.0)
    with pytest.raises(ConfigError, match="store_url must be a database URL \\(text\\), got float"):
        Workspace.create(tmp_path / "b", store_url=5.0)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_server_token_must_be_text():
    with pytest.raises(ConfigError, match="token must be text, got int"):
        Workspace.get("http://127.0.0.1:9", token=5)


@pytest.mark.parametrize("call", [
    lambda ws: check_workspace("my-workspace"),
    lambda ws: Experiment("my-workspace", "e"),
    lambda ws: Environment("e").register("my-workspace"),
    lambda ws: Environment.get("my-workspace", "e"),
    lambda ws: Dataset.get_by_name("my-workspace", "d"),
    lambda ws: Pipeline("my-workspace", [CommandStep("true")]),
    lambda ws: PublishedPipeline.get("my-workspace", "0" * 32),
    lambda ws: PublishedPipeline.get_by_name("my-workspace", "p"),
    lambda ws: PublishedPipeline.list("my-workspace"),
    lambda ws: Schedule.get("my-workspace", "0" * 32),
    lambda ws: Schedule.list("my-workspace"),
])
def test_a_workspace_argument_must_be_a_workspace(workspace, call):
    with pytest.raises(ConfigError, match=NOT_A_WORKSPACE):
        call(workspace)


def test_check_workspace_takes_a_workspace(workspace):
    assert check_workspace(workspace) is workspace


def test_a_run_belongs_to_an_experiment(workspace):
    with pytest.raises(ConfigError, match="experiment must be an Experiment \\(Experiment\\(ws, name\\)\\), got str"):
        Run("my-experiment", "e_1_abcdef12")


@pytest.mark.parametrize("version", [1.5, "1.5", "two", True])
def test_an_environment_version_is_a_whole_number(workspace, version):
    with pytest.raises(ConfigError, match=f"environment version {version!r} must be a whole number"):
        Environment.get(workspace, "e", version)


def test_a_whole_environment_version_may_be_a_number_or_text(workspace):
    registered = Environment("e").register(workspace)
    assert Environment.get(workspace, "e", 1).version == Environment.get(workspace, "e", "1").version == \
        Environment.get(workspace, "e", 1.0).version == registered.version


def test_pipeline_description_and_step_folder_are_checked(workspace):
    with pytest.raises(ConfigError, match="Pipeline: description must be text, got float"):
        Pipeline(workspace, [CommandStep("true")], description=5.0)
    with pytest.raises(ConfigError, match="step 'a.py': source_directory must be a folder path, got float"):
        PythonScriptStep("a.py", source_directory=5.0)


def test_listing_takes_true_or_false_and_ids(workspace):
    with pytest.raises(ConfigError, match="active_only must be True or False, got 'yes'"):
        PublishedPipeline.list(workspace, active_only="yes")
    with pytest.raises(ConfigError, match="active_only must be True or False, got 1"):
        Schedule.list(workspace, active_only=1)
    with pytest.raises(ConfigError, match="Schedule.list: pipeline_id must be an id \\(text\\), got float"):
        Schedule.list(workspace, pipeline_id=5.0)
    assert PublishedPipeline.list(workspace, active_only=False) == Schedule.list(workspace) == []


def test_run_files_and_rows_name_what_is_wrong(workspace):
    run = Experiment(workspace, "e").start_logging()
    with pytest.raises(ConfigError, match="name must be the file's name in the run \\(text\\), got float"):
        run.download_file(5.0)
    with pytest.raises(ConfigError, match="output_directory must be a folder path \\(text\\), got float"):
        run.download_files(output_directory=5.0)
    with pytest.raises(ConfigError, match="name must be the folder's name in the run \\(text\\), got float"):
        run.upload_folder(5.0, ".")
    with pytest.raises(ConfigError, match="metric 'r': log_row takes the row's columns as named values"):
        run.log_row("r")
    run.complete()


def test_an_offline_run_made_earlier_does_not_answer_allow_offline_false(monkeypatch):
    monkeypatch.delenv("RUNYARD_RUN_ID", raising=False)
    monkeypatch.setattr(Run, "_context", None)
    offline = Run.get_context()
    assert Run.get_context() is offline
    with pytest.raises(RunyardError, match="allow_offline=False\\) outside a runyard job"):
        Run.get_context(allow_offline=False)
