"""The studio in a real browser: Debian's Chromium driven by Playwright against a real
``runyard studio`` on loopback, on a workspace filled through runyard's Python API.

What a user does: read and sort and filter a runs table of 100,000 runs that loads its rows as
they scroll into view; open a run and see its status, properties, tags, a chart drawn from its
metric (zoomed in and out), the table and image it logged, its files (a text file read in the page, one downloaded), its
child runs, compared side by side; follow a live log while lines are appended; cancel a run; watch a pipeline's
graph as its steps finish; give the token a protected server asks for, once. And the main
pages pass axe-core's accessibility scan without a serious violation. Screenshots of the main
pages go to .test-logs/studio/.

Without Chromium the module is skipped, except on CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import sqlalchemy as sa

from runyard import Experiment, Workspace
from runyard import status as st
from runyard.store import schema
from server_service import stop_server
from studio_browser import screenshot, serious_violations, start_studio

BULK_RUNS = 100_000
PAGE = 50  # the runs table's page (web/src/useRunPages.ts PAGE_SIZE)
TOKEN = "studio-test-token-0123456789"


def bulk_score(n: int) -> float:
    """Run n's score: 0..99,999 each once (7919 is prime to 100,000), in no order of n."""
    return float((n * 7919) % BULK_RUNS)


# -- the workspace, the studio, the browser ---------------------------------------------
@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict:
    """A workspace with an experiment of a parent run (properties, tags, a 5,000-point metric,
    three child runs, files, a log) and one of 100,000 runs written straight to the store's
    tables (as many create_run calls would take minutes), their metric through log_metrics."""
    folder = tmp_path_factory.mktemp("studio-ws")
    ws = Workspace.create(folder / ".runyard")
    parent = Experiment(ws, "mnist").start_logging(display_name="sweep parent",
                                                   tags={"team": "vision", "reviewed": None})
    parent.add_properties({"seed": "42", "framework": "torch"})
    for step in range(5000):
        parent.log("loss", 2.0 * math.exp(-step / 800) + 0.05 * math.sin(step / 7), step=step)
    parent.log("accuracy", 0.93)
    parent.log_table("confusion", {"label": ["cat", "dog"], "predicted_cat": [9, 2]})
    for epoch in range(3):
        parent.log_row("epochs", epoch=epoch, lr=0.1 / (epoch + 1))
    (folder / "dot.png").write_bytes(one_pixel_png())
    parent.log_image("sample", path=str(folder / "dot.png"))
    for k in range(3):
        child = parent.child_run(name=f"trial {k}")
        child.add_properties({"lr": ["0.1", "0.2", "0.3"][k], "framework": "torch"})
        child.log("loss", 1.0 / (k + 1))
        child.complete()
    (folder / "notes.txt").write_text("hello from the run\nsecond line\n")
    parent.upload_file("outputs/notes.txt", str(folder / "notes.txt"))
    (folder / "model.bin").write_bytes(bytes(range(256)) * 16)
    parent.upload_file("outputs/model.bin", str(folder / "model.bin"))
    parent.complete()

    store = ws._store
    store.create_run({"run_id": "bulk_00000", "experiment": "bulk", "run_type": "interactive", "status": st.FAILED,
                      "display_name": "bulk run 0"})  # the experiment, and the oldest run
    now = time.time() + 1
    rows = [{"run_id": f"bulk_{n:05d}", "experiment": "bulk", "run_number": n + 1, "run_type": "interactive",
             "status": st.FAILED if n % 3 == 0 else st.COMPLETED, "display_name": f"bulk run {n}",
             "created_at": now + n / 1000} for n in range(1, BULK_RUNS)]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.runs), rows)
    store.log_metrics([{"run_id": f"bulk_{n:05d}", "name": "score", "kind": "scalar", "value_num": bulk_score(n),
                        "value_text": None, "logged_at": now} for n in range(BULK_RUNS)])
    return {"folder": folder, "ws": ws, "parent": parent.id}


