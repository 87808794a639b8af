"""`make screenshots`: the pictures of docs/images/, taken from the real UI by Debian's Chromium (Playwright).

`make run`'s job for the last week of its days (up to the latest partition; same DAGSTER_HOME, S3 and DuckDB
settings as `make run`), then `make start-local`'s `dagster dev` on a free port, then one 1280x800 screenshot per
page below into SCREENSHOTS_DIR (default docs/images/). Needs the test extras (playwright) and /usr/bin/chromium.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster import DagsterInstance
from playwright.sync_api import Page, sync_playwright

from dagster_project.settings import PROJECT_ROOT
from tooling import local_stack, processes, run, sample_data

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
DAYS = 7
TIMEOUT_MS = 120_000
KPI_LOCATION = "chapter-2-retailer_kpis"
CHAPTER_1_LOCATION = "chapter-1-dagster_basics"


def pages(run_id: str) -> dict[str, tuple[str, str | None, str]]:
    """{file name: (path of the UI page, what to click first or None, what to wait for and scroll to)}.

    The last two are Playwright selectors.
    """
    # The run's last day: its materialization carries the KPI trend chart.
    last_day = sample_data.latest_days(DAYS)[-1].isoformat()
    partition = f"/assets/kpi_daily?view=partitions&partition={last_day}"
    return {
        "retailer_kpis_lineage.png": (
            f"/locations/{KPI_LOCATION}/asset-groups/retailer_kpis",
            None,
            "text=kpi_daily",
        ),
        "kpi_daily_partitions.png": (partition, None, "text=units_sold"),
        # The chart is the day's `kpi_trend` metadata (markdown): the UI opens it in a dialog.
        "kpi_daily_plots.png": (partition, "text=[Show Markdown]", 'img[alt="KPI trend"]'),
        "run_logs.png": (f"/runs/{run_id}", None, 'text="Success"'),
        "chapter_1_math_job.png": (f"/locations/{CHAPTER_1_LOCATION}/jobs/math_job", None, "text=math_job"),
    }


def output_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOTS_DIR") or PROJECT_ROOT / "docs" / "images")
    return path if path.is_absolute() else PROJECT_ROOT / path


def latest_run_id() -> str:
    with DagsterInstance.get() as instance:
        return instance.get_runs(limit=1)[0].run_id


def shoot(page: Page, url: str, click: str | None, selector: str, path: Path) -> None:
    page.goto(url)
    if click:
        page.locator(click).first.click()
    target = page.locator(selector).first
    target.wait_for(state="visible")
    target.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # the graph layout and charts animate in
    page.screenshot(path=str(path))
    print(f"  {path}")


def main() -> int:
    out = output_dir()
    out.mkdir(parents=True, exist_ok=True)
    run.main(["--days", str(DAYS)])
    run_id = latest_run_id()
    port = processes.free_port()
    server = local_stack.start(port, wait=False)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)
            print(f"Screenshots into {out}:")
            for name, (path, click, selector) in pages(run_id).items():
                shoot(page, f"http://127.0.0.1:{port}{path}", click, selector, out / name)
            browser.close()
    finally:
        local_stack.stop_dagster_dev(server)
        local_stack.pid_file().unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
