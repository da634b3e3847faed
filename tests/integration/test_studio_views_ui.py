"""The studio's views of sweeps, AutoML, assets and pipelines in a real browser (Debian's
Chromium driven by Playwright) against a real ``runyard studio`` on a workspace filled by
running things for real: a HyperDrive sweep whose policy stops two trials, a tiny AutoML run,
a run that reads a registered dataset and registers a model, a published pipeline with an
endpoint and a schedule.

What a user does: read a sweep's trials (sorted, charted, the stopped ones marked) and an
AutoML run's leaderboard, guardrails and feature importances; list a run's source files and
read one; follow a run's lineage to the dataset it read and the model it made, and back;
submit the published pipeline from its form and open the run it started; compare three trials
in parallel coordinates, by keyboard too. Each new page passes axe-core's scan without a
serious violation; screenshots go to .test-logs/studio/.

Without Chromium the module is skipped, except on CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
import requests
from playwright.sync_api import Page, expect

from runyard import (AutoMLConfig, BanditPolicy, Dataset, Experiment, GridParameterSampling, HyperDriveConfig,
                     Pipeline, PipelineParameter, PythonScriptStep, Run, ScriptRunConfig, Workspace, choice)
from runyard import status as st
from runyard.pipeline import PipelineEndpoint, Schedule, ScheduleRecurrence
from server_service import stop_server
from studio_browser import screenshot, serious_violations, start_studio

# each trial logs its trace of "acc"; with the Bandit policy below (slack 0.1, one trial at a
# time) B stops at its 3rd value (0.7 < 0.8 / 1.1) and D at its 1st (0.3 < 0.6 / 1.1)
TRACE = """\
    import argparse, time
    from runyard import Run
    TRACES = {"A": [0.5, 0.6, 0.8, 0.9], "B": [0.5, 0.55, 0.7, 0.85], "C": [0.6, 0.7, 0.8, 0.95],
              "D": [0.3, 0.4, 0.9, 0.9]}
    p = argparse.ArgumentParser(); p.add_argument("--trace"); p.add_argument("--lr", type=float)
    a = p.parse_args()
    run = Run.get_context()
    for value in TRACES[a.trace]:
        run.log("acc", value)
    run.flush()
    time.sleep(2)
    """
READ = """\
    import os
    from runyard import Run
    run = Run.get_context()
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.txt", "w") as fh:
        fh.write("weights")
    run.log("rows", 3)
    """
STEP = "import sys\nprint('step arguments', sys.argv[1:])\n"


def _frame(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(0, 1, rows), rng.normal(0, 1, rows)
    return pd.DataFrame({"x1": x1, "x2": x2, "noise": rng.normal(0, 1, rows),
                         "label": np.where(x1 + 0.5 * x2 > 0, "yes", "no")})


# -- the workspace, the studio, the browser ---------------------------------------------
@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("views-ws")
    ws = Workspace.create(folder / ".runyard")
    src = folder / "src"
    src.mkdir()
    (src / "trace.py").write_text(textwrap.dedent(TRACE))
    (src / "read.py").write_text(textwrap.dedent(READ))
    (src / "step.py").write_text(STEP)

    sweep = Experiment(ws, "sweeps").submit(HyperDriveConfig(
        run_config=ScriptRunConfig(str(src), script="trace.py", compute_target="local"),
        hyperparameter_sampling=GridParameterSampling({"--trace": choice("A", "B", "C", "D"), "--lr": choice(0.1)}),
        primary_metric_name="acc", primary_metric_goal="MAXIMIZE", policy=BanditPolicy(slack_factor=0.1),
        max_total_runs=4, max_concurrent_runs=1))
    automl = Experiment(ws, "automl").submit(AutoMLConfig(
        task="classification", primary_metric="accuracy", training_data=_frame(), label_column_name="label",
        iterations=4, max_concurrent_iterations=2, allowed_models=["LogisticRegression", "LightGBM"],
        n_cross_validations=2))

    trace = PipelineParameter("trace", default_value="A")
    pipeline_sweep = Experiment(ws, "pipeline-sweeps").submit(HyperDriveConfig(
        pipeline=Pipeline(ws, [PythonScriptStep("trace.py", name="train", arguments=["--trace", trace],
                                                source_directory=str(src))]),
        hyperparameter_sampling=GridParameterSampling({"trace": choice("A", "C")}), primary_metric_name="acc",
        primary_metric_goal="MAXIMIZE", max_total_runs=2, max_concurrent_runs=2))

    data = folder / "data"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    dataset = Dataset.File.from_files(str(data)).register(ws, "raw-files", description="raw rows",
                                                          tags={"source": "test"})
    reader = Experiment(ws, "train").submit(ScriptRunConfig(
        str(src), script="read.py", compute_target="local",
        arguments=["--data", dataset.as_named_input("raw").as_download()]))
    assert reader.wait_for_completion()["status"] == st.COMPLETED
    model = reader.register_model("churn-model", "outputs/model.txt", tags={"stage": "dev"}, description="a model")

    published = Pipeline(ws, [PythonScriptStep(
        "step.py", name="score", source_directory=str(src),
        arguments=["--factor", PipelineParameter("factor", default_value=2),
                   "--where", PipelineParameter("where", default_value="here")])]).publish(
        "scoring", version="1.0", description="scores the rows")
    endpoint = PipelineEndpoint.publish(ws, "scoring-endpoint", "the scoring endpoint", published)
    endpoint.add(Pipeline(ws, [PythonScriptStep(  # version 1, not the default: its own parameter
        "step.py", name="rank", source_directory=str(src),
        arguments=["--factor", PipelineParameter("depth", default_value=5)])]).publish("ranking", version="2.0"))
    Schedule.create(ws, "nightly", published.id, "scheduled", recurrence=ScheduleRecurrence("Day", 1),
                    pipeline_parameters={"factor": 3})

    assert sweep.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    assert automl.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    assert pipeline_sweep.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    trials = {json.loads(child.get_properties()["hyperparameters"])["--trace"]: child
              for child in sweep.get_children()}
    return {"folder": folder, "ws": ws, "sweep": sweep, "trials": trials, "pipeline_sweep": pipeline_sweep,
            "automl": automl, "reader": reader,
            "model": model, "published": published}


@pytest.fixture(scope="module")
def studio(seeded, tmp_path_factory) -> str:
    proc, url = start_studio(seeded["folder"], tmp_path_factory.mktemp("views-studio") / "studio.log")
    yield url
    stop_server(proc)


def section(page: Page, title: str):
    return page.get_by_role("region", name=title, exact=True)


# -- sweeps and AutoML ----------------------------------------------------------------
def test_a_sweeps_trials_are_tabled_and_charted_with_the_stopped_ones_marked(page: Page, studio: str, seeded):
    trials = seeded["trials"]
    page.goto(f"{studio}/#/runs/{seeded['sweep'].id}")
    region = section(page, "Trials")
    table = region.get_by_role("table", name="Trials")
    expect(table.get_by_role("columnheader")).to_have_text(["Trial ▲", "Status", "--trace", "--lr", "acc",
                                                             "Stopped by"])
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0).get_by_role("cell")).to_have_text(["0", "Completed", "A", "0.1", "0.9", ""])
    for name in ("B", "D"):
        row = rows.filter(has=page.get_by_role("cell", name=name, exact=True))
        expect(row).to_contain_text("Canceled")
        expect(row).to_contain_text("stopped: BanditPolicy")
    best = rows.filter(has_text="(best)")
    expect(best).to_have_count(1)
    expect(best.get_by_role("cell").nth(2)).to_have_text("C")  # its 0.95 beats A's 0.9
    expect(region).to_contain_text("4 of at most 4 trials, grid sampling, stopped early by Bandit policy; "
                                   "primary metric acc")
    expect(region).to_contain_text("best:")

    acc = table.get_by_role("columnheader", name="acc")
    acc.get_by_role("button").click()
    expect(acc).to_have_attribute("aria-sort", "descending")
    expect(rows.locator("td:nth-child(3)")).to_have_text(["C", "A", "D", "B"])  # D's 0.9 came after its stop
    acc.get_by_role("button").click()
    expect(rows.locator("td:nth-child(3)")).to_have_text(["B", "A", "D", "C"])

    chart = region.get_by_role("group", name="Chart of acc against --trace for 4 trials", exact=False)
    expect(chart.locator("a.point")).to_have_count(4)
    expect(chart.locator("a.point.stopped")).to_have_count(2)
    expect(chart.locator(".best-ring")).to_have_count(1)
    expect(chart.locator("a.point:has(.best-ring) title")).to_contain_text("trial 2: --trace C")
    # the points are in the tab order after the axis choice, each a link to its trial
    region.get_by_role("combobox", name="acc against").focus()
    page.keyboard.press("Tab")
    expect(chart.get_by_role("link").first).to_be_focused()
    region.get_by_role("combobox", name="acc against").select_option("--lr")
    lr_chart = region.get_by_role("group", name="Chart of acc against --lr", exact=False)
    expect(lr_chart).to_be_visible()
    screenshot(page, "views-sweep-trials")
    lr_chart.get_by_role("link", name="trial 2: --lr", exact=False).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{studio}/#/runs/{trials['C'].id}")
    page.go_back()

    table.get_by_role("link", name="2", exact=True).click()
    expect(page).to_have_url(f"{studio}/#/runs/{trials['C'].id}")


def test_a_sweep_over_a_pipeline_scores_each_trial_by_what_its_steps_logged(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/runs/{seeded['pipeline_sweep'].id}")
    table = section(page, "Trials").get_by_role("table", name="Trials")
    expect(table.get_by_role("columnheader")).to_have_text(["Trial ▲", "Status", "trace", "acc", "Stopped by"])
    rows = table.locator("tbody tr")
    expect(rows.locator("td:nth-child(3)")).to_have_text(["A", "C"])
    expect(rows.locator("td:nth-child(4)")).to_have_text(["0.9", "0.95"])
    expect(rows.filter(has_text="(best)").locator("td:nth-child(3)")).to_have_text("C")


def test_a_running_sweeps_trials_are_followed_until_it_ends(page: Page, studio: str, seeded):
    sweep = Experiment(seeded["ws"], "sweeps").submit(HyperDriveConfig(
        run_config=ScriptRunConfig(str(seeded["folder"] / "src"), script="trace.py", compute_target="local"),
        hyperparameter_sampling=GridParameterSampling({"--trace": choice("A", "C")}), primary_metric_name="acc",
        primary_metric_goal="MAXIMIZE", max_total_runs=2, max_concurrent_runs=1))
    page.goto(f"{studio}/#/runs/{sweep.id}")
    expect(page.locator(".run-header")).not_to_contain_text("Completed")  # each trial takes 2 s or more
    rows = section(page, "Trials").get_by_role("table", name="Trials").locator("tbody tr")
    expect(rows.locator("td:nth-child(2)")).to_have_text(["Completed", "Completed"], timeout=60_000)
    expect(rows.filter(has_text="(best)").locator("td:nth-child(3)")).to_have_text("C")
    expect(page.locator(".run-header")).to_contain_text("Completed", timeout=30_000)
    assert sweep.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED


def test_an_automl_run_shows_its_leaderboard_guardrails_and_feature_importances(page: Page, studio: str, seeded):
    automl = seeded["automl"]
    best_id = automl.get_tags()["automl_best_child_run_id"]
    page.goto(f"{studio}/#/runs/{automl.id}")
    region = section(page, "AutoML")
    board = region.get_by_role("table", name="Leaderboard")
    rows = board.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("(best)")  # ranked by accuracy: the best first
    best_iteration = automl.get_children()
    best_iteration = next(c for c in best_iteration if c.id == best_id).get_properties()["iteration"]
    expect(rows.nth(0).get_by_role("link")).to_have_text(best_iteration)
    expect(board).to_contain_text("VotingEnsemble (ensemble of iterations")
    expect(board).to_contain_text("StackEnsemble (ensemble of iterations")
    expect(board).to_contain_text("LogisticRegression")
    expect(board).to_contain_text("LightGBM")
    scores = [float(t) for t in rows.locator("td:nth-child(4)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True), scores

    guardrails = region.get_by_role("table", name="Guardrails")
    expect(guardrails.get_by_role("row", name="Class balancing detection")).to_contain_text("Passed")
    expect(guardrails.get_by_role("row", name="Validation split handling")).to_contain_text("2-fold cross-validation")
    importance = region.get_by_role("table", name="Feature importance")
    expect(importance.get_by_role("rowheader")).to_have_count(3)
    expect(importance.get_by_role("rowheader").first).to_have_text("x1")  # the label is x1 + x2 / 2
    screenshot(page, "views-automl")

    rows.nth(0).get_by_role("link").click()
    expect(page).to_have_url(f"{studio}/#/runs/{best_id}")


def test_a_running_automl_runs_leaderboard_fills_in_as_it_goes(page: Page, studio: str, seeded):
    automl = Experiment(seeded["ws"], "automl").submit(AutoMLConfig(
        task="classification", primary_metric="accuracy", training_data=_frame(), label_column_name="label",
        iterations=2, max_concurrent_iterations=1, allowed_models=["LogisticRegression"], n_cross_validations=2,
        model_explainability=False))
    page.goto(f"{studio}/#/runs/{automl.id}")
    expect(page.locator(".run-header")).not_to_contain_text("Completed")
    board = section(page, "AutoML").get_by_role("table", name="Leaderboard")
    expect(board.locator("tbody tr td:nth-child(6)")).to_have_text(["Completed", "Completed"], timeout=90_000)
    expect(board.locator("tbody tr").filter(has_text="(best)")).to_have_count(1, timeout=30_000)
    expect(section(page, "AutoML").get_by_role("table", name="Guardrails")).to_be_visible()
    assert automl.wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED


# -- a run's source and lineage, models and datasets -----------------------------------
def test_a_runs_source_files_and_lineage_lead_to_its_dataset_and_model(page: Page, studio: str, seeded):
    reader = seeded["reader"]
    page.goto(f"{studio}/#/runs/{reader.id}")
    source = section(page, "Source snapshot")
    source.get_by_role("button", name="List source files").click()
    files = source.get_by_role("table", name="Source files")
    expect(files.locator("tbody td:first-child")).to_have_text(["read.py", "step.py", "trace.py"])
    expect(files.get_by_role("row", name="read.py")).to_contain_text(f"{len(textwrap.dedent(READ))}")
    source.get_by_role("button", name="View source read.py").click()
    expect(source.get_by_role("region", name="Source of read.py")).to_contain_text('fh.write("weights")')
    source.scroll_into_view_if_needed()
    screenshot(page, "views-run-source")

    lineage = section(page, "Lineage")
    expect(lineage.get_by_role("region", name="Inputs")).to_contain_text("dataset raw-files version 1 as raw")
    lineage.get_by_role("link", name="model churn-model version 1").click()
    expect(page).to_have_url(f"{studio}/#/models/churn-model/1")
    detail = page.get_by_role("article", name="churn-model version 1")
    expect(detail).to_contain_text("a model")
    expect(detail.get_by_role("table", name="Tags")).to_contain_text("stagedev")
    expect(detail.get_by_role("region", name="Produced by").get_by_role("link")).to_have_text([reader.id])
    expect(detail.get_by_role("region", name="Read by")).to_contain_text("No run has read it.")
    screenshot(page, "views-model")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Datasets").click()
    datasets = page.get_by_role("table", name="Datasets")
    expect(datasets.get_by_role("row", name="raw-files")).to_contain_text("raw rows")
    datasets.get_by_role("link", name="raw-files").click()
    detail = page.get_by_role("article", name="raw-files version 1")
    expect(detail).to_contain_text("1 (8 bytes)")
    version_files = detail.get_by_role("table", name="Files of the version")
    expect(version_files.get_by_role("row", name="a.csv")).to_contain_text("8")
    expect(detail.get_by_role("region", name="Read by")).to_contain_text(f"{reader.id} as raw")
    screenshot(page, "views-dataset")
    detail.get_by_role("region", name="Read by").get_by_role("link").click()
    expect(page).to_have_url(f"{studio}/#/runs/{reader.id}")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Models").click()
    models = page.get_by_role("table", name="Models")
    expect(models.get_by_role("row", name="churn-model")).to_contain_text("churn-model11")


# -- pipelines ------------------------------------------------------------------------
def test_a_published_pipeline_is_submitted_from_its_form_and_its_run_appears(page: Page, studio: str, seeded):
    store = seeded["ws"]._store
    nightly = store.get_asset("schedule", "nightly")
    for slot, run_id, error in (("2030-01-01T00:00", seeded["reader"].id, None), ("2030-01-02T00:00", None, "boom")):
        assert store.claim_firing(nightly["id"], slot)  # as the scheduler records one (no scheduler runs here)
        store.end_firing(nightly["id"], slot, run_id=run_id, error=error)
    page.goto(f"{studio}/#/pipelines")
    published = page.get_by_role("table", name="Published pipelines")
    expect(published.get_by_role("row", name="scoring")).to_contain_text("factor=2, where=here")
    expect(page.get_by_role("table", name="Pipeline endpoints")).to_contain_text("0: scoring 1.0")
    schedules = page.get_by_role("table", name="Schedules")
    expect(schedules.get_by_role("row", name="nightly")).to_contain_text("every 1 Day")
    expect(schedules.get_by_role("row", name="nightly")).to_contain_text("factor=3")
    firings = schedules.get_by_role("row", name="nightly").get_by_role("listitem")
    expect(firings).to_have_count(2)
    expect(firings.first).to_contain_text("boom")  # the latest first
    expect(firings.last.get_by_role("link")).to_have_text(seeded["reader"].id)

    published.get_by_role("button", name="Submit scoring 1.0").click()
    form = page.get_by_role("form", name="Submit scoring 1.0")
    form.get_by_label("Experiment").fill("from-studio")
    form.get_by_label("factor").fill("five")
    form.get_by_role("button", name="Submit", exact=True).click()
    expect(form.get_by_role("alert")).to_have_text('factor: "five" is not a whole number')
    form.get_by_label("factor").fill("5")
    form.get_by_role("button", name="Submit", exact=True).click()
    started = form.get_by_role("status")
    expect(started).to_contain_text("Submitted:", timeout=30_000)
    screenshot(page, "views-pipelines")
    started.get_by_role("link").click()
    expect(page.locator(".run-header")).to_contain_text("Completed", timeout=60_000)
    run_id = page.url.rsplit("/", 1)[1]
    ws = seeded["ws"]
    run = ws._store.get_run(run_id)
    assert run["experiment"] == "from-studio" and run["run_type"] == "pipeline"
    (step,) = ws._store.list_runs(parent_id=run_id)
    page.goto(f"{studio}/#/runs/{step['run_id']}")
    expect(page.locator(".log")).to_contain_text("step arguments ['--factor', '5', '--where', 'here']")


def test_an_endpoint_is_submitted_at_its_default_version(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/pipelines")
    page.get_by_role("button", name="Submit endpoint scoring-endpoint").click()
    form = page.get_by_role("form", name="Submit endpoint scoring-endpoint")
    expect(form.get_by_label("Version")).to_have_value("0")
    expect(form.get_by_label("where")).to_have_value("here")
    form.get_by_label("Experiment").fill("from-endpoint")
    form.get_by_label("where").fill("there")
    step, text = _submitted_step(form, studio, seeded, "from-endpoint")
    assert "step arguments ['--factor', '2', '--where', 'there']" in text


def _submitted_step(form, studio: str, seeded, experiment: str) -> tuple[dict, str]:
    """Submits ``form``; the one step of the pipeline run it started, once that ended
    Completed, and the step's logs."""
    form.get_by_role("button", name="Submit", exact=True).click()
    expect(form.get_by_role("status")).to_contain_text(f"in experiment {experiment}", timeout=30_000)
    run_id = form.get_by_role("status").get_by_role("link").inner_text()
    assert Run._from_id(seeded["ws"], run_id).wait_for_completion(raise_on_error=False)["status"] == st.COMPLETED
    (step,) = seeded["ws"]._store.list_runs(parent_id=run_id)
    logs = f"{studio}/api/v1/runs/{step['run_id']}/logs"
    return step, "".join(requests.get(f"{logs}/{log['name']}", timeout=30).json()["text"]
                         for log in requests.get(logs, timeout=30).json())


