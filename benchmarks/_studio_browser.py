"""bench_studio.py's browser side: the studio's pages timed in Debian's Chromium (Playwright),
from the user's action to the answer drawn, against a running ``runyard server``.

  first page   in the studio, open on another experiment, a click on the experiment in the
               side bar: until its newest run's row shows (the studio is kept open all day)
  fresh tab    a fresh tab opens the experiment's runs table: until its newest run's row shows
               (the page's scripts loaded and run first)
  sorted       a click on the ``loss`` column's header: until the first row is a lowest-loss run
  filtered     with ``acc > 0.9, tag:team = a`` typed in the filter box and the status Failed
               chosen, choosing the status Completed: until the first row is the newest run all
               three select (the count, which the table asks for after its rows, is checked
               once it reads their number)
  chart        a fresh tab opens the long run: until its ``loss`` chart has its canvas and the
               caption counts every point

Everything is timed by the page's own clock, so no part of driving the browser is counted: the
clicks and the status choice from the action to the first animation frame with the row; the
fresh tabs from the navigation's start (the page's time origin) to the first animation frame
with the row or the chart. Each is the median of ``repeat`` tries after one untimed one; a fresh tab (a new browser
context) loads the page's scripts from the server each time, so "fresh tab" and chart include
them. ``measure`` answers ``None`` when Debian's ``chromium`` is not installed.
"""

from __future__ import annotations

import json
import shutil
import statistics
from typing import Any

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 120_000
FIRST_ROW = 'table[aria-label="Runs"] tr[aria-rowindex="2"]'


#: a script each page runs before its own: from the navigation's start it checks at every
#: animation frame whether what the address shows is there (an experiment's runs table: its
#: first row links to ``names``; a run: its loss chart counts ``points``), and notes the time
_FRAME_SHOWN = """([selector, names, points]) => {
  window.__shownAt = null;
  const shown = () => {
    if (location.hash.startsWith('#/experiments/')) {
      const row = document.querySelector(selector); const link = row && row.querySelector('a');
      return !!link && names.includes(link.textContent.trim());
    }
    if (location.hash.startsWith('#/runs/')) {
      const figure = document.querySelector('figure[aria-label="Chart of loss"]');
      return !!figure && !!figure.querySelector('canvas') && figure.querySelector('figcaption').textContent.includes(points);
    }
    return false;
  };
  const tick = () => { if (shown()) window.__shownAt = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""


def shown_at(page: Any) -> float:
    """Seconds from the navigation's start to the frame ``_FRAME_SHOWN`` saw the page's content in."""
    page.wait_for_function("() => window.__shownAt !== null && window.__shownAt !== undefined", polling="raf",
                           timeout=TIMEOUT_MS)
    return page.evaluate("() => window.__shownAt") / 1000


def runs_text(n: int) -> str:
    """The runs table's count as it reads."""
    return f"{n:,} {'run' if n == 1 else 'runs'}"


#: in the page: the milliseconds from an action (``el.click()``, or choosing a select's option)
#: to the first animation frame at which the runs table's first row links to one of ``names``
#: (timed by the page's own clock, so no part of driving the browser is counted)
_ACT_UNTIL_FIRST_ROW = """async ([el, option, selector, names, limitMs]) => {
  const shown = () => { const row = document.querySelector(selector); const link = row && row.querySelector('a');
                        return !!link && names.includes(link.textContent.trim()); };
  const started = performance.now();
  if (option === null) el.click();
  else { el.value = option; el.dispatchEvent(new Event('change', { bubbles: true })); }
  while (!shown()) {
    if (performance.now() - started > limitMs) throw new Error('the first row never showed ' + names[0]);
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  return performance.now() - started;
}"""


