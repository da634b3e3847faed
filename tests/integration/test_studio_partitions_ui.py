"""A ParallelRunStep run's partition table on its page in the studio, in a real browser
(Debian's Chromium driven by Playwright) against a real ``runyard studio``: a run trained one
partition per mini batch by real workers, one partition failing, and a table at the issue's
scale (10,000 mini batches) read a page at a time.

What a user does: open the step's run, see the counts per status, filter to the failed
mini batch and open it to its traceback; page through 10,000 rows and follow a mini batch's
model. The page passes axe-core's scan without a serious violation; screenshots go to
.test-logs/studio/.

Without Chromium the module is skipped, except on CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from parallel_runs import partitioned_run
from runyard import Experiment, Workspace
from server_service import stop_server
from studio_browser import screenshot, serious_violations, start_studio



@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("partitions-ws")
    ws = Workspace.create(folder / ".runyard")
    step_run = partitioned_run(ws, folder)
    # a table at the scale, each mini batch with the model it registered: 10,000
    # rows, the 7th of every 1,000 failed
    big = Experiment(ws, "big").start_logging()
    rows = [{"batch_id": f"sales:{i}", "input": "sales", "partition": {"store": str(i)},
             "status": "Failed" if i % 1000 == 7 else "Succeeded", "tries": 3 if i % 1000 == 7 else 1,
             "duration_s": 0.25, "items": 200, "results": 1,
             "error": f"KeyError: 'price' in store {i}" if i % 1000 == 7 else None,
             "traceback": f"Traceback (most recent call last):\nKeyError: 'price' in store {i}" if i % 1000 == 7
             else None, "reused_from": None, "models": [] if i % 1000 == 7 else [f"store-{i}:1"]}
            for i in range(10_000)]
    (folder / "partitions.json").write_text(json.dumps({"version": 1, "partitions": rows}))
    big.upload_file("parallel_run/partitions.json", str(folder / "partitions.json"))
    big.add_properties({"runyard.parallel.unfinished": "10"})
    big.complete()
    plain = Experiment(ws, "plain").start_logging()
    plain.complete()
    return {"folder": folder, "step_run": step_run, "big": big, "plain": plain}


@pytest.fixture(scope="module")
def studio(seeded, tmp_path_factory) -> str:
    proc, url = start_studio(seeded["folder"], tmp_path_factory.mktemp("partitions-studio") / "studio.log")
    yield url
    stop_server(proc)


def partitions(page: Page):
    return page.get_by_role("region", name="Partitions", exact=True)


def test_a_parallel_steps_failed_partition_opens_to_its_traceback(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/runs/{seeded['step_run'].id}")
    region = partitions(page)
    table = region.get_by_role("table", name="Partitions")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(region.get_by_role("group", name="Mini batches by status")).to_have_text("All 3Succeeded 2Failed 1NotRun 0")
    expect(rows.nth(1).get_by_role("cell").nth(1)).to_have_text("store=2")
    expect(rows.nth(1)).to_contain_text("Failed")

    region.get_by_role("button", name="Failed 1").click()
    expect(rows).to_have_count(1)
    expect(region.get_by_role("status")).to_have_text("1–1 of 1")
    error = region.get_by_role("button", name="ValueError: no sales for store 2")
    expect(error).to_have_attribute("aria-expanded", "false")
    error.click()
    expect(error).to_have_attribute("aria-expanded", "true")
    traceback = region.get_by_label("Error of sales:store=2")
    expect(traceback).to_contain_text("Traceback (most recent call last)")
    expect(traceback).to_contain_text("in check_sales")
    expect(traceback).to_contain_text("ValueError: no sales for store 2")
    screenshot(page, "partitions-failed")
    error.click()
    expect(traceback).to_have_count(0)


def test_ten_thousand_partitions_are_paged_and_filtered_and_link_their_models(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/runs/{seeded['big'].id}")
    region = partitions(page)
    rows = region.get_by_role("table", name="Partitions").locator("tbody tr")
    expect(rows).to_have_count(100)
    expect(region.get_by_role("status")).to_have_text("1–100 of 10,000")
    expect(region.get_by_role("button", name="Previous")).to_be_disabled()
    region.get_by_role("button", name="Next").click()
    expect(region.get_by_role("status")).to_have_text("101–200 of 10,000")
    expect(rows.first.get_by_role("cell").first).to_have_text("sales:100")
    region.get_by_role("link", name="store-150:1").click()
    expect(page).to_have_url(f"{studio}/#/models/store-150/1")
    page.go_back()

    partitions(page).get_by_role("button", name="Failed 10").click()
    region = partitions(page)
    expect(region.get_by_role("status")).to_have_text("1–10 of 10")
    expect(rows).to_have_count(10)
    expect(rows.nth(9).get_by_role("cell").first).to_have_text("sales:9007")
    expect(region.get_by_role("button", name="Next")).to_be_disabled()
    region.get_by_role("button", name="KeyError: 'price' in store 9007").click()
    expect(region.get_by_label("Error of sales:9007")).to_contain_text("Traceback (most recent call last)")


def test_a_run_without_a_partition_table_has_no_partitions_section(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/runs/{seeded['plain'].id}")
    expect(page.get_by_role("region", name="Logs", exact=True)).to_be_visible()
    expect(partitions(page)).to_have_count(0)


def test_the_partitions_section_has_no_serious_accessibility_violations(page: Page, studio: str, seeded):
    page.goto(f"{studio}/#/runs/{seeded['step_run'].id}")
    partitions(page).get_by_role("button", name="ValueError: no sales for store 2").click()
    expect(page.get_by_label("Error of sales:store=2")).to_be_visible()
    assert serious_violations(page) == []
