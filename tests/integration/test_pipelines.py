"""Pipelines on the local target: data between steps, concurrency, reuse, failures,
parameters, validation, a driver that outlives its submitter, and cancel."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from runyard import (Experiment, OutputFileDatasetConfig, Pipeline, PipelineData, PipelineParameter,
                     PythonScriptStep, Run, RunConfiguration)
from runyard import status as st
from runyard.errors import ConfigError, RunFailedError
from runyard.pipeline import CommandStep, PipelineRun

PREP = """\
    import argparse, glob, os
    p = argparse.ArgumentParser(); p.add_argument("--out"); p.add_argument("--scale", type=float, default=1.0)
    a = p.parse_args()
    rows = []
    for path in sorted(glob.glob("data/*.csv")):
        rows += [float(x) for x in open(path).read().split()]
    with open(os.path.join(a.out, "rows.txt"), "w") as fh:
        fh.write("\\n".join(str(x * a.scale) for x in rows))
    """
TRAIN = """\
    import argparse, os
    from runyard import Run
    p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--model")
    a = p.parse_args()
    rows = [float(x) for x in open(os.path.join(a.data, "rows.txt")).read().split()]
    with open(os.path.join(a.model, "mean.txt"), "w") as fh:
        fh.write(str(sum(rows) / len(rows)))
    Run.get_context().log("n_rows", len(rows))
    """
EVALUATE = """\
    import argparse, os
    from runyard import Run
    p = argparse.ArgumentParser(); p.add_argument("--model"); p.add_argument("--data")
    a = p.parse_args()
    mean = float(open(os.path.join(a.model, "mean.txt")).read())
    rows = [float(x) for x in open(os.path.join(a.data, "rows.txt")).read().split()]
    Run.get_context().log("mse", sum((x - mean) ** 2 for x in rows) / len(rows))
    """


def three_steps(ws, project, data="1\n2\n3\n", data_name="raw.csv"):
    """prep -> train -> evaluate; prep's folder holds the data, the others share one folder."""
    prep_src = project({"prep.py": PREP, f"data/{data_name}": data}, name="prep_src")
    src = project({"train.py": TRAIN, "evaluate.py": EVALUATE}, name="src")
    prepared, model = OutputFileDatasetConfig("prepared"), PipelineData("model")
    scale = PipelineParameter("scale", default_value=1.0)
    prep = PythonScriptStep("prep.py", name="prep", arguments=["--out", prepared, "--scale", scale],
                            source_directory=prep_src)
    train = PythonScriptStep("train.py", name="train", arguments=["--data", prepared.as_input(), "--model", model],
                             source_directory=src)
    evaluate = PythonScriptStep("evaluate.py", name="evaluate", inputs=[model, prepared.as_input()],
                                arguments=["--model", model, "--data", prepared.as_input()], source_directory=src)
    return Pipeline(ws, [prep, train, evaluate])


def step(run, name):
    (found,) = run.find_step_run(name)
    return found


def reused(run):
    return run.get_step_reuse()


def test_three_steps_pass_data_and_log_metrics(workspace, experiment, project):
    run = experiment.submit(three_steps(workspace, project))
    assert isinstance(run, PipelineRun) and run.type == "pipeline"
    run.wait_for_completion(timeout=120)
    assert run.get_status() == st.COMPLETED
    assert [s.display_name for s in run.get_steps()] == ["prep", "train", "evaluate"]
    assert all(s.status == st.COMPLETED and s.parent.id == run.id for s in run.get_steps())
    assert step(run, "train").get_metrics() == {"n_rows": 3}
    assert step(run, "evaluate").get_metrics()["mse"] == pytest.approx(2 / 3)
    assert "outputs/prepared/rows.txt" in step(run, "prep").get_file_names()
    assert "outputs/model/mean.txt" in step(run, "train").get_file_names()
    assert isinstance(Run.get(workspace, run.id), PipelineRun)
    assert [r.id for r in experiment.get_runs()] == [run.id]  # steps are children, not top-level runs
    # a parameter overridden at submission
    again = experiment.submit(three_steps(workspace, project), pipeline_parameters={"scale": 2.0})
    again.wait_for_completion(timeout=120)
    assert step(again, "evaluate").get_metrics()["mse"] == pytest.approx(8 / 3)
    assert reused(again) == {"prep": None, "train": None, "evaluate": None}