def one_pixel_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def studio(seeded, tmp_path_factory) -> str:
    proc, url = start_studio(seeded["folder"], tmp_path_factory.mktemp("studio") / "studio.log")
    yield url
    stop_server(proc)


def runs_region(page: Page, name: str = "Runs"):
    return page.get_by_role("region", name=name, exact=True)


# -- the runs table -------------------------------------------------------------------
def test_runs_table_sorts_filters_and_pages_as_it_scrolls(page: Page, studio: str, seeded):
    queries: list[dict] = []
    page.on("request", lambda r: queries.append(r.post_data_json) if r.url.endswith("/runs/query") else None)
    page.goto(f"{studio}/#/experiments/bulk")
    expect(page.get_by_role("banner")).to_contain_text(f"workspace {seeded['ws'].name}")
    expect(page).to_have_title("bulk · runyard studio")
    region = runs_region(page)
    table = region.get_by_role("table", name="Runs")
    expect(region.get_by_role("status")).to_have_text("100,000 runs")
    expect(table.get_by_role("link", name="bulk run 99999", exact=True)).to_be_visible()  # newest first

    region.get_by_label("Metric column").fill("score")
    region.get_by_role("button", name="Add column").click()
    score = table.get_by_role("columnheader", name="score")
    score.get_by_role("button", name="score", exact=True).click()
    expect(score).to_have_attribute("aria-sort", "ascending")
    first = table.locator('tr[aria-rowindex="2"]')
    expect(first.get_by_role("link")).to_have_text("bulk run 0")
    expect(first.get_by_role("cell").last).to_have_text("0")
    score.get_by_role("button", name="score", exact=True).click()
    expect(score).to_have_attribute("aria-sort", "descending")
    highest = next(n for n in range(BULK_RUNS) if bulk_score(n) == BULK_RUNS - 1)
    expect(first.get_by_role("link")).to_have_text(f"bulk run {highest}")
    expect(first.get_by_role("cell").last).to_have_text(str(BULK_RUNS - 1))
    screenshot(page, "runs-table")

    # to the bottom: the last page is fetched, not the 1,998 between
    queries.clear()
    table.evaluate("table => { const box = table.parentElement; box.scrollTop = box.scrollHeight; }")
    last = table.locator(f'tr[aria-rowindex="{BULK_RUNS + 1}"]')
    expect(last.get_by_role("link")).to_have_text("bulk run 0")
    offsets = {q["offset"] for q in queries}
    assert BULK_RUNS - PAGE in offsets and len(offsets) <= 3, offsets
    assert all(q["sort"] == "metric:score" and q["descending"] and q["columns"] == ["score"] for q in queries)

    region.get_by_label("Status").select_option("Failed")
    expect(region.get_by_role("status")).to_have_text("33,334 runs")
    best_failed = max((n for n in range(0, BULK_RUNS, 3)), key=bulk_score)
    expect(first.get_by_role("link")).to_have_text(f"bulk run {best_failed}")
    expect(first).to_be_in_viewport()  # a new filter shows its first rows
    region.get_by_label("Status").select_option("any")
    region.get_by_role("searchbox", name="Search runs").fill("run 12")
    expect(region.get_by_role("status")).to_have_text("1,111 runs")  # 12, 120-129, 1200-1299, 12000-12999
    region.get_by_role("searchbox", name="Search runs").fill("bulk run 12345")
    expect(table.get_by_role("link")).to_have_text(["bulk run 12345"])
    region.get_by_role("searchbox", name="Search runs").fill("no such run")
    expect(region.get_by_role("status")).to_have_text("0 runs")
    expect(region.get_by_text("No runs match.")).to_be_visible()
    region.get_by_role("searchbox", name="Search runs").fill("")

    conditions = region.get_by_label("Filter runs")
    conditions.fill("score < 10")
    expect(region.get_by_role("status")).to_have_text("10 runs")
    conditions.fill("score >= 10, score < low")
    expect(region.get_by_role("alert")).to_have_text("score < low: low is not a number")
    expect(conditions).to_have_attribute("aria-invalid", "true")