def act_until_first_row(page: Any, locator: Any, names: list[str], option: str | None = None) -> float:
    """Seconds from clicking ``locator`` (or choosing ``option`` in it) to the first row being
    one of ``names``, by the page's clock."""
    element = locator.element_handle()
    return page.evaluate(_ACT_UNTIL_FIRST_ROW, [element, option, FIRST_ROW, names, TIMEOUT_MS]) / 1000


def first_row_is(page: Any, names: list[str]) -> None:
    """Waits (checking each frame) until the runs table's first row links to one of ``names``."""
    page.wait_for_function("([selector, names]) => { const row = document.querySelector(selector); "
                           "const link = row && row.querySelector('a'); "
                           "return !!link && names.includes(link.textContent.trim()); }",
                           arg=[FIRST_ROW, names], polling="raf", timeout=TIMEOUT_MS)


def measure(url: str, experiment: str, expect: dict[str, Any], long_run: str, points: int,
            repeat: int) -> dict[str, float] | None:
    """``expect``: ``newest`` (the first page's first name), ``other experiment`` and ``other
    newest`` (another experiment and its newest run's name), ``lowest loss`` (names any of which
    sorts first), ``typed count`` (the runs the typed filter selects, any status), ``failed
    first`` (the newest failed one of them), ``filtered``
    (the filtered page's first name) and ``filtered count``."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright
    times: dict[str, list[float]] = {"fresh tab": [], "first page": [], "sorted": [], "filtered": [], "chart": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for attempt in range(1 + repeat):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.set_default_timeout(TIMEOUT_MS)
                context.add_init_script(f"({_FRAME_SHOWN})({json.dumps([FIRST_ROW, [expect['newest']], f'{points:,} points'])})")
                page = context.new_page()
                took = one_try(page, url, experiment, expect, long_run, points)
                context.close()
                if attempt > 0:
                    for label, seconds in took.items():
                        times[label].append(seconds)
        finally:
            browser.close()
    return {label: statistics.median(values) for label, values in times.items()}


def one_try(page: Any, url: str, experiment: str, expect: dict[str, Any], long_run: str,
            points: int) -> dict[str, float]:
    took = {}
    page.goto(f"{url}/#/experiments/{experiment}")
    took["fresh tab"] = shown_at(page)

    sidebar = page.get_by_role("navigation", name="Experiments")
    sidebar.get_by_role("link", name=expect["other experiment"], exact=True).click()
    first_row_is(page, [expect["other newest"]])
    took["first page"] = act_until_first_row(page, sidebar.get_by_role("link", name=experiment, exact=True),
                                             [expect["newest"]])

    region = page.get_by_role("region", name="Runs", exact=True)
    region.get_by_label("Metric column").fill("loss")
    region.get_by_role("button", name="Add column").click()
    header = region.get_by_role("columnheader", name="loss").get_by_role("button", name="loss", exact=True)
    header.wait_for()
    took["sorted"] = act_until_first_row(page, header, expect["lowest loss"])

    region.get_by_role("button", name="loss", exact=True).click()  # back to the newest first
    region.get_by_role("button", name="Remove column loss").click()
    region.get_by_label("Filter runs").fill("acc > 0.9, tag:team = a")
    # the typed filter applied (it waits for typing to pause) and counted, then the failed runs
    # it selects shown, before the timed choice of the completed ones (another first row)
    page.wait_for_function("(text) => document.querySelector('[role=status].total')?.textContent === text",
                           arg=runs_text(expect["typed count"]), polling="raf")
    region.get_by_label("Status").select_option("Failed")
    first_row_is(page, [expect["failed first"]])
    counted = runs_text(expect["filtered count"])
    took["filtered"] = act_until_first_row(page, region.get_by_label("Status"), [expect["filtered"]],
                                           option="Completed")
    page.wait_for_function("(text) => document.querySelector('[role=status].total')?.textContent === text",
                           arg=counted, polling="raf")

    page.goto("about:blank")
    page.goto(f"{url}/#/runs/{long_run}")
    took["chart"] = shown_at(page)
    return took
