"""UI tests: one Chromium per module, a fresh page per test; a screenshot of the page, and the server log's end,
when a test fails."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.dagster_server import tail
from tests.support.prerequisites import missing
from tests.support.ui import ARTIFACTS_DIR, CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is absent: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    # Assertions wait as long as actions: on a loaded machine the UI renders its tables after Playwright's 5 s.
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when != "call" or not report.failed:
        return report
    name = re.sub(r"[^\w.-]+", "_", item.name)
    page = item.funcargs.get("page")
    if page is not None:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        path = ARTIFACTS_DIR / f"{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            report.sections.append(("screenshot", f"saved to {path} (page {page.url})"))
            print(f"\nscreenshot of the failed test {item.name}: {path}")
        except Exception as error:  # the browser may be the thing that failed
            report.sections.append(("screenshot", f"could not take one: {error}"))
    server = item.funcargs.get("ui_server")
    if server is not None:
        report.sections.append((f"end of the server log {server.log_path}", tail(server.log_path)))
    return report