def test_all_runs_lists_experiments_and_top_level_runs(page: Page, studio: str, seeded):
    page.goto(f"{studio}/")
    nav = page.get_by_role("navigation", name="Experiments")
    expect(nav.get_by_role("link", name="mnist")).to_be_visible()
    expect(nav.get_by_role("link", name="bulk")).to_be_visible()
    expect(page.get_by_role("heading", name="All runs")).to_be_visible()
    region = runs_region(page)
    store = seeded["ws"]._store
    top_level = len(store.list_runs(top_level_only=True))
    expect(region.get_by_role("status")).to_have_text(f"{top_level:,} runs")
    region.get_by_label("Include child runs").check()
    expect(region.get_by_role("status")).to_have_text(f"{top_level + 3:,} runs")
    region.get_by_label("Filter runs").fill("tag:team = vision, property:seed = 42, accuracy > 0.9")
    expect(region.get_by_role("status")).to_have_text("1 run")
    expect(region.get_by_role("table", name="Runs").get_by_role("link")).to_have_text(["sweep parent"])

    nav.get_by_role("link", name="mnist").click()
    expect(page).to_have_url(f"{studio}/#/experiments/mnist")
    expect(page.get_by_role("heading", name="Experiment mnist")).to_be_visible()
    expect(nav.get_by_role("link", name="mnist")).to_have_attribute("aria-current", "page")


# -- a run ----------------------------------------------------------------------------
def test_run_page_shows_the_run_its_chart_files_and_children(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/experiments/mnist")
    runs_region(page).get_by_role("link", name="sweep parent").click()
    expect(page).to_have_url(f"{studio}/#/runs/{seeded['parent']}")
    expect(page.get_by_role("heading", name="sweep parent")).to_be_visible()
    expect(page).to_have_title("Completed · sweep parent · runyard studio")
    expect(page.locator(".run-header")).to_contain_text("Completed")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)  # it ended
    properties = page.get_by_role("table", name="Properties")
    expect(properties.get_by_role("row", name="seed 42")).to_be_visible()
    expect(properties.get_by_role("row", name="framework torch")).to_be_visible()
    tags = page.get_by_role("table", name="Tags")
    expect(tags.get_by_role("row", name="team vision")).to_be_visible()
    expect(tags.get_by_role("row", name="reviewed (no value)")).to_be_visible()
    expect(page.get_by_role("table", name="Status history")).to_contain_text("Completed")

    chart = page.get_by_role("figure", name="Chart of loss")
    expect(chart).to_contain_text(re.compile(r"\b([5-9]\d\d|1,000) of 5,000 points"))  # each stretch's extremes
    expect(page.get_by_role("figure", name="Chart of accuracy")).to_contain_text("1 point")
    confusion = page.get_by_role("figure", name="table confusion")
    expect(confusion.get_by_role("row")).to_have_text(["labelpredicted_cat", "cat9", "dog2"])
    expect(page.get_by_role("figure", name="row epochs").get_by_role("row")).to_have_count(4)
    image = page.get_by_role("figure", name="image sample").get_by_role("img", name="sample")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1
    canvas = chart.locator("canvas")
    page.wait_for_function("c => c.width > 0", arg=canvas.element_handle())
    assert series_pixels(canvas) > 200, "the loss line is not drawn"
    screenshot(page, "run")

    # zoom: drag over the middle third; that stretch of points is asked for again
    over = chart.locator(".u-over").bounding_box()
    with page.expect_request(lambda r: r.url.endswith("/metrics/series") and r.post_data_json["start"] > 0) as asked:
        page.mouse.move(over["x"] + over["width"] / 3, over["y"] + over["height"] / 2)
        page.mouse.down()
        page.mouse.move(over["x"] + over["width"] / 2, over["y"] + over["height"] / 2, steps=5)
        page.mouse.up()
    zoom = asked.value.post_data_json
    assert 1000 < zoom["start"] < 2200 and 2000 < zoom["end"] < 3000, zoom
    expect(chart).to_contain_text(f"{zoom['end'] - zoom['start']:,} points from point {zoom['start']:,}")
    chart.get_by_role("button", name="Reset zoom").click()
    expect(chart).to_contain_text(re.compile(r"\b([5-9]\d\d|1,000) of 5,000 points"))  # each stretch's extremes

    files = page.get_by_role("list", name="Files")
    expect(files.get_by_role("listitem")).to_have_text(["images/sample.pngViewDownload",
                                                         "outputs/model.binViewDownload",
                                                         "outputs/notes.txtViewDownload"])
    page.get_by_role("button", name="View outputs/notes.txt").click()
    expect(page.get_by_role("region", name="Content of outputs/notes.txt")).to_contain_text(
        "hello from the run\nsecond line")
    page.get_by_role("button", name="View outputs/model.bin").click()
    expect(page.get_by_role("region", name="Content of outputs/model.bin")).to_contain_text(
        "4,096 bytes that are not text")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download outputs/notes.txt").click()
    assert download.value.suggested_filename == "notes.txt"
    assert Path(download.value.path()).read_text() == "hello from the run\nsecond line\n"

    children = runs_region(page, "Child runs")
    expect(children.get_by_role("status")).to_have_text("3 runs")
    children.get_by_role("link", name="trial 1").click()
    expect(page.get_by_role("heading", name="trial 1")).to_be_visible()
    page.get_by_role("link", name=seeded["parent"]).click()  # the child's "Parent run"
    expect(page.get_by_role("heading", name="sweep parent")).to_be_visible()


