"""The Dagster UI end to end: `dagster dev` with both code locations, driven by a real Chromium (Playwright).

One server for the module, as `make start-local` runs it (webserver, daemon, the project's dagster.yaml in a
temporary DAGSTER_HOME), on a free port, with the local S3 (moto) holding sample batches, and a fresh DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from dagster_project import kpis
from dagster_project.constants import GROUP
from dagster_project.settings import PROJECT_ROOT, load_settings
from tests.support.dagster_backfill import run_backfill
from tests.support.dagster_server import (
    Location,
    load_workspace,
    run_failure_messages,
    run_tags,
    start_dagster_dev,
    tail,
    wait_for_run,
    wait_until_ready,
)
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tests.support.prerequisites import missing
from tests.support.ui import LOCATIONS, command_env, documentation_links, instance_home, link_problem
from tooling import sample_data
from tooling.processes import free_port, stop_group

SAMPLE_START = dt.date(2023, 8, 2)
SAMPLE_DAYS = 5
ROWS = 120
# A day with a batch, older than the 90 days the partition dialog shows at first.
PARTITION = "2023-08-05"


@dataclass
class UiServer:
    url: str
    env: dict[str, str]
    duckdb_path: Path
    log_path: Path


@pytest.fixture(scope="module")
def ui_server(s3_endpoint, tmp_path_factory) -> UiServer:
    """`dagster dev -w workspace.yaml` on 127.0.0.1:<free port>, stopped (the whole process group) at the end."""
    tmp = tmp_path_factory.mktemp("ui_server")
    env = command_env(
        S3_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        S3_BUCKET=f"ui-{uuid.uuid4().hex[:12]}",
        DUCKDB_PATH=str(tmp / "warehouse.duckdb"),
        DAGSTER_HOME=str(instance_home(tmp / "dagster_home")),
        CHAPTER_1_DATA_DIR=str(tmp / "chapter_1"),
        STOCK_API_USERNAME="workshop",
        STOCK_API_KEY="test-key",
    )
    for name in ("WAREHOUSE_URL", "OPERATIONAL_DATA_PREFIX"):
        env.pop(name, None)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET", "DUCKDB_PATH"):
            patch.setenv(name, env[name])
        patch.delenv("OPERATIONAL_DATA_PREFIX", raising=False)
        sample_data.upload(load_settings(), SAMPLE_START, SAMPLE_DAYS, rows=ROWS)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "dagster_dev.log"
    process = start_dagster_dev(port, env, log_path)
    server = UiServer(url, env, Path(env["DUCKDB_PATH"]), log_path)
    try:
        wait_until_ready(url, process, timeout=180, details=lambda: tail(log_path))
        load_workspace(url)
        yield server
    finally:
        left = stop_group(process)
        assert not left, f"still running after SIGTERM to dagster dev's process group: {left}"


@pytest.fixture
def requests_seen(page) -> list[str]:
    """Every URL the page requests."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def assert_stayed_on_the_machine(urls: list[str]) -> None:
    outside = [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
    outside = [url for url in outside if urlsplit(url).hostname not in ("127.0.0.1", "localhost")]
    assert not outside, f"the UI made requests outside the machine: {outside[:10]}"


def expected_kpis(day: str) -> dict:
    date = dt.date.fromisoformat(day)
    return daily_kpis({day: sample_data.batch_csv(date, ROWS)})


def run_id_from_link(href: str) -> str:
    match = re.search(r"/runs/([0-9a-f-]{36})", href or "")
    assert match, f"no run id in {href!r}"
    return match.group(1)


@pytest.mark.browser
@pytest.mark.services
def test_materialize_one_kpi_partition_from_its_asset_page(ui_server, page, requests_seen):
    # A model alone re-runs nothing upstream (assignment 2): the day is loaded first, as an attendee does.
    backfill = run_backfill(ui_server.url, "chapter-2-retailer_kpis", GROUP, [PARTITION], timeout=600)
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    page.goto(f"{ui_server.url}/assets/kpi_daily")
    materialize = page.get_by_role("button", name=re.compile(r"Materialize…$"))
    expect(materialize).to_be_visible()
    # nux off: no "Join the Dagster community" dialog covers a fresh instance (it opens once the page settles).
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("dialog")).to_have_count(0)
    materialize.click()

    # "Are you sure?" only if the UI thinks an upstream asset is missing.
    launch_dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize kpi_daily")
    confirm = page.get_by_role("dialog").filter(has_text="Are you sure?").get_by_role("button", name="Confirm")
    expect(confirm.or_(launch_dialog).first).to_be_visible()
    if confirm.is_visible():
        confirm.click()
    expect(launch_dialog).to_be_visible()

    # The sample days are older than the last 90 days the dialog lists at first.
    # The dialog loads its partitions after it opens; "ex: ..." is the placeholder once it lists all of them.
    partitions_input = launch_dialog.get_by_placeholder(re.compile(r"^ex: "))
    show_all = launch_dialog.get_by_role("button", name="Show all partitions")
    expect(show_all.or_(partitions_input).first).to_be_visible()
    if show_all.is_visible():
        show_all.click()
    expect(partitions_input).to_be_visible()
    partitions_input.fill(PARTITION)
    partitions_input.press("Enter")
    expect(launch_dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    launch_dialog.get_by_role("button", name=re.compile(r"Launch 1 run$")).click()

    # The toast links to the run.
    view = page.get_by_role("link", name="View", exact=True)
    expect(view).to_be_visible()
    run_id = run_id_from_link(view.get_attribute("href"))
    assert run_tags(ui_server.url, run_id).get("dagster/partition") == PARTITION
    status = wait_for_run(ui_server.url, run_id)
    assert status == "SUCCESS", f"run {run_id} ended {status}:\n{run_failure_messages(ui_server.url, run_id)}"

    expected = expected_kpis(PARTITION)
    # The data the run wrote: kpi_daily's row of the day in DuckDB.
    with kpis.read_only(ui_server.duckdb_path) as conn:
        rows = kpis.daily_kpis(conn, dt.date(2000, 1, 1), dt.date(2100, 1, 1))
    assert_kpis_match(rows, expected)

    # The KPI as the UI shows it: the partition's latest materialization, by this run, with its metadata.
    page.goto(f"{ui_server.url}/assets/kpi_daily?view=partitions&partition={PARTITION}")
    expect(page.get_by_role("link", name=run_id[:8], exact=True).first).to_be_visible()
    for name in ("revenue", "units_sold", "average_sales_price", "order_lines"):
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
        expect(row).to_have_count(1)
        shown = row.get_by_role("cell").nth(1).inner_text().strip()
        # Rounded for people (money to cents): 38350.22, never 38350.22000000001.
        rounded = kpis.for_people(name, expected[PARTITION][name])
        assert float(shown) == rounded and len(shown) <= len(f"{rounded:.2f}"), (
            f"the UI shows {name} = {shown}, expected {rounded} (from {expected[PARTITION][name]})"
        )

    page.goto(f"{ui_server.url}/runs/{run_id}")
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    assert_stayed_on_the_machine(requests_seen)


@pytest.mark.browser
@pytest.mark.services
def test_kpi_daily_columns_show_their_contract_types(ui_server, page, requests_seen):
    """The marts' enforced dbt contracts give every column a type; the asset page's Columns table shows it."""
    page.goto(f"{ui_server.url}/assets/kpi_daily")
    columns = page.get_by_role("table").filter(has=page.get_by_text("average_sales_price", exact=True))
    expect(columns.first).to_be_visible()
    for name, data_type in (("date", "date"), ("units_sold", "bigint"), ("revenue", "double")):
        row = columns.first.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
        # Columns: name, type, description. Without a contract the type reads "?".
        expect(row.get_by_role("cell").nth(1)).to_contain_text(re.compile(rf"\b{data_type}$", re.IGNORECASE))
    assert_stayed_on_the_machine(requests_seen)


@pytest.mark.browser
@pytest.mark.services
def test_launch_chapter_1_math_job_from_the_launchpad(ui_server, page, requests_seen):
    # The link of the Chapter 1 guide (chapter_1/guide/), then its Launchpad tab.
    page.goto(f"{ui_server.url}/locations/{LOCATIONS[0]}/jobs/math_job")
    launchpad = page.get_by_role("tab", name="Launchpad").or_(page.get_by_role("link", name="Launchpad", exact=True))
    launchpad.first.click()
    editor = page.locator(".CodeMirror").first
    expect(editor).to_contain_text("a: 1")
    expect(editor).to_contain_text("b: 2")
    # Change the config as the lesson says: a: 4, b: 5. insert_text types no keys, so no auto-indentation.
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text("ops:\n  add_numbers:\n    config:\n      a: 4\n      b: 5\n")
    expect(editor).to_contain_text("a: 4")
    page.get_by_role("button", name=re.compile(r"Launch Run$")).click()

    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    run_id = run_id_from_link(page.url)
    status = wait_for_run(ui_server.url, run_id)
    assert status == "SUCCESS", f"run {run_id} ended {status}:\n{run_failure_messages(ui_server.url, run_id)}"

    page.reload()
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(page.get_by_text("4 + 5 = 9", exact=True)).to_be_visible()
    expect(page.get_by_text("9 * 2 = 18", exact=True)).to_be_visible()
    assert_stayed_on_the_machine(requests_seen)


@pytest.mark.services
def test_documentation_links_point_to_existing_pages(ui_server):
    locations = load_workspace(ui_server.url)
    assert set(LOCATIONS) <= set(locations)
    links = documentation_links()
    assert len(links) >= 20, f"expected the chapter guides' links to the UI, found {sorted(links)}"
    problems = {
        f"http://localhost:3000{rest} ({', '.join(sorted(set(files)))})": problem
        for rest, files in links.items()
        if (problem := link_problem(rest, locations))
    }
    assert not problems, "links to pages the UI does not have:\n" + "\n".join(
        f"  {link}: {problem}" for link, problem in problems.items()
    )


def test_the_link_checker_knows_real_pages_from_missing_ones():
    """The route rules of link_problem, against a made-up workspace (no server)."""
    location = Location(LOCATIONS[0], jobs={"math_job"}, asset_groups={"stock_pipeline"}, resources={"stock_api"})
    location.asset_keys = {("stock", "daily_stock")}
    locations = {location.name: location}
    exists = [
        "",
        "/locations",
        "/runs?view=backfills",
        f"/locations/{LOCATIONS[0]}/jobs",
        f"/locations/{LOCATIONS[0]}/jobs/math_job",
        f"/locations/{LOCATIONS[0]}/jobs/math_job/playground",
        f"/locations/{LOCATIONS[0]}/asset-groups/stock_pipeline",
        f"/locations/{LOCATIONS[0]}/resources/stock_api",
        "/assets/stock/daily_stock",
    ]
    missing = [
        "/lineage",
        "/asset-groups/stock_pipeline",
        "/assets/stock/nope",
        f"/locations/{LOCATIONS[0]}/jobs/nope_job",
        f"/locations/{LOCATIONS[0]}/asset-groups/nope",
        f"/locations/{LOCATIONS[0]}/sensors/nope",
        "/locations/chapter_1/jobs/math_job",
    ]
    assert {rest: link_problem(rest, locations) for rest in exists} == dict.fromkeys(exists)
    assert all(link_problem(rest, locations) for rest in missing)


def test_artifacts_folder_is_ignored_by_git():
    """Screenshots of failed UI tests land in test-artifacts/, which git must ignore."""
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        missing("this is not a git checkout")
    probe = "test-artifacts/probe.png"
    result = subprocess.run(["git", "check-ignore", "-q", probe], cwd=PROJECT_ROOT)
    assert result.returncode == 0, f"{probe} is not ignored by git"


@pytest.mark.browser
@pytest.mark.services
def test_chapter_1_partition_dialog_lists_every_day(ui_server, page):
    """Chapter 1 guide, sections 8 and 9: every day of the bounded range in the dialog, a range typed in it."""
    page.goto(f"{ui_server.url}/assets/stock/daily_stock_file")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name=re.compile(r"Materialize…$")).click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    partitions_input = dialog.get_by_placeholder(re.compile(r"^ex: "))
    expect(partitions_input).to_be_visible()
    # An open range up to today would list only the latest 90 days behind a "Show all partitions" button.
    expect(dialog.get_by_role("button", name="Show all partitions")).to_have_count(0)
    expect(dialog.get_by_text("2023-09-09", exact=True)).to_be_visible()  # the range's end, beside its start
    dialog.get_by_role("button", name="All", exact=True).click()
    expect(dialog.get_by_text("39 partitions", exact=True)).to_be_visible()
    partitions_input.fill("[2023-08-02...2023-08-08]")
    partitions_input.press("Enter")
    expect(dialog.get_by_text("7 partitions", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Launch backfill")).to_be_enabled()