def test_an_endpoint_is_submitted_at_the_version_chosen_with_that_versions_parameters(page: Page, studio: str,
                                                                                     seeded):
    page.goto(f"{studio}/#/pipelines")
    page.get_by_role("button", name="Submit endpoint scoring-endpoint").click()
    form = page.get_by_role("form", name="Submit endpoint scoring-endpoint")
    form.get_by_label("Version").select_option("1")
    expect(form.get_by_label("depth")).to_have_value("5")
    expect(form.get_by_label("where")).to_have_count(0)
    form.get_by_label("Experiment").fill("from-endpoint-v1")
    form.get_by_label("depth").fill("7")
    step, text = _submitted_step(form, studio, seeded, "from-endpoint-v1")
    assert step["display_name"] == "rank"
    assert "step arguments ['--factor', '7']" in text


# -- comparing ------------------------------------------------------------------------
def test_three_trials_are_drawn_in_parallel_coordinates_reachable_by_keyboard(page: Page, studio: str, seeded):
    trials = seeded["trials"]
    ids = [trials[name].id for name in ("A", "B", "C")]
    page.goto(f"{studio}/#/compare/{','.join(ids)}")
    figure = page.get_by_role("figure", name="Parallel coordinates", exact=False)
    lines = figure.locator("path.pc-line")
    expect(lines).to_have_count(3)
    for line in lines.all():
        assert line.get_attribute("d").count("L") >= 1  # drawn through at least two axes
    # each label in full (cut short on the axis); a trial's values are an axis each, --lr left out (the same)
    expect(figure.locator(".pc-axis title")).to_have_text([
        "property:hyperdrive.trial_index", "property:hyperparameters.--trace", "property:stopped_by",
        "tag:hyperparameters.--trace", "acc"])

    page.get_by_role("link", name="Models").focus()
    for _ in range(80):  # Tab until a line has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.classList.contains('pc-line')"):
            break
    else:
        pytest.fail("no line of the chart can be reached with Tab")
    focused = page.evaluate("document.activeElement.dataset.run")
    assert focused == ids[0]
    expect(figure.locator(f'path[data-run="{ids[0]}"]')).to_have_class("pc-line highlighted")
    expect(figure.locator("path.pc-line.dimmed")).to_have_count(2)
    expect(figure.locator("[aria-live]")).to_contain_text("acc 0.9")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.run") == ids[1]

    figure.get_by_text("The chart's values as a table").click()
    values = figure.get_by_role("table", name="Parallel coordinates values")
    expect(values.locator("tbody tr")).to_have_count(3)
    expect(values.get_by_role("row", name=f"{seeded['sweep'].id}_2", exact=False)).to_contain_text("0.95")
    screenshot(page, "views-parallel-coordinates")