def series_pixels(canvas) -> int:
    """How many pixels of the canvas have the first series' blue."""
    return canvas.evaluate("""c => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let k = 0; k < d.length; k += 4) if (d[k + 2] > 150 && d[k + 2] - d[k] > 80 && d[k + 3] > 128) n++;
        return n;
    }""")


def test_runs_ticked_in_a_table_are_compared(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/runs/{seeded['parent']}")
    children = runs_region(page, "Child runs")
    for k in range(3):
        children.get_by_label(f"Compare trial {k}").check()
    children.get_by_role("link", name="Compare 3 runs").click()
    expect(page.get_by_role("heading", name="Comparing 3 runs")).to_be_visible()
    table = page.get_by_role("table", name="Compared runs")
    expect(table.get_by_role("columnheader")).to_have_text(["Run", "trial 0", "trial 1", "trial 2"])
    expect(table.get_by_role("row").filter(has_text="property:lr").get_by_role("cell")).to_have_text(
        ["0.1", "0.2", "0.3"])
    expect(table.get_by_role("row").filter(has_text="loss (latest)").get_by_role("cell")).to_have_text(
        ["1", "0.5", "0.333333"])
    expect(table).not_to_contain_text("framework")  # the same in every run
    chart = page.get_by_role("figure", name="Chart of loss")
    expect(chart).to_contain_text("3 points")
    expect(chart.locator(".u-legend")).to_contain_text("trial 2")
    screenshot(page, "compare")


def test_a_missing_run_says_so(page: Page, studio: str):
    page.goto(f"{studio}/#/runs/nope_1")
    expect(page.get_by_role("alert")).to_contain_text("no run 'nope_1'")


def test_live_log_grows_while_lines_are_appended_and_nothing_is_lost_at_the_end(page: Page, studio: str, seeded):
    run = Experiment(seeded["ws"], "live").start_logging(display_name="live run")
    log = seeded["ws"]._artifacts.run_dir(run.id) / "logs" / "driver.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(f"line {i}\n" for i in range(50)))
    page.goto(f"{studio}/#/runs/{run.id}")
    view = page.get_by_role("log", name="driver.log")
    expect(view).to_contain_text("line 49")
    expect(page.get_by_text("following…")).to_be_visible()
    with open(log, "ab") as out:
        for k in range(3):
            out.write(f"appended {k} naïve ✓\n".encode())
            out.flush()
            expect(view).to_contain_text(f"appended {k} naïve ✓", timeout=10_000)
        out.write("split ✓".encode()[:-1])  # a character cut in two by a flush
        out.flush()
        time.sleep(1.5)
        out.write("split ✓".encode()[-1:] + b" whole\n")
        out.flush()
        expect(view).to_contain_text("split ✓ whole", timeout=10_000)
        out.write(b"the last words\n")
    run.log("loss", 0.25)
    run.complete()  # right after: the reads after the end still get the last line and value
    expect(page.locator(".run-header")).to_contain_text("Completed")
    expect(page.get_by_text("following…")).to_have_count(0)
    expect(view).to_contain_text("the last words")
    expect(page.get_by_role("figure", name="Chart of loss")).to_contain_text("1 point")
    expect(page.get_by_role("table", name="Status history")).to_contain_text("Completed")
    assert view.inner_text() == log.read_text()
    screenshot(page, "live-log")


def test_cancel_button_cancels_a_live_run(page: Page, studio: str, seeded):
    run = Experiment(seeded["ws"], "live").start_logging(display_name="to cancel")
    page.goto(f"{studio}/#/runs/{run.id}")
    expect(page.locator(".run-header")).to_contain_text("Running")
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator(".run-header")).to_contain_text("Canceled")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    assert run.get_status() == st.CANCELED


