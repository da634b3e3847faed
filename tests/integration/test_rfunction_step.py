"""RFunctionStep on the local target: R called through rpy2 inside the step's Python process,
data frames crossing between pandas and R in memory, R errors reported with R's message and
traceback, reuse, and the checks made before anything is submitted."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from runyard import Experiment, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep
from runyard import status as st
from runyard.errors import ConfigError, RunFailedError
from runyard.pipeline import RFunctionStep

# y = 1.5 + 2 x + noise, and a holdout to predict
X = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
Y = 1.5 + 2.0 * X + np.array([0.3, -0.2, 0.1, -0.4, 0.25, 0.05, -0.1, 0.2])
HOLDOUT = np.array([2.5, 10.0])

PREP = f"""\
    import sys, pandas as pd
    points, holdout = sys.argv[1], sys.argv[2]
    pd.DataFrame({{"x": {X.tolist()}, "y": {Y.tolist()}, "label": list("abcdefgh")}}).to_parquet(
        points + "/points.parquet")
    pd.DataFrame({{"x": {HOLDOUT.tolist()}}}).to_csv(holdout + "/holdout.csv", index=False)
    """

MODEL_R = """\
    # helpers the function calls, so an error happens a few calls deep
    check_columns <- function(frame, needed) {
      missing <- setdiff(needed, names(frame))
      if (length(missing)) stop("bad column: ", paste(missing, collapse = ", "))
      frame
    }
    prepare <- function(frame, formula) check_columns(frame, all.vars(formula))

    fit <- function(points, holdout, formula, level) {
      formula <- as.formula(formula)
      model <- lm(formula, data = prepare(points, formula))
      bounds <- confint(model, level = level)
      list(
        coefs = data.frame(term = names(coef(model)), estimate = unname(coef(model)),
                           lower = bounds[, 1], upper = bounds[, 2]),
        predictions = data.frame(x = holdout$x, predicted = unname(predict(model, newdata = holdout))),
        summary = list(r_squared = summary(model)$r.squared, n = nrow(points),
                       labels = is.character(points$label)))
    }
    """

REPORT = """\
    import json, sys, pandas as pd
    from runyard import Run
    coefs = pd.read_parquet(sys.argv[1] + "/data.parquet").set_index("term")
    predictions = pd.read_parquet(sys.argv[2] + "/data.parquet")
    summary = json.load(open(sys.argv[3] + "/value.json"))
    run = Run.get_context()
    run.log("intercept", float(coefs.loc["(Intercept)", "estimate"]))
    run.log("slope", float(coefs.loc["x", "estimate"]))
    run.log("slope_lower", float(coefs.loc["x", "lower"]))
    run.log("slope_upper", float(coefs.loc["x", "upper"]))
    run.log_list("predicted", [float(v) for v in predictions["predicted"]])
    run.log("r_squared", summary["r_squared"])
    run.log("n", summary["n"])
    run.log("labels_are_text", int(summary["labels"]))
    """


def step(run, name):
    (found,) = run.find_step_run(name)
    return found


def regression_pipeline(workspace, project, model_r=MODEL_R):
    prep_src = project({"prep.py": PREP}, name="prep_src")
    r_src = project({"model.R": model_r}, name="r_src")
    report_src = project({"report.py": REPORT}, name="report_src")
    points, holdout = OutputFileDatasetConfig("points"), OutputFileDatasetConfig("holdout")
    coefs, predictions, summary = (OutputFileDatasetConfig(n) for n in ("coefs", "predictions", "summary"))
    level = PipelineParameter("level", default_value=0.95)
    steps = [
        PythonScriptStep("prep.py", name="prep", arguments=[points, holdout], source_directory=prep_src),
        RFunctionStep(name="fit", source_directory=r_src, script_name="model.R", function="fit",
                      inputs=[points.as_input(), holdout.as_input()], outputs=[coefs, predictions, summary],
                      arguments={"formula": "y ~ x", "level": level}),
        PythonScriptStep("report.py", name="report", source_directory=report_src,
                         arguments=[coefs.as_input(), predictions.as_input(), summary.as_input()]),
    ]
    return Pipeline(workspace, steps)


def test_r_fits_a_model_on_a_python_steps_table_and_python_reads_what_r_returned(workspace, experiment, project):
    run = experiment.submit(regression_pipeline(workspace, project))
    run.wait_for_completion(timeout=180, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, [(s.display_name, s.get_details()["error"]) for s in run.get_steps()]
    design = np.column_stack([np.ones_like(X), X])
    (intercept, slope), *_ = np.linalg.lstsq(design, Y, rcond=None)
    metrics = step(run, "report").get_metrics()
    assert metrics["intercept"] == pytest.approx(intercept, rel=1e-9)
    assert metrics["slope"] == pytest.approx(slope, rel=1e-9)
    assert metrics["slope_lower"] < slope < metrics["slope_upper"]  # R's confint at level 0.95
    assert metrics["predicted"] == pytest.approx(list(intercept + slope * HOLDOUT), rel=1e-9)
    residuals = Y - design @ np.array([intercept, slope])
    assert metrics["r_squared"] == pytest.approx(1 - residuals @ residuals / ((Y - Y.mean()) @ (Y - Y.mean())))
    assert metrics["n"] == len(X) and metrics["labels_are_text"] == 1
    fit = step(run, "fit")
    assert {"outputs/coefs/data.parquet", "outputs/predictions/data.parquet",
            "outputs/summary/value.json"} <= set(fit.get_file_names())
    log = fit.get_log()
    assert "rpy2 3.5" in log and "input 'points'" in log and "as a data.frame (8 rows, 3 columns)" in log
    assert "input 'holdout'" in log and "holdout.csv" in log

    # a narrower level, given at submission, reaches R as a number
    narrow = experiment.submit(regression_pipeline(workspace, project), pipeline_parameters={"level": 0.5})
    narrow.wait_for_completion(timeout=180)
    narrower = step(narrow, "report").get_metrics()
    assert metrics["slope_lower"] < narrower["slope_lower"] < slope < narrower["slope_upper"] < metrics["slope_upper"]


def test_resubmitting_reuses_the_r_step_until_its_script_changes(workspace, experiment, project, tmp_path):
    first = experiment.submit(regression_pipeline(workspace, project))
    first.wait_for_completion(timeout=180)
    again = experiment.submit(regression_pipeline(workspace, project))
    again.wait_for_completion(timeout=180)
    assert again.get_step_reuse() == {name: step(first, name).id for name in ("prep", "fit", "report")}
    assert step(again, "report").get_metrics() == step(first, "report").get_metrics()
    # another R script (here: one more comment) runs the R step again
    changed = experiment.submit(regression_pipeline(workspace, project, model_r=MODEL_R + "# changed\n"))
    changed.wait_for_completion(timeout=180)
    reuse = changed.get_step_reuse()
    assert reuse["prep"] == step(first, "prep").id and reuse["fit"] is None


ERRORS_R = """\
    check_columns <- function(frame) {
      if (!"z" %in% names(frame)) stop("bad column")
      frame
    }
    prepare <- function(frame) check_columns(frame)
    fit <- function(points) {
      message("fitting ", nrow(points), " rows")
      prepare(points)
    }
    count_rows <- function(points) data.frame(n = nrow(points))
    """


def test_an_r_error_fails_its_step_with_rs_message_and_traceback_and_only_its_dependents(
        workspace, experiment, project):
    prep_src = project({"prep.py": PREP}, name="prep_src")
    r_src = project({"model.R": ERRORS_R}, name="r_src")
    use_src = project({"use.py": "import sys; print(open(sys.argv[1] + '/data.parquet', 'rb').read()[:4])"},
                      name="use_src")
    points, holdout = OutputFileDatasetConfig("points"), OutputFileDatasetConfig("holdout")
    fitted, counted = OutputFileDatasetConfig("fitted"), OutputFileDatasetConfig("counted")
    steps = [
        PythonScriptStep("prep.py", name="prep", arguments=[points, holdout], source_directory=prep_src),
        RFunctionStep(name="fit", source_directory=r_src, function="fit", inputs=[points.as_input()],
                      outputs=[fitted]),
        PythonScriptStep("use.py", name="use", arguments=[fitted.as_input()], source_directory=use_src),
        RFunctionStep(name="count", source_directory=r_src, function="count_rows", inputs=[points.as_input()],
                      outputs=[counted]),
        RFunctionStep(name="typo", source_directory=r_src, function="fitt", inputs=[points.as_input()]),
    ]
    run = experiment.submit(Pipeline(workspace, steps))
    with pytest.raises(RunFailedError, match=r"2 step\(s\) failed: 'fit', 'typo'; not run: 'use'"):
        run.wait_for_completion(timeout=180)
    statuses = {s.display_name: s.status for s in run.get_steps()}
    assert statuses == {"prep": st.COMPLETED, "fit": st.FAILED, "use": st.FAILED, "count": st.COMPLETED,
                        "typo": st.FAILED}
    fit = step(run, "fit")
    error = fit.get_details()["error"]["message"]
    assert error.startswith("Error in check_columns(frame) : bad column")
    # R's traceback, most recent call last, with where each call is in the script
    for line in ("R traceback (most recent call last):", "fit(points = points)", "prepare(points) at model.R#8",
                 "check_columns(frame) at model.R#5", 'stop("bad column") at model.R#2'):
        assert line in error, error
    assert fit._refresh()["exit_code"] == 1  # the Python process ended on its own, not killed
    log = fit.get_log()
    assert "fitting 8 rows" in log and "R traceback" in log  # R's message() output is kept too
    assert "not run: step 'fit'" in step(run, "use").get_details()["error"]["message"]
    typo = step(run, "typo").get_details()["error"]["message"]
    assert "model.R defines no function 'fitt' (the functions it defines: check_columns, count_rows, fit, " \
           "prepare)" in typo
    assert "outputs/counted/data.parquet" in step(run, "count").get_file_names()


def test_a_script_without_a_function_and_values_that_are_not_tables(workspace, experiment, project):
    """function=None: the inputs and arguments are variables and the script's last value is the
    result; a fitted model (no JSON for it) is kept as .rds and reaches the next R step whole."""
    src = project({
        "make.R": """\
            points <- data.frame(x = c(1, 2, 3, 4), y = c(2.1, 3.9, 6.2, 7.8))
            lm(y ~ x, data = points)
            """,
        "use.R": """\
            predict_at <- function(model, at) {
              stopifnot(inherits(model, "lm"))
              c(at = at, predicted = unname(predict(model, newdata = data.frame(x = at))))
            }
            """,
        "show.py": "import json, sys; print('PREDICTED', json.load(open(sys.argv[1] + '/value.json')))"})
    model, predicted = OutputFileDatasetConfig("model"), OutputFileDatasetConfig("predicted")
    steps = [RFunctionStep(name="make", source_directory=src, script_name="make.R", function=None, outputs=[model]),
             RFunctionStep(name="use", source_directory=src, script_name="use.R", function="predict_at",
                           inputs=[model.as_input()], outputs=[predicted], arguments={"at": 10}),
             PythonScriptStep("show.py", name="show", arguments=[predicted.as_input()], source_directory=src)]
    run = experiment.submit(Pipeline(workspace, steps))
    run.wait_for_completion(timeout=180, raise_on_error=False)
    assert run.get_status() == st.COMPLETED, [(s.display_name, s.get_details()["error"]) for s in run.get_steps()]
    assert "outputs/model/value.rds" in step(run, "make").get_file_names()
    slope, intercept = np.polyfit([1, 2, 3, 4], [2.1, 3.9, 6.2, 7.8], 1)
    shown = step(run, "show").get_log().split("PREDICTED ", 1)[1].splitlines()[0]
    value = json.loads(shown.replace("'", '"'))
    assert value["at"] == 10 and value["predicted"] == pytest.approx(intercept + 10 * slope)


def test_r_code_logs_metrics_through_the_python_it_runs_in(workspace, experiment, project):
    """R and Python are one process: R code reaches runyard's Python API through reticulate
    (as runyard's R package does), and the step still ends cleanly."""
    src = project({"model.R": """\
        count <- function() {
          run <- reticulate::import("runyard")$Run$get_context()
          run$log("r_pid", Sys.getpid())
          run$log("python_pid", reticulate::import("os")$getpid())
          data.frame(n = 1L)
        }
        """})
    out = OutputFileDatasetConfig("out")
    run = experiment.submit(Pipeline(workspace, [RFunctionStep(name="count", source_directory=src,
                                                               function="count", outputs=[out])]))
    run.wait_for_completion(timeout=180, raise_on_error=False)
    counted = step(run, "count")
    assert counted.status == st.COMPLETED, counted.get_details()["error"]
    metrics = counted.get_metrics()
    assert metrics["r_pid"] == metrics["python_pid"]


def test_r_packages_come_from_the_steps_environment(workspace, experiment, project, r_repository):
    """An R-only environment: its R library (built once) is on the embedded R's library path,
    the Python is the submitting one (which has rpy2)."""
    from runyard import Environment, RunConfiguration
    env = Environment("r-tiny", r={"cran_packages": [{"name": "runyardtinypkg"}], "repos": [r_repository]})
    src = project({"model.R": "answer <- function() data.frame(answer = runyardtinypkg::tiny_answer())\n"})
    out = OutputFileDatasetConfig("answer")
    run = experiment.submit(Pipeline(workspace, [
        RFunctionStep(name="answer", source_directory=src, function="answer", outputs=[out],
                      runconfig=RunConfiguration(environment=env))]))
    run.wait_for_completion(timeout=300, raise_on_error=False)
    answered = step(run, "answer")
    assert answered.status == st.COMPLETED, answered.get_details()["error"]
    answered.download_file("outputs/answer/data.parquet", str(workspace.path / "answer.parquet"))
    import pandas as pd
    assert pd.read_parquet(workspace.path / "answer.parquet")["answer"].tolist() == [42]


def test_bad_r_steps_are_refused_before_anything_is_submitted(workspace, experiment, project, monkeypatch):
    src = project({"model.R": "fit <- function(points) points\n", "notes.txt": "x"})
    points = OutputFileDatasetConfig("points")

    def submit(**kwargs):
        options = {"name": "fit", "source_directory": src, "outputs": [points], **kwargs}
        return experiment.submit(Pipeline(workspace, [RFunctionStep(**options)]))

    cases = [
        (lambda: submit(script_name="missing.R"), "step 'fit': script 'missing.R' does not exist in source_directory"),
        (lambda: submit(script_name="notes.txt"), "must name an R script \\(ending in .R\\)"),
        (lambda: submit(compute_target="docker"), "step 'fit': compute_target 'docker' is not the local target"),
        (lambda: submit(function="2fit"), "function '2fit' is not an R function name"),
        (lambda: submit(function="fit-model"), "function 'fit-model' is not an R function name"),
        (lambda: submit(function="if"), "function 'if' is not an R function name"),
        (lambda: submit(function=None, arguments=[1]), "with function=None the script gets its arguments as "
                                                       "variables"),
        (lambda: submit(arguments={"alpha": [1, 2]}), "arguments\\['alpha'\\] must be text, a number"),
        (lambda: submit(arguments="alpha"), "arguments must be a dict"),
    ]
    for attempt, message in cases:
        with pytest.raises(ConfigError, match=message):
            attempt()
    # a target of another type, attached under another name
    from runyard.compute.local import LocalTarget

    class FarAway(LocalTarget):
        type = "docker"

    with pytest.raises(ConfigError, match="compute_target 'far' is not the local target"):
        submit(compute_target=FarAway(workspace, "far"))
    # an environment of Python packages without rpy2
    from runyard import Environment, RunConfiguration
    env = Environment("no-rpy2")
    env.python.conda_dependencies.add_pip_package("pandas")
    with pytest.raises(ConfigError, match="environment 'no-rpy2' does not list rpy2 in its pip packages"):
        submit(runconfig=RunConfiguration(environment=env))
    # without rpy2 in the submitting Python
    import importlib.util
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rpy2" else
                        real_find_spec(name, *a))
    with pytest.raises(ConfigError, match='step \'fit\': an RFunctionStep runs R through rpy2 .* lacks rpy2: '
                                          'pip install "runyard\\[r\\]"'):
        submit()
    assert workspace._store.list_runs() == []


def test_importing_runyard_and_building_the_step_does_not_import_rpy2(project, run_python):
    src = project({"model.R": "fit <- function() 1\n"})
    done = run_python(f"""
        import sys
        import runyard
        from runyard.pipeline import RFunctionStep
        RFunctionStep(name="fit", source_directory={str(src)!r})
        print(sorted(m for m in ("rpy2", "pandas") if m in sys.modules))
        """, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_two_r_steps_run_side_by_side(workspace, project):
    """Each R step has an R of its own (in its own process), so independent ones overlap."""
    src = project({"model.R": "f <- function() { Sys.sleep(1); data.frame(pid = Sys.getpid()) }\n"})
    outs = [OutputFileDatasetConfig(f"o{i}") for i in range(2)]
    steps = [RFunctionStep(name=f"r{i}", source_directory=src, function="f", outputs=[outs[i]]) for i in range(2)]
    run = Experiment(workspace, "parallel").submit(Pipeline(workspace, steps))
    run.wait_for_completion(timeout=180)
    first, second = (s._refresh() for s in run.get_steps())
    assert first["start_time"] < second["end_time"] and second["start_time"] < first["end_time"]
