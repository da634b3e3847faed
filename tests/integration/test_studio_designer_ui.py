"""The designer's canvas in a real browser: Debian's Chromium driven by Playwright against a
``runyard studio`` on a fresh workspace that has scikit-learn's diabetes data (shipped
offline) registered as a dataset.

What a user does: build the regression sample (dataset, select columns, clean, split, train a
linear regression, score, evaluate) by dragging modules from the palette and connecting their
ports with the mouse, set parameters in the side panel, save, run the saved YAML with
``runyard pipeline submit -f`` and open the drawing again; see an invalid connection refused;
build and connect a pipeline with the keyboard alone; see a draft's problems on its nodes and
a refused save's message; submit from the canvas and watch the nodes' states; publish; and the
designer's pages pass axe-core's scan. Screenshots go to .test-logs/studio/designer-*.png.

Without Chromium the module is skipped, except on CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from runyard import Dataset, Run, Workspace
from server_service import stop_server
from studio_browser import screenshot, serious_violations, start_studio

SAMPLE_COLUMNS = "age,bmi,bp,s1,s5,target"
SMALL_CSV = "x,y\n1,2\n2,\n3,6\n"


def runyard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runyard.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


# -- the workspace, the studio, the browser ---------------------------------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict:
    """A workspace folder (``runyard init``) with the diabetes data registered as ``diabetes``."""
    from sklearn.datasets import load_diabetes
    folder = tmp_path_factory.mktemp("designer-ws")
    (folder / "data").mkdir()
    frame = load_diabetes(as_frame=True).frame
    frame.loc[3, "bmi"] = None  # one missing value for Clean Missing Data
    frame.to_csv(folder / "data" / "diabetes.csv", index=False)
    assert runyard("init", ".", cwd=folder).returncode == 0
    ws = Workspace.get(folder)
    Dataset.Tabular.from_delimited_files(str(folder / "data" / "diabetes.csv")).register(ws, "diabetes")
    return {"folder": folder, "ws": ws}


@pytest.fixture(scope="module")
def studio(workspace, tmp_path_factory) -> str:
    proc, url = start_studio(workspace["folder"], tmp_path_factory.mktemp("designer-studio") / "studio.log")
    yield url
    stop_server(proc)


# -- what a user does on the canvas ---------------------------------------------------------
def new_drawing(page: Page, studio: str, name: str) -> None:
    page.goto(f"{studio}/#/designer")
    page.get_by_label("New pipeline named").fill(name)
    page.get_by_role("button", name="New pipeline").click()
    expect(page.get_by_role("heading", name=f"Designer / {name}")).to_be_visible()


def canvas(page: Page):
    return page.get_by_role("group", name="Canvas")


def node(page: Page, node_id: str):
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def drag_module(page: Page, title: str, x: int, y: int) -> None:
    """Drag a module from the palette to (x, y) of the canvas."""
    page.get_by_role("button", name=f"Add {title}").drag_to(canvas(page), target_position={"x": x, "y": y})


def handle(page: Page, node_id: str, port: str, kind: str = "target"):
    """A port's handle on the canvas: kind "source" for an output, "target" for an input."""
    return node(page, node_id).locator(f'.react-flow__handle.{kind}[data-handleid="{port}"]')


def connect(page: Page, source: str, source_port: str, target: str, target_port: str) -> None:
    """Draw an edge with the mouse: from an output port's handle to an input port's."""
    drag_handle(page, handle(page, source, source_port, "source"), handle(page, target, target_port))


def drag_handle(page: Page, start_handle, end_handle) -> None:
    start, end = start_handle.bounding_box(), end_handle.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def select(page: Page, node_id: str):
    """Click a node (on its title, clear of its ports): the side panel shows it."""
    node(page, node_id).locator(".module-title").click()
    panel = page.locator(".node-panel")
    expect(panel.get_by_role("heading", level=3)).to_contain_text(node_id)
    return panel


def edges(page: Page):
    return canvas(page).locator(".react-flow__edge")


def status(page: Page):
    return page.locator(".designer-bar").get_by_role("status")


SAMPLE = [  # node id (the module's name), the palette's title, where it is dropped
    ("import_dataset", "Dataset", 30, 30), ("select_columns", "Select Columns in Dataset", 30, 170),
    ("clean_missing", "Clean Missing Data", 30, 310), ("split_data", "Split Data", 30, 450),
    ("train_model", "Train Model", 400, 30), ("score_model", "Score Model", 400, 200),
    ("evaluate_model", "Evaluate Model", 400, 370),
]
SAMPLE_EDGES = [("import_dataset", "output", "select_columns", "input"),
                ("select_columns", "output", "clean_missing", "input"),
                ("clean_missing", "output", "split_data", "input"), ("split_data", "output1", "train_model", "input"),
                ("train_model", "model", "score_model", "model"), ("split_data", "output2", "score_model", "input"),
                ("score_model", "output", "evaluate_model", "input")]