def pipeline_step(name: str, *upstream: str) -> dict:
    """A step of a pipeline run's definition, as the pipeline driver stores it (the fields the
    graph reads: runyard.pipeline.progress)."""
    return {"name": name, "kind": "python_script", "upstream": list(upstream),
            "inputs": [{"name": f"{up}_data", "output": f"{up}_out", "step": up} for up in upstream],
            "outputs": [f"{name}_out"], "job": {"target": "local"}}


def pipeline_run(store, *steps: dict) -> dict:
    """A running pipeline run of these steps, written to the store as the driver writes it."""
    import json
    return store.create_run({"run_id": f"pipe_{time.time_ns()}", "experiment": "pipes", "run_type": "pipeline",
                             "status": st.RUNNING, "display_name": "nightly",
                             "definition": json.dumps({"steps": list(steps)}), "start_time": time.time()})


def step_run(store, pipeline: dict, name: str, status: str, properties: dict | None = None) -> str:
    """The run of a pipeline's step (named as the step, a child of the pipeline run)."""
    return store.create_run({"run_id": f"{name}_{time.time_ns()}", "experiment": "pipes",
                             "parent_id": pipeline["run_id"], "run_type": "script", "status": status,
                             "display_name": name, "start_time": time.time()}, properties=properties)["run_id"]


def test_a_pipeline_run_draws_its_steps_and_follows_them_as_they_finish(page: Page, studio: str, seeded):
    from runyard.pipeline.reuse import REUSED_RUN_PROPERTY
    store = seeded["ws"]._store
    pipeline = pipeline_run(store, pipeline_step("prep"), pipeline_step("train", "prep"),
                            pipeline_step("report", "train"), pipeline_step("lint"))
    step_run(store, pipeline, "prep", st.COMPLETED)
    train = step_run(store, pipeline, "train", st.RUNNING)
    step_run(store, pipeline, "lint", st.COMPLETED, {REUSED_RUN_PROPERTY: "lint_earlier_1"})

    page.goto(f"{studio}/#/runs/{pipeline['run_id']}")
    graph = page.get_by_role("figure", name="Pipeline graph")
    expect(graph.get_by_label("step prep")).to_contain_text("Completed")
    expect(graph.get_by_label("step train")).to_contain_text("Running")
    expect(graph.get_by_label("step report")).to_contain_text("NotStarted")
    expect(graph.get_by_label("step lint")).to_contain_text("Reused")
    expect(graph.locator(".react-flow__edge")).to_have_count(2)
    screenshot(page, "pipeline")

    store.set_status(train, st.COMPLETED)
    step_run(store, pipeline, "report", st.RUNNING)
    expect(graph.get_by_label("step train")).to_contain_text("Completed")
    expect(graph.get_by_label("step report")).to_contain_text("Running")
    expect(graph.get_by_role("link", name="report")).to_be_visible()  # still drawn after the reloads
    graph.get_by_role("link", name="train").click()
    expect(page).to_have_url(f"{studio}/#/runs/{train}")
    expect(page.get_by_role("heading", name="train")).to_be_visible()


