"""Arguments of pipelines, step outputs and submissions that Azure ML users pass: each one
has an effect, or is refused naming it (never accepted and ignored)."""

from __future__ import annotations

import pytest

from runyard import (Datastore, Estimator, OutputFileDatasetConfig, Pipeline, PipelineData, PythonScriptStep,
                     RunConfiguration, ScriptRunConfig)
from runyard import status as st
from runyard.errors import ConfigError, NotFoundError, RunFailedError
from runyard.pipeline import PublishedPipeline, Schedule


def failing_then_independent(workspace, project):
    """Step "bad" fails; step "later" does not read it and starts after it (one step at a time)."""
    src = project({"bad.py": "raise SystemExit('bad step')", "ok.py": "print('later ran')"})
    return Pipeline(workspace, [PythonScriptStep("bad.py", name="bad", source_directory=src),
                                PythonScriptStep("ok.py", name="later", source_directory=src)],
                    max_concurrent_steps=1)


def statuses(run):
    return {s.display_name: s.get_status() for s in run.get_steps()}


def test_continue_on_step_failure(workspace, experiment, project):
    pipeline = failing_then_independent(workspace, project)
    stopped = experiment.submit(pipeline, continue_on_step_failure=False)
    with pytest.raises(RunFailedError, match="1 step\\(s\\) failed: 'bad'; not run: 'later'"):
        stopped.wait_for_completion(timeout=120)
    assert statuses(stopped) == {"bad": st.FAILED, "later": st.CANCELED}
    (later,) = stopped.find_step_run("later")
    assert "continue_on_step_failure=False" in later.get_details()["error"]["message"]
    went_on = experiment.submit(pipeline, continue_on_step_failure=True, regenerate_outputs=True)
    went_on.wait_for_completion(timeout=120, raise_on_error=False)
    assert statuses(went_on) == {"bad": st.FAILED, "later": st.COMPLETED}
    # stored when published; a submission may say otherwise
    published = pipeline.publish("stop-on-failure", continue_on_step_failure=False)
    run = published.submit(workspace, experiment.name)
    run.wait_for_completion(timeout=120, raise_on_error=False)
    assert statuses(run)["later"] == st.CANCELED
    with pytest.raises(ConfigError, match="continue_on_step_failure must be True, False or None, got 'no'"):
        experiment.submit(pipeline, continue_on_step_failure="no")


def test_parent_run_id_makes_the_pipeline_run_a_child(workspace, experiment, project):
    src = project({"ok.py": "print('ok')"})
    pipeline = Pipeline(workspace, [PythonScriptStep("ok.py", name="ok", source_directory=src)])
    parent = experiment.start_logging()
    run = experiment.submit(pipeline, parent_run_id=parent.id, display_name="nightly")
    run.wait_for_completion(timeout=120)
    assert run.parent == parent and run.display_name == "nightly"
    assert [c.id for c in parent.get_children(type="pipeline")] == [run.id]
    published = pipeline.publish("child-of-a-run")
    again = published.submit(workspace, experiment.name, parent_run_id=parent.id)
    again.wait_for_completion(timeout=120)
    assert again.parent == parent
    with pytest.raises(NotFoundError, match="parent_run_id 'nope': no such run"):
        published.submit(workspace, experiment.name, parent_run_id="nope")


def test_submissions_refuse_arguments_they_do_not_take(workspace, experiment, project):
    src = project({"ok.py": "print('ok')"})
    with pytest.raises(ConfigError, match="Experiment.submit\\(ScriptRunConfig\\) got an unexpected argument: "
                                          "pipeline_parameters; it takes tags, display_name"):
        experiment.submit(ScriptRunConfig(str(src), script="ok.py"), pipeline_parameters={"a": 1})
    with pytest.raises(ConfigError, match="Experiment.submit\\(Pipeline\\) got an unexpected argument: "
                                          "credential_passthrough"):
        experiment.submit(Pipeline(workspace, [PythonScriptStep("ok.py", name="ok", source_directory=src)]),
                          credential_passthrough=True)
    with pytest.raises(ConfigError, match="Estimator\\) got an unexpected argument: colour|ScriptRunConfig\\) got "
                                          "an unexpected argument: colour"):
        experiment.submit(Estimator(str(src), entry_script="ok.py"), colour="red")
    with pytest.raises(ConfigError, match="RunConfiguration.node_count=2 needs a distributed_job_config"):
        experiment.submit(ScriptRunConfig(str(src), script="ok.py", run_config=RunConfiguration(node_count=2)))
    with pytest.raises(ConfigError, match="field 'docker_runtime_config': Input should be a valid dictionary or "
                                          "instance of DockerConfiguration"):
        ScriptRunConfig(str(src), script="ok.py", docker_runtime_config=object())
    with pytest.raises(ConfigError, match="_service_endpoint=.* is not supported; they name Azure ML's service"):
        PublishedPipeline.list(workspace, _service_endpoint="https://example.org")
    with pytest.raises(ConfigError, match="Schedule.list: _workflow_provider=.* is not supported"):
        Schedule.get_all(workspace, _workflow_provider=object())
    assert Schedule.get_all(workspace) == [] and Schedule.get_schedules_for_pipeline_id(workspace, "x") == []
    assert workspace._store.list_runs() == []


def test_step_output_options(workspace, experiment, project, tmp_path):
    (tmp_path / "shared" / "kept").mkdir(parents=True)
    (tmp_path / "shared" / "kept" / "out.txt").write_text("old")
    store = Datastore.register_local(workspace, "shared", str(tmp_path / "shared"))
    src = project({"write.py": "import sys; open(sys.argv[1] + '/out.txt', 'w').write('new')"})

    def run_with(output):
        run = experiment.submit(Pipeline(workspace, [PythonScriptStep("write.py", name="write", arguments=[output],
                                                                      source_directory=src, allow_reuse=False)]))
        run.wait_for_completion(timeout=120)

    run_with(OutputFileDatasetConfig("o", destination=(store, "kept")).as_upload())  # overwrite=False: kept
    assert (tmp_path / "shared" / "kept" / "out.txt").read_text() == "old"
    run_with(OutputFileDatasetConfig("o", destination=(store, "kept")).as_upload(overwrite=True))
    assert (tmp_path / "shared" / "kept" / "out.txt").read_text() == "new"
    assert PipelineData("p", datastore=store, output_overwrite=False, output_mode="upload").overwrite is False
    assert PipelineData("p", is_directory=True, data_type="AnyDirectory").overwrite is True
    for make, message in [
        (lambda: OutputFileDatasetConfig("o", source="/tmp/o"), "source='/tmp/o' is not supported; the step writes"),
        (lambda: OutputFileDatasetConfig("o").as_upload(source_globs=["*.csv"]), "source_globs=.* is not supported"),
        (lambda: PipelineData("p", output_mode="direct"), "output_mode must be 'mount' or 'upload'"),
        (lambda: PipelineData("p", is_directory=False), "is_directory=False: a step's output is a folder"),
        (lambda: PipelineData("p", data_type="AnyFile"), "data_type 'AnyFile'"),
        (lambda: PipelineData("p", output_path_on_compute="/mnt/p"), "output_path_on_compute='/mnt/p' is not"),
        (lambda: PipelineData("p", pipeline_output_name="scores"), "pipeline_output_name='scores' is not"),
        (lambda: PipelineData("p", training_output=object()), "training_output must be a TrainingOutput, got object"),
    ]:
        with pytest.raises(ConfigError, match=message):
            make()