def test_independent_steps_run_at_the_same_time(workspace, experiment, project):
    src = project({"nap.py": "import time; time.sleep(2)"})
    steps = [PythonScriptStep("nap.py", name=f"nap{i}", source_directory=src, arguments=[str(i)])
             for i in range(2)]
    run = experiment.submit(Pipeline(workspace, steps))
    run.wait_for_completion(timeout=120)
    first, second = (s._refresh() for s in run.get_steps())
    assert first["start_time"] < second["end_time"] and second["start_time"] < first["end_time"]


def test_resubmission_reuses_every_step(workspace, experiment, project):
    pipeline = three_steps(workspace, project)
    first = experiment.submit(pipeline)
    first.wait_for_completion(timeout=120)
    second = experiment.submit(pipeline)
    second.wait_for_completion(timeout=120)
    assert reused(second) == {name: step(first, name).id for name in ("prep", "train", "evaluate")}
    for s in second.get_steps():
        assert s.status == st.COMPLETED and s.get_properties()["azureml.isreused"] == "true"
        assert s.get_file_names() == []  # nothing ran
    assert step(second, "evaluate").get_metrics() == step(first, "evaluate").get_metrics()
    assert "reused run" in second.get_log()
    import subprocess
    shown = subprocess.run([sys.executable, "-m", "runyard.cli", "--workspace", str(workspace.path), "run", "show",
                            second.id], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "pipeline" in shown.stdout and step(first, "train").id in shown.stdout


def test_reuse_follows_the_content_of_inputs(workspace, experiment, project, tmp_path):
    first = experiment.submit(three_steps(workspace, project))
    first.wait_for_completion(timeout=120)
    # the same bytes under another file name: prep runs again (its folder changed), and what it
    # writes is identical, so train and evaluate are reused
    shutil.rmtree(tmp_path / "prep_src")
    renamed = experiment.submit(three_steps(workspace, project, data_name="renamed.csv"))
    renamed.wait_for_completion(timeout=120)
    assert reused(renamed) == {"prep": None, "train": step(first, "train").id,
                               "evaluate": step(first, "evaluate").id}
    # other bytes at the same path: everything downstream runs again
    shutil.rmtree(tmp_path / "prep_src")
    changed = experiment.submit(three_steps(workspace, project, data="1\n2\n9\n"))
    changed.wait_for_completion(timeout=120)
    assert reused(changed) == {"prep": None, "train": None, "evaluate": None}
    assert step(changed, "evaluate").get_metrics()["mse"] == pytest.approx(38 / 3)


def test_allow_reuse_false_and_regenerate_outputs(workspace, experiment, project):
    src = project({"stamp.py": """\
        import sys, time
        open(sys.argv[1] + "/stamp.txt", "w").write("same")
        """, "read.py": "import sys; print(open(sys.argv[1] + '/stamp.txt').read())"})
    out = OutputFileDatasetConfig("stamp")
    stamp = PythonScriptStep("stamp.py", name="stamp", arguments=[out], source_directory=src, allow_reuse=False)
    read = PythonScriptStep("read.py", name="read", arguments=[out.as_input()], source_directory=src)
    pipeline = Pipeline(workspace, [stamp, read])
    first = experiment.submit(pipeline)
    first.wait_for_completion(timeout=120)
    second = experiment.submit(pipeline)
    second.wait_for_completion(timeout=120)
    # stamp ran again; its output has the same content, so read is reused
    assert reused(second) == {"stamp": None, "read": step(first, "read").id}
    third = experiment.submit(pipeline, regenerate_outputs=True)
    third.wait_for_completion(timeout=120)
    assert reused(third) == {"stamp": None, "read": None}


def test_a_failed_step_fails_its_dependents_only_and_resubmission_reruns_that_part(
        workspace, experiment, project, tmp_path):
    marker = tmp_path / "fail-now"
    marker.touch()
    src = project({
        "ok.py": "import sys; open(sys.argv[1] + '/x.txt', 'w').write('x')",
        "flaky.py": """\
            import os, sys
            if os.path.exists(sys.argv[1]):
                raise SystemExit("the flaky step failed")
            open(sys.argv[2] + '/y.txt', 'w').write('y')
            """,
        "use.py": "import sys; print(open(sys.argv[1] + '/y.txt').read())"})
    a_out, b_out, d_out = (OutputFileDatasetConfig(n) for n in ("a_out", "b_out", "d_out"))
    steps = [PythonScriptStep("ok.py", name="a", arguments=[a_out], source_directory=src),
             PythonScriptStep("flaky.py", name="b", arguments=[str(marker), b_out], inputs=[a_out],
                              source_directory=src),
             PythonScriptStep("use.py", name="c", arguments=[b_out.as_input()], source_directory=src),
             PythonScriptStep("ok.py", name="d", arguments=[d_out], source_directory=src)]
    pipeline = Pipeline(workspace, steps)
    first = experiment.submit(pipeline)
    with pytest.raises(RunFailedError, match="1 step\\(s\\) failed: 'b'; not run: 'c'"):
        first.wait_for_completion(timeout=120)
    statuses = {s.display_name: s.status for s in first.get_steps()}
    assert statuses == {"a": st.COMPLETED, "b": st.FAILED, "c": st.FAILED, "d": st.COMPLETED}
    assert "the flaky step failed" in first.get_details()["error"]["message"]
    assert "not run: step 'b'" in step(first, "c").get_details()["error"]["message"]
    marker.unlink()
    second = experiment.submit(pipeline)
    second.wait_for_completion(timeout=120)
    assert reused(second) == {"a": step(first, "a").id, "d": step(first, "d").id, "b": None, "c": None}


def test_bad_pipelines_are_refused_and_leave_nothing_recorded(workspace, experiment, project):
    src = project({"s.py": "print(1)"})
    x, y = OutputFileDatasetConfig("x"), OutputFileDatasetConfig("y")
    p = PipelineParameter("alpha", 0.5)

    def submit(steps, **kwargs):
        return experiment.submit(Pipeline(workspace, steps), **kwargs)

    cases = [
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[x, y.as_input()], source_directory=src),
                         PythonScriptStep("s.py", name="b", arguments=[y, x.as_input()], source_directory=src)]),
         "form a cycle"),
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[x], source_directory=src),
                         PythonScriptStep("s.py", name="b", outputs=[x], source_directory=src)]),
         "output 'x' is written by two steps, 'a' and 'b'"),
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[OutputFileDatasetConfig("z").as_input()],
                                          source_directory=src)]),
         "step 'a' reads input 'z'.*which no step of this pipeline writes"),
        # y's writer (the first case's 'b') comes along, but x, which it reads, has two writers
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[y.as_input()], source_directory=src)]),
         "step 'b' reads input 'x'.*which no step of this pipeline writes.*step 'b' is in the pipeline "
         "because it writes 'y', which step 'a' reads"),
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[p], source_directory=src)],
                        pipeline_parameters={"beta": 1}), "'beta' is not a parameter of this pipeline.*alpha"),
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[p], source_directory=src)],
                        pipeline_parameters={"alpha": "high"}), "pipeline_parameters\\['alpha'\\]: expected a float"),
        (lambda: submit([PythonScriptStep("s.py", name="a", source_directory=src),
                         PythonScriptStep("s.py", name="a", source_directory=src)]), "two steps are named 'a'"),
        (lambda: submit([PythonScriptStep("missing.py", name="a", source_directory=src)]),
         "step 'a': script 'missing.py' does not exist"),
        (lambda: submit([PythonScriptStep("s.py", name="a", source_directory=src, compute_target="gpu-farm")]),
         "step 'a': compute_target 'gpu-farm' is not in workspace"),
        (lambda: submit([PythonScriptStep("s.py", name="a", arguments=[{"k": 1}], source_directory=src)]),
         "step 'a': arguments\\[0\\] must be"),
    ]
    for attempt, message in cases:
        with pytest.raises(ConfigError, match=message):
            attempt()
    assert workspace._store.list_runs() == []


