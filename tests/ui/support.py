"""Helpers of the UI tests: free ports, the GraphQL API, process groups, and the routes of the Dagster UI."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from dagster_project.settings import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent
LOCATIONS = ("chapter-1-dagster_basics", "chapter-2-retailer_kpis")
# Where screenshots and server logs of failed UI tests go (gitignored).
ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_signals() -> None:
    """preexec_fn: give the child the default SIGINT/SIGQUIT, as a terminal's foreground job has.

    A shell starting a background job without job control (CI scripts, `cmd &`) makes it ignore SIGINT; the
    children inherit that, and Dagster maps SIGTERM to SIGINT's handler: it would then ignore SIGTERM too.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def command_env(**overrides: str) -> dict[str, str]:
    """os.environ with the venv's tools first on PATH (as the Makefile does; `dagster dev` runs `dbt parse`)."""
    env = {**os.environ, **overrides}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def instance_home(folder: Path) -> Path:
    """A DAGSTER_HOME with the project's own dagster.yaml (queued runs, the DuckDB pool, telemetry and nux off)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").write_text((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    return folder


# --- the webserver ----------------------------------------------------------------------------------------------


def server_answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def graphql(base_url: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{base_url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.load(response)
    if payload.get("errors"):
        raise AssertionError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            repositories {
              name
              jobs { name }
              schedules { name }
              sensors { name }
              assetGroups { groupName }
              allTopLevelResourceDetails { name }
              assetNodes { assetKey { path } }
            }
          }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""


@dataclass
class Location:
    """What one loaded code location defines, as the UI's GraphQL API reports it."""

    name: str
    jobs: set[str] = field(default_factory=set)
    schedules: set[str] = field(default_factory=set)
    sensors: set[str] = field(default_factory=set)
    asset_groups: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    asset_keys: set[tuple[str, ...]] = field(default_factory=set)


def load_workspace(base_url: str, timeout: float = 120) -> dict[str, Location]:
    """Wait until no code location is still loading; fail on any load error; return the locations by name."""
    deadline = time.monotonic() + timeout
    while True:
        workspace = graphql(base_url, WORKSPACE_QUERY)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entries = workspace["locationEntries"]
        if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"code locations still loading after {timeout:.0f} s: {entries}")
        time.sleep(0.5)
    locations = {}
    for entry in entries:
        loaded = entry["locationOrLoadError"]
        assert loaded and loaded["__typename"] == "RepositoryLocation", (
            f"code location {entry['name']} failed to load: {(loaded or {}).get('message')}"
        )
        location = Location(entry["name"])
        for repo in loaded["repositories"]:
            location.jobs |= {job["name"] for job in repo["jobs"]}
            location.schedules |= {item["name"] for item in repo["schedules"]}
            location.sensors |= {item["name"] for item in repo["sensors"]}
            location.asset_groups |= {group["groupName"] for group in repo["assetGroups"]}
            location.resources |= {item["name"] for item in repo["allTopLevelResourceDetails"]}
            location.asset_keys |= {tuple(node["assetKey"]["path"]) for node in repo["assetNodes"]}
        locations[location.name] = location
    return locations


RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
  }
}
"""
RUN_TAGS_QUERY = """
query RunTags($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { tags { key value } } }
}
"""
RUN_FAILURE_QUERY = """
query RunLogs($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  }
}
"""


def wait_for_run(base_url: str, run_id: str, timeout: float = 240) -> str:
    """Poll the run until it ends; its final status (SUCCESS, FAILURE, CANCELED)."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        run = graphql(base_url, RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        status = run["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(0.5)
    raise TimeoutError(f"run {run_id} still {status} after {timeout:.0f} s")


def run_tags(base_url: str, run_id: str) -> dict[str, str]:
    run = graphql(base_url, RUN_TAGS_QUERY, {"runId": run_id})["runOrError"]
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def run_failure_messages(base_url: str, run_id: str) -> str:
    events = graphql(base_url, RUN_FAILURE_QUERY, {"runId": run_id})["logsForRun"].get("events", [])
    failures = [event["message"] for event in events if "Failure" in event["__typename"] and event.get("message")]
    return "\n".join(failures[-5:])


# --- process groups ----------------------------------------------------------------------------------------------


def wait_until(predicate, timeout: float, interval: float = 0.3, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (taken now: call it while they run)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def still_running(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    """Those not ended; a zombie counts as ended (in containers nobody may reap an orphan's exit status)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            continue
    return alive


def describe(processes: Iterable[psutil.Process]) -> str:
    lines = []
    for process in processes:
        try:
            lines.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            lines.append(f"{process.pid}: (gone)")
    return "\n".join(lines)


def stop_group(process: subprocess.Popen, timeout: float = 30) -> list[psutil.Process]:
    """SIGTERM to the process group `process` leads, SIGKILL after `timeout`; the processes that did not stop."""
    tree = process_tree(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired, TimeoutError):
        process.wait(timeout=timeout)
        wait_until(lambda: not still_running(tree), timeout=10, what="the process group to end")
    left = still_running(tree)
    kill_all(process, tree)
    return left


def kill_all(process: subprocess.Popen, tree: list[psutil.Process]) -> None:
    """SIGKILL to the group `process` leads and to every process of `tree` still running; reap `process`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for leftover in still_running(tree):
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    process.wait(timeout=10)


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


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