# -- the tests --------------------------------------------------------------------------
def test_the_sample_is_dragged_connected_saved_run_from_the_cli_and_reopened(page: Page, studio: str, workspace):
    new_drawing(page, studio, "price")
    for node_id, title, x, y in SAMPLE:
        drag_module(page, title, x, y)
        expect(node(page, node_id)).to_be_visible()
    for k, edge in enumerate(SAMPLE_EDGES):
        connect(page, *edge)
        expect(edges(page)).to_have_count(k + 1)
    expect(page.get_by_text("Unsaved changes")).to_be_visible()

    select(page, "import_dataset").get_by_label("dataset (required)").fill("diabetes")
    select(page, "select_columns").get_by_label("columns (required)").fill(SAMPLE_COLUMNS)
    select(page, "clean_missing").get_by_label("mode").select_option("median")
    panel = select(page, "split_data")
    panel.get_by_label("fraction").fill("0.75")
    panel.get_by_label("seed").fill("1")
    panel = select(page, "train_model")
    panel.get_by_label("label (required)").fill("target")
    panel.get_by_label("learner", exact=True).select_option("Linear Regression")
    expect(panel.get_by_text("scikit-learn learner", exact=False)).to_be_visible()  # the module's description
    page.get_by_role("button", name="Save").click()
    saved = workspace["folder"] / "designer" / "price"
    expect(status(page)).to_have_text(f"Saved as {saved}/pipeline.yml")
    expect(page.locator(".designer-bar").get_by_text("Saved", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Problems")).to_have_count(0)
    screenshot(page, "designer-canvas")

    result = runyard("pipeline", "submit", "-f", str(saved / "pipeline.yml"), "--json", cwd=workspace["folder"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    details = json.loads(result.stdout)
    assert details["status"] == "Completed"
    steps = {step["name"]: step for step in details["steps"]}
    assert set(steps) == {node_id for node_id, *_ in SAMPLE}
    metrics = Run.get(workspace["ws"], steps["evaluate_model"]["runId"]).get_metrics()
    assert 0.3 < metrics["Coefficient of Determination"] < 0.7 and metrics["Mean Absolute Error"] > 0

    page.close()
    again = page.context.new_page()
    again.goto(f"{studio}/#/designer")
    again.get_by_role("list", name="Saved drawings").get_by_role("link", name="price").click()
    expect(again.get_by_role("heading", name="Designer / price")).to_be_visible()
    expect(canvas(again).locator(".react-flow__node")).to_have_count(len(SAMPLE))
    expect(edges(again)).to_have_count(len(SAMPLE_EDGES))
    for node_id, title, *_ in SAMPLE:
        expect(canvas(again).get_by_label(f"{node_id} ({title})")).to_be_visible()
    above = node(again, "import_dataset").bounding_box()
    below = node(again, "select_columns").bounding_box()
    beside = node(again, "train_model").bounding_box()
    assert below["y"] > above["y"] + above["height"] and beside["x"] > above["x"] + above["width"]  # as dropped
    panel = select(again, "train_model")
    expect(panel.get_by_label("label (required)")).to_have_value("target")
    expect(select(again, "split_data").get_by_label("fraction")).to_have_value("0.75")
    expect(again.get_by_text("Unsaved changes")).to_have_count(0)


def test_an_invalid_connection_cannot_be_drawn(page: Page, studio: str):
    new_drawing(page, studio, "invalid")
    drag_module(page, "Enter Data Manually", 30, 30)
    drag_module(page, "Score Model", 400, 60)
    connect(page, "enter_data", "output", "score_model", "model")  # a table into a model port
    expect(status(page)).to_have_text(
        "Not connected: enter_data.output gives a dataframe and score_model.model takes a model")
    expect(edges(page)).to_have_count(0)
    options = select(page, "enter_data").get_by_label("Connect output output to").locator("option")
    expect(options).to_have_text(["score_model.input"])  # only the free input of its type

    connect(page, "enter_data", "output", "score_model", "input")
    expect(edges(page)).to_have_count(1)
    drag_module(page, "Enter Data Manually", 30, 250)
    connect(page, "enter_data_2", "output", "score_model", "input")  # the input has its edge already
    expect(status(page)).to_contain_text("score_model.input is connected already")
    expect(edges(page)).to_have_count(1)
    # output to output: no input takes it
    drag_handle(page, handle(page, "enter_data", "output", "source"), handle(page, "enter_data_2", "output", "source"))
    expect(edges(page)).to_have_count(1)


def test_a_pipeline_is_built_and_connected_with_the_keyboard_alone(page: Page, studio: str, workspace):
    new_drawing(page, studio, "keys")
    page.get_by_role("button", name="Add Enter Data Manually").press("Enter")
    expect(node(page, "enter_data")).to_be_focused()  # added at a free spot, focused and selected
    panel = page.locator(".node-panel")
    expect(panel.get_by_role("heading", level=3)).to_contain_text("enter_data")
    panel.get_by_label("data (required)").press_sequentially(SMALL_CSV.replace("\n", "\r"))
    page.get_by_role("button", name="Add Clean Missing Data").press("Enter")
    expect(node(page, "clean_missing")).to_be_focused()
    expect(panel.get_by_role("heading", level=3)).to_contain_text("clean_missing")
    panel.get_by_label("mode").press("End")  # the last choice: remove_row
    expect(panel.get_by_label("mode")).to_have_value("remove_row")

    node(page, "enter_data").press("Enter")  # the focused node, selected from the keyboard
    expect(panel.get_by_role("heading", level=3)).to_contain_text("enter_data")
    expect(panel.get_by_label("Connect output output to")).to_have_value("clean_missing.input")
    panel.get_by_role("button", name="Connect output output").press("Enter")
    expect(edges(page)).to_have_count(1)
    page.get_by_role("button", name="Save").press("Enter")
    expect(status(page)).to_contain_text("Saved as")
    saved = (workspace["folder"] / "designer" / "keys" / "pipeline.yml").read_text()
    assert "${{parent.jobs.enter_data.outputs.enter_data_output}}" in saved
    assert (workspace["folder"] / "designer" / "keys" / "params" / "enter_data.data.csv").read_text() == SMALL_CSV

    panel.get_by_role("button", name="Disconnect enter_data.output to clean_missing.input").press("Enter")
    expect(edges(page)).to_have_count(0)
    panel.get_by_role("button", name="Connect output output").press("Enter")
    edge = canvas(page).get_by_label("edge from enter_data output to clean_missing input")
    edge.press("Enter")  # an edge on the canvas, selected and removed from the keyboard
    edge.press("Delete")
    expect(edges(page)).to_have_count(0)
    node(page, "clean_missing").press("Enter")
    node(page, "clean_missing").press("Delete")
    expect(node(page, "clean_missing")).to_have_count(0)
    expect(page.get_by_text("Unsaved changes")).to_be_visible()

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("link", name="All drawings").press("Enter")  # leaving with unsaved changes asks first
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    assert asked == ["Leave this drawing? Its unsaved changes will be lost."] and page.url.endswith("#/designer/keys")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="All drawings").press("Enter")
    expect(page.get_by_role("list", name="Saved drawings")).to_be_visible()


def test_a_drafts_problems_are_shown_on_their_nodes_and_a_refused_save_says_why(page: Page, studio: str):
    new_drawing(page, studio, "draft")
    drag_module(page, "Enter Data Manually", 30, 30)
    drag_module(page, "Train Model", 400, 30)
    page.get_by_role("button", name="Save").click()
    problems = page.get_by_role("region", name="Problems")
    expect(problems).to_contain_text("enter_data: Enter Data Manually needs its 'data' parameter")
    expect(problems).to_contain_text("train_model: connect Train Model's input 'input' (a dataframe)")
    expect(node(page, "train_model").locator(".problem-badge")).to_have_text("2 problems")
    expect(node(page, "train_model")).to_contain_text("Train Model needs its 'label' parameter")
    panel = select(page, "train_model")
    expect(panel.get_by_label("label (required)")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "designer-problems")

    panel.get_by_label("Step name").fill("fit")
    panel.get_by_role("button", name="Rename").click()
    expect(canvas(page).get_by_label("fit (Train Model)")).to_be_visible()
    expect(problems).to_contain_text("fit: Train Model needs its 'label' parameter")
    page.get_by_role("button", name="Select enter_data").click()  # from the list to its node
    expect(node(page, "enter_data")).to_be_focused()
    expect(page.locator(".node-panel").get_by_role("heading", level=3)).to_contain_text("enter_data")
    panel = select(page, "fit")
    panel.get_by_label("Step name").fill("2fit")
    panel.get_by_role("button", name="Rename").click()
    expect(panel.get_by_text("A step name is a letter")).to_be_visible()

    panel.get_by_label("label (required)").fill("${{inputs.x}}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved: nodes[1].params.label:")
    expect(page.get_by_text("Unsaved changes")).to_be_visible()


def test_submitting_from_the_canvas_shows_live_states_and_publishing_names_the_pipeline(page: Page, studio: str):
    graph = {"nodes": [{"id": "typed", "module": "enter_data", "params": {"data": SMALL_CSV}, "position": {"x": 0, "y": 0}},
                       {"id": "clean", "module": "clean_missing", "params": {"mode": "mean"},
                        "position": {"x": 300, "y": 0}}],
             "edges": [{"source": "typed", "source_port": "output", "target": "clean", "target_port": "input"}]}
    saved = requests.put(f"{studio}/api/v1/designer/pipelines/live", json=graph, timeout=60)
    assert saved.status_code == 200 and saved.json()["problems"] == [], saved.text
    page.goto(f"{studio}/#/designer/live")
    expect(edges(page)).to_have_count(1)
    page.get_by_role("button", name="Submit").click()
    run_link = page.locator(".run-line").get_by_role("link")
    expect(run_link).to_be_visible(timeout=60_000)
    # each node follows its step: not finished at first (the steps take seconds), then Completed
    expect(node(page, "clean").locator(".status")).to_have_text(re.compile("NotStarted|Queued|Preparing|Starting|Running"))
    for node_id in ("typed", "clean"):
        expect(node(page, node_id).locator(".status")).to_have_text("Completed", timeout=180_000)
    screenshot(page, "designer-live")
    expect(page.locator(".run-line .status")).to_have_text("Completed")
    node(page, "clean").get_by_role("link", name="step run of clean").click()
    expect(page.get_by_role("heading", name="clean")).to_be_visible()

    page.go_back()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published pipeline live")).to_be_visible(timeout=60_000)
    published = page.locator(".run-line code").inner_text()
    from runyard.pipeline import PublishedPipeline
    assert PublishedPipeline.get(Workspace.get(Path(saved.json()["path"]).parents[1]), published).name == "live"


def test_a_hand_written_pipeline_folder_opens_on_the_canvas(page: Page, studio: str, workspace):
    folder = workspace["folder"] / "designer" / "hand"
    (folder / "params").mkdir(parents=True)
    (folder / "params" / "rows.csv").write_text(SMALL_CSV)
    (folder / "pipeline.yml").write_text(
        "type: pipeline\njobs:\n"
        "  rows:\n    code: .\n"
        "    command: python modules/enter_data.py --data ${{inputs.data}} --output ${{outputs.rows_output}}\n"
        "    inputs: {data: params/rows.csv}\n    outputs: {rows_output: {}}\n"
        "  tidy:\n    code: .\n"
        "    command: python modules/clean_missing.py --input ${{inputs.input}} --mode ${{inputs.mode}}"
        " --output ${{outputs.tidy_output}}\n"
        "    inputs: {input: '${{parent.jobs.rows.outputs.rows_output}}', mode: median}\n"
        "    outputs: {tidy_output: {}}\n")
    page.goto(f"{studio}/#/designer/hand")
    expect(canvas(page).get_by_label("rows (Enter Data Manually)")).to_be_visible()
    expect(canvas(page).get_by_label("tidy (Clean Missing Data)")).to_be_visible()
    screenshot(page, "designer-hand")
    expect(edges(page)).to_have_count(1)
    rows, tidy = node(page, "rows").bounding_box(), node(page, "tidy").bounding_box()
    assert tidy["x"] > rows["x"] + rows["width"]  # laid out by its edges, not stacked at the origin
    expect(select(page, "tidy").get_by_label("mode")).to_have_value("median")


def test_the_designer_pages_have_no_serious_accessibility_violations(page: Page, studio: str):
    """axe-core's scan of the drawings' list and of a canvas with a node selected and problems shown."""
    graph = {"nodes": [{"id": name, "module": module, "params": {}, "position": {"x": x, "y": 0}}
                       for name, module, x in (("data", "enter_data", 0), ("train", "train_model", 300),
                                               ("code", "execute_python", 600))],
             "edges": [{"source": "data", "source_port": "output", "target": "train", "target_port": "input"}]}
    assert requests.put(f"{studio}/api/v1/designer/pipelines/scanned", json=graph, timeout=60).status_code == 200
    found = {}
    page.goto(f"{studio}/#/designer")
    expect(page.get_by_role("link", name="scanned")).to_be_visible()
    screenshot(page, "designer-list")
    found["drawings"] = serious_violations(page)
    page.goto(f"{studio}/#/designer/scanned")
    expect(page.get_by_role("region", name="Problems")).to_be_visible()
    found["canvas"] = serious_violations(page)
    select(page, "train")
    found["train's panel"] = serious_violations(page)
    select(page, "code")
    found["a script's panel"] = serious_violations(page)
    assert not any(found.values()), found