# -- the token ------------------------------------------------------------------------
class Served(str):
    """A studio's URL, with the file its output went to (``.log``)."""
    log: Path


@pytest.fixture(scope="module")
def protected_studio(seeded, tmp_path_factory) -> str:
    log = tmp_path_factory.mktemp("protected") / "studio.log"
    proc, url = start_studio(seeded["folder"], log, TOKEN)
    served = Served(url)
    served.log = log
    yield served
    stop_server(proc)


def test_a_protected_studio_asks_for_the_token_once(page: Page, protected_studio: str):
    page.goto(f"{protected_studio}/#/experiments/bulk")
    dialog = page.get_by_role("dialog", name="This workspace needs a token")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(1)
    dialog.get_by_label("Token").fill("wrong-token-0123456789")
    dialog.get_by_role("button", name="Use token").click()
    expect(dialog.get_by_role("alert")).to_have_text("The server refused this token. Check it and try again.")
    screenshot(page, "token-prompt")
    dialog.get_by_label("Token").fill(TOKEN)
    dialog.get_by_role("button", name="Use token").click()
    expect(dialog).to_have_count(0)
    expect(runs_region(page).get_by_role("status")).to_have_text("100,000 runs")
    page.reload()  # kept in the browser: not asked again
    expect(runs_region(page).get_by_role("status")).to_have_text("100,000 runs")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_token_in_the_address_is_kept_and_taken_out_of_it(page: Page, protected_studio: Served):
    printed = f"at {protected_studio}/?token={TOKEN} (Ctrl-C stops it)"  # the address to open, as printed
    assert printed in protected_studio.log.read_text()
    page.goto(f"{protected_studio}/?token={TOKEN}#/experiments/bulk")
    expect(runs_region(page).get_by_role("status")).to_have_text("100,000 runs")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.url == f"{protected_studio}/#/experiments/bulk"
    assert page.evaluate("localStorage.getItem('runyard.token')") == TOKEN


# -- accessibility --------------------------------------------------------------------
def test_the_main_pages_have_no_serious_accessibility_violations(page: Page, studio: str, protected_studio: str,
                                                                 seeded):
    """axe-core's scan (the rules of WCAG 2.x and its best practices) of each main page."""
    pipeline = pipeline_run(seeded["ws"]._store, pipeline_step("prep"), pipeline_step("train", "prep"))
    step_run(seeded["ws"]._store, pipeline, "prep", st.RUNNING)
    found = {}

    def scan(what: str) -> None:
        found[what] = serious_violations(page)

    page.goto(f"{studio}/#/experiments/bulk")
    region = runs_region(page)
    region.get_by_label("Metric column").fill("score")
    region.get_by_role("button", name="Add column").click()
    region.get_by_label("Filter runs").fill("score <")  # with its error shown
    expect(region.get_by_role("alert")).to_be_visible()
    scan("runs table")
    page.goto(f"{studio}/#/runs/{seeded['parent']}")
    page.get_by_role("button", name="View outputs/notes.txt").click()
    expect(page.get_by_role("region", name="Content of outputs/notes.txt")).to_be_visible()
    expect(page.get_by_role("figure", name="Chart of loss").locator("canvas")).to_have_count(1)
    scan("run")
    page.goto(f"{studio}/#/runs/{pipeline['run_id']}")
    expect(page.get_by_role("figure", name="Pipeline graph").get_by_label("step prep")).to_contain_text("Running")
    scan("pipeline run")
    page.goto(f"{protected_studio}/")
    expect(page.get_by_role("dialog")).to_be_visible()
    scan("token prompt")
    assert not any(found.values()), found