def test_the_pipeline_outlives_the_process_that_submitted_it(workspace, project, run_python):
    src = project({"nap.py": "import sys, time; time.sleep(1); open(sys.argv[1] + '/n.txt', 'w').write('1')",
                   "read.py": "import sys; print('read', open(sys.argv[1] + '/n.txt').read())"})
    done = run_python(f"""
        from runyard import *
        ws = Workspace.get({str(workspace.path)!r})
        out = OutputFileDatasetConfig("n")
        steps = [PythonScriptStep("nap.py", name="nap", arguments=[out], source_directory={str(src)!r}),
                 PythonScriptStep("read.py", name="read", arguments=[out.as_input()], source_directory={str(src)!r})]
        print(Experiment(ws, "detached").submit(Pipeline(ws, steps)).id)
        """, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    run = Run.get(workspace, done.stdout.strip())
    assert run.get_status() != st.COMPLETED  # the submitter exited before the pipeline ended
    run.wait_for_completion(timeout=120)
    assert "read 1" in step(run, "read").get_log()


def test_cancel_stops_the_running_step_and_the_rest(workspace, experiment, project, wait_for):
    src = project({"nap.py": "import time; time.sleep(60)", "after.py": "print('after')"})
    out = OutputFileDatasetConfig("o")
    steps = [PythonScriptStep("nap.py", name="nap", outputs=[out], source_directory=src),
             PythonScriptStep("after.py", name="after", inputs=[out], source_directory=src),
             CommandStep("true", name="quick")]
    run = experiment.submit(Pipeline(workspace, steps))
    wait_for(lambda: any(s.display_name == "nap" and s.status == st.RUNNING for s in run.get_steps()),
             timeout=60, what="the nap step to run")
    run.cancel()
    run.wait_for_completion(timeout=60)
    assert run.get_status() == st.CANCELED
    statuses = {s.display_name: s.status for s in run.get_steps()}
    assert statuses["nap"] == st.CANCELED and statuses["after"] == st.CANCELED


def test_steps_take_their_environment_and_target_from_runconfig(workspace, experiment, project):
    src = project({"env.py": "import os, sys; print('GREETING', os.environ['GREETING'], sys.argv[1:])"})
    config = RunConfiguration(environment_variables={"GREETING": "hello"})
    run = experiment.submit(Pipeline(workspace, [
        PythonScriptStep("env.py", name="env", runconfig=config, source_directory=src, arguments=["--n", 3])]))
    run.wait_for_completion(timeout=120)
    assert "GREETING hello ['--n', '3']" in step(run, "env").get_log()


def test_the_diabetes_example_runs_and_is_reused_the_second_time(tmp_path):
    import subprocess
    from pathlib import Path
    submit = Path(__file__).resolve().parents[2] / "examples" / "pipeline-diabetes" / "submit.py"
    for attempt in range(2):
        done = subprocess.run([sys.executable, str(submit), str(tmp_path / "ws")], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Status: Completed" in done.stdout and "test_r2" in done.stdout
    assert done.stdout.count("reused: None") == 0  # the second time, every step is reused


def test_reuse_lookup_on_every_store(any_store_workspace, project):
    """The reuse key is found through the store (SQLite or PostgreSQL)."""
    src = project({"w.py": "import sys; open(sys.argv[1] + '/w.txt', 'w').write('w')"})
    write = PythonScriptStep("w.py", name="w", arguments=[OutputFileDatasetConfig("w")], source_directory=src)
    pipeline = Pipeline(any_store_workspace, [write])
    experiment = Experiment(any_store_workspace, "stores")
    first = experiment.submit(pipeline)
    first.wait_for_completion(timeout=120)
    second = experiment.submit(pipeline)
    second.wait_for_completion(timeout=120)
    assert reused(second) == {"w": step(first, "w").id}


MODEL_R = """\
    library(runyard)
    args <- commandArgs(trailingOnly = TRUE)
    rows <- as.numeric(readLines(file.path(args[[which(args == "--data") + 1]], "rows.txt")))
    writeLines(format(mean(rows)), file.path(args[[which(args == "--model") + 1]], "mean.txt"))
    log_metric_to_run("n_rows", length(rows))
    """


def test_a_python_r_python_pipeline_on_every_target(workspace, experiment, project, compute_target):
    """Python prep (local) -> an R step -> an estimator step, the last two on the target under
    test: each step's inputs reach it there, its outputs come back for the next."""
    from runyard import Environment, Estimator, EstimatorStep, RScriptStep
    prep_src = project({"prep.py": PREP, "data/raw.csv": "1\n2\n3\n4\n"}, name="prep_src")
    src = project({"model.R": MODEL_R, "evaluate.py": EVALUATE}, name="src")
    prepared, model = OutputFileDatasetConfig("prepared"), OutputFileDatasetConfig("model")
    r_config = RunConfiguration(environment=Environment("r-plain", r={"cran_packages": []}))
    steps = [
        PythonScriptStep("prep.py", name="prep", arguments=["--out", prepared], source_directory=prep_src),
        RScriptStep("model.R", name="model", arguments=["--data", prepared.as_input(), "--model", model],
                    compute_target=compute_target, runconfig=r_config, source_directory=src),
        EstimatorStep("evaluate", Estimator(str(src), entry_script="evaluate.py"),
                      estimator_entry_script_arguments=["--model", model.as_input(), "--data", prepared.as_input()],
                      compute_target=compute_target)]
    run = experiment.submit(Pipeline(workspace, steps))
    run.wait_for_completion(timeout=900, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, [(s.display_name, s.get_details()["error"]) for s in run.get_steps()]
    assert step(run, "model").get_metrics() == {"n_rows": 4}
    assert step(run, "evaluate").get_metrics()["mse"] == pytest.approx(1.25)  # rows 1..4 around 2.5
    assert step(run, "evaluate").get_details()["target"] == compute_target


def test_a_pipeline_whose_driver_was_killed_fails_and_its_resubmission_reruns_only_the_rest(
        workspace, experiment, project, wait_for, process_gone):
    import signal
    from runyard import Workspace
    src = project({"first.py": "import sys; open(sys.argv[1] + '/n.txt', 'w').write('1')",
                   "sleep.py": "import sys, time\nprint('sleeping', flush=True)\ntime.sleep(float(sys.argv[2]))\n"})
    done, nap = OutputFileDatasetConfig("done"), PipelineParameter("nap", default_value=60.0)
    pipeline = Pipeline(workspace, [
        PythonScriptStep("first.py", name="first", arguments=[done], source_directory=src),
        PythonScriptStep("sleep.py", name="sleep", arguments=[done.as_input(), nap], source_directory=src)])
    run = experiment.submit(pipeline)
    wait_for(lambda: run.find_step_run("sleep") and "sleeping" in step(run, "sleep").get_log(),
             timeout=120, what="the step to start")
    driver = workspace._store.get_run(run.id)["supervisor_pid"]
    os.kill(driver, signal.SIGKILL)
    wait_for(lambda: process_gone(driver), what="the driver to die")
    Workspace.get(workspace.path)  # opening the workspace notices the lost driver
    details = run.get_details()
    assert details["status"] == st.FAILED and "supervisor" in details["error"]["message"]
    sleeper = step(run, "sleep")  # the step is stopped with its pipeline
    wait_for(lambda: sleeper.get_status() == st.CANCELED, timeout=60, what="the step to be canceled")
    # submitted again (without the long nap): the step that completed is reused, the other runs
    again = experiment.submit(pipeline, pipeline_parameters={"nap": 0.0})
    again.wait_for_completion(timeout=120)
    assert reused(again) == {"first": step(run, "first").id, "sleep": None}


@pytest.mark.ray
@pytest.mark.postgres
def test_a_pipeline_with_a_step_on_the_ray_cluster(ray_workspace, project):
    """On the served workspace the cluster logs to: prep here, train on Ray, evaluate here;
    resubmitted, every step is reused, the Ray one included."""
    ws = ray_workspace
    pipeline = three_steps(ws, project)
    train = pipeline.graph.steps["train"]
    train.compute_target = "ray"
    experiment = Experiment(ws, "ray-pipeline")
    run = experiment.submit(pipeline)
    run.wait_for_completion(timeout=600, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, [(s.display_name, s.get_details()["error"]) for s in run.get_steps()]
    assert step(run, "train").get_details()["target"] == "ray"
    assert step(run, "train").get_metrics() == {"n_rows": 3}
    assert step(run, "evaluate").get_metrics()["mse"] == pytest.approx(2 / 3)
    again = experiment.submit(pipeline)
    again.wait_for_completion(timeout=300)
    assert reused(again) == {name: step(run, name).id for name in ("prep", "train", "evaluate")}


def test_outputs_with_a_destination_are_copied_to_the_datastore(workspace, experiment, project, tmp_path):
    from runyard import Datastore
    (tmp_path / "shared").mkdir()
    store = Datastore.register_local(workspace, "shared", str(tmp_path / "shared"))
    src = project({"write.py": "import sys; open(sys.argv[1] + '/out.txt', 'w').write('hello')",
                   "copy.py": "import sys; open(sys.argv[2] + '/copy.txt', 'w').write(open(sys.argv[1] + "
                              "'/out.txt').read())"})
    written = OutputFileDatasetConfig("written", destination=(store, "written/{run-id}"))
    copied = PipelineData("copied", datastore=store)
    run = experiment.submit(Pipeline(workspace, [
        PythonScriptStep("write.py", name="write", arguments=[written], source_directory=src),
        PythonScriptStep("copy.py", name="copy", arguments=[written.as_input(), copied], source_directory=src)]))
    run.wait_for_completion(timeout=120)
    writer, copier = step(run, "write"), step(run, "copy")
    assert (tmp_path / "shared" / "written" / writer.id / "out.txt").read_text() == "hello"
    assert (tmp_path / "shared" / "azureml" / copier.id / "copied" / "copy.txt").read_text() == "hello"
    assert "copied to datastore 'shared'" in run.get_log()
    with pytest.raises(ConfigError, match="destination must be \\(datastore, path\\)"):
        OutputFileDatasetConfig("x", destination="somewhere")
    with pytest.raises(ConfigError, match="only \\{run-id\\} and \\{output-name\\}"):
        OutputFileDatasetConfig("x", destination=(store, "out/{date}"))