# -- accessibility --------------------------------------------------------------------
def test_the_new_views_have_no_serious_accessibility_violations(page: Page, studio: str, seeded):
    found = {}
    trials = seeded["trials"]
    visits = [
        ("sweep", f"#/runs/{seeded['sweep'].id}",
         lambda: expect(page.get_by_role("table", name="Trials")).to_be_visible()),
        ("automl", f"#/runs/{seeded['automl'].id}",
         lambda: expect(page.get_by_role("table", name="Feature importance")).to_be_visible()),
        ("run source", f"#/runs/{seeded['reader'].id}", lambda: (
            page.get_by_role("button", name="List source files").click(),
            page.get_by_role("button", name="View source read.py").click(),
            expect(page.get_by_role("region", name="Source of read.py")).to_be_visible())),
        ("models", "#/models", lambda: expect(page.get_by_role("table", name="Models")).to_be_visible()),
        ("model", "#/models/churn-model",
         lambda: expect(page.get_by_role("region", name="Produced by")).to_be_visible()),
        ("dataset", "#/datasets/raw-files", lambda: expect(page.get_by_role("region", name="Read by")).to_be_visible()),
        ("pipelines", "#/pipelines", lambda: (
            page.get_by_role("button", name="Submit endpoint scoring-endpoint").click(),
            expect(page.get_by_role("form", name="Submit endpoint scoring-endpoint")).to_be_visible())),
        ("compare", f"#/compare/{trials['A'].id},{trials['B'].id},{trials['C'].id}", lambda: (
            page.get_by_text("The chart's values as a table").click(),
            expect(page.get_by_role("table", name="Parallel coordinates values")).to_be_visible())),
    ]
    for what, address, ready in visits:
        page.goto(f"{studio}/{address}")
        ready()
        found[what] = serious_violations(page)
    assert not any(found.values()), found
