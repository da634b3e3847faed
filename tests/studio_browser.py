"""The studio in a real browser, for tests: Debian's Chromium driven by Playwright against a
``runyard studio`` on loopback. tests/conftest.py makes the fixtures ``browser`` (one per
module) and ``page`` (a fresh one per test) of these.

Never downloads a browser: without Debian's ``chromium`` the module is skipped, except on CI
(``CI`` set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from server_service import free_port, start_command

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / ".test-logs" / "studio"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    path = shutil.which("chromium")
    if path is None:
        reason = "Debian's chromium is not installed (scripts/install-system-deps.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextlib.contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (its own localStorage); fails the test on an uncaught
    error in the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


def start_studio(folder: Path, log: Path, *token: str):
    """``runyard studio FOLDER`` on a free loopback port: (process, url)."""
    port = free_port()
    return start_command(["studio", str(folder), "--port", str(port), *(["--token", *token] if token else [])],
                         port, log)


def screenshot(page: Page, name: str) -> None:
    """The page as .test-logs/studio/NAME.png (CI keeps .test-logs as an artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def serious_violations(page: Page) -> list[str]:
    """axe-core's scan (WCAG 2.x rules and best practices) of the page as it is: its serious
    and critical violations, each with the first elements it concerns."""
    from axe_playwright_python.sync_playwright import Axe
    violations = Axe().run(page).response["violations"]
    return [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]
