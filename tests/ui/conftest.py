"""UI tests: a screenshot of the browser page, and the server log's end, when a test fails."""

from __future__ import annotations

import re

import pytest

from tests.support.dagster_server import tail
from tests.support.ui import ARTIFACTS_DIR


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
