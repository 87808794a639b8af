"""Helpers of the UI tests only: their environment, and the routes of the Dagster UI that the docs link to.

The generic ones (free ports, process groups, the GraphQL API, code locations, runs) are in tests/dagster_server.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from dagster_project.settings import PROJECT_ROOT
from tests.support.dagster_server import VENV_BIN, Location

LOCATIONS = ("chapter-1-dagster_basics", "chapter-2-retailer_kpis")
# Debian's Chromium, driven by Playwright (.ci/run installs it).
CHROMIUM = Path("/usr/bin/chromium")
# Where screenshots and server logs of failed UI tests go (gitignored).
ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"
# What `make screenshots` (docs/screenshots.py) writes into docs/images/, at this size.
SCREENSHOTS = (
    "retailer_kpis_lineage.png",
    "kpi_daily_partitions.png",
    "kpi_daily_plots.png",
    "run_logs.png",
    "chapter_1_math_job.png",
)
SCREENSHOT_SIZE = (1280, 800)
# Take the venv and the dbt manifest as up to date (conftest.py prepared it): the tests run the targets' recipes.
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "prepare"]


def command_env(**overrides: str) -> dict[str, str]:
    """os.environ with the venv's tools first on PATH (as the Makefile does; `dagster dev` runs `dbt parse`)."""
    env = {**os.environ, **overrides}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def make_variables(variables: dict[str, str]) -> list[str]:
    """Settings as make variables: they beat .env / .env.example, and the Makefile exports them to its recipes."""
    return [f"{name}={value}" for name, value in variables.items()]


def instance_home(folder: Path) -> Path:
    """A DAGSTER_HOME with the project's own dagster.yaml (queued runs, the DuckDB pool, telemetry and nux off)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").write_text((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    return folder


# --- links to the UI in the documentation -------------------------------------------------------------------------

DOC_LINK = re.compile(r"http://localhost:3000(?P<rest>[^\s)>\]`'\"*]*)")
# Top-level pages of the UI (checked in Dagster 1.13: an unknown route silently redirects to the timeline).
STATIC_PAGES = {"", "overview", "runs", "assets", "jobs", "automation", "deployment", "locations"}
# Tabs of /locations/<location>/<tab>.
LOCATION_TABS = {"assets", "jobs", "resources", "schedules", "sensors", "graphs"}
JOB_TABS = {"overview", "playground", "runs", "partitions"}
RUN_VIEWS = {None, "runs", "backfills"}


def documentation_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "target", "dbt_packages", "test-artifacts", ".pytest_cache"}
    return sorted(path for path in PROJECT_ROOT.rglob("*.md") if not skip & set(path.relative_to(PROJECT_ROOT).parts))


def documentation_links() -> dict[str, list[str]]:
    """{path after http://localhost:3000: [files citing it]} over every Markdown file of the project."""
    links: dict[str, list[str]] = {}
    for path in documentation_files():
        for match in DOC_LINK.finditer(path.read_text()):
            rest = match["rest"].rstrip(".,;:")
            links.setdefault(rest, []).append(str(path.relative_to(PROJECT_ROOT)))
    return links


def link_problem(rest: str, locations: dict[str, Location]) -> str | None:
    """Why the UI has no page at `rest` (the URL after host:port), or None when the page exists."""
    parts = urlsplit(rest)
    segments = [segment for segment in parts.path.split("/") if segment]
    query = dict(pair.partition("=")[::2] for pair in parts.query.split("&") if pair)
    if parts.path in ("", "/"):
        return None
    head, tail_segments = segments[0], segments[1:]
    if head == "assets" and tail_segments:
        key = tuple(tail_segments)
        if any(key in location.asset_keys for location in locations.values()):
            return None
        return f"no asset with key {'/'.join(key)}"
    if head == "runs" and not tail_segments:
        return None if query.get("view") in RUN_VIEWS else f"no runs view {query.get('view')!r}"
    if head == "locations" and tail_segments:
        location = locations.get(tail_segments[0])
        if location is None:
            return f"no code location {tail_segments[0]!r} (loaded: {', '.join(locations)})"
        kind, *names = tail_segments[1:] or [None]
        if kind is None or (kind in LOCATION_TABS and not names):
            return None
        if not names:
            return f"no location tab {kind!r}"
        name, *tab = names
        defined = {
            "jobs": location.jobs,
            "asset-groups": location.asset_groups,
            "resources": location.resources,
            "schedules": location.schedules,
            "sensors": location.sensors,
        }.get(kind)
        if defined is None:
            return f"unknown page kind {kind!r} of a code location"
        if name not in defined:
            return f"{location.name} defines no {kind[:-1]} {name!r}"
        if tab and not (kind == "jobs" and len(tab) == 1 and tab[0] in JOB_TABS):
            return f"unknown sub-page {'/'.join(tab)!r}"
        return None
    if head == "asset-groups":
        return (
            "/asset-groups/... is the global lineage graph, not a group's page: "
            "use /locations/<location>/asset-groups/<group>"
        )
    if not tail_segments and head in STATIC_PAGES:
        return None
    return "not a page of the Dagster UI (unknown route: it redirects to the overview)"
