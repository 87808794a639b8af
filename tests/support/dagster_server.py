"""What the tests that run real Dagster processes need beyond tooling/processes.py (free ports, process groups,
readiness): `dagster dev`, and what the webserver's GraphQL API says about code locations and runs.

Shared by the UI tests (tests/ui), the native twin of the Docker stack (tests/docker) and the concurrency test
(tests/dagster_project).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.settings import PROJECT_ROOT
from tooling.processes import graphql, locations_loaded, start_group, wait_until, webserver_ready

VENV_BIN = Path(sys.executable).parent
RUN_ENDED = ("SUCCESS", "FAILURE", "CANCELED")


def tail(path: Path, lines: int = 60) -> str:
    """The last `lines` lines of a log file ("" when there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_dagster_dev(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`dagster dev` (webserver, daemon, both code locations of workspace.yaml) on 127.0.0.1:`port`."""
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    command = [str(VENV_BIN / "dagster"), "dev", "-w", workspace, "-h", "127.0.0.1", "-p", str(port)]
    return start_group(command, env, log_path)


def wait_until_ready(
    base_url: str, process: subprocess.Popen, timeout: float = 120, details: Callable[[], str] | None = None
) -> None:
    """Wait for the webserver `process` serves at `base_url`; fail at once if the process exits first."""
    wait_until(lambda: webserver_ready(base_url), timeout, f"{base_url}/server_info", process=process, details=details)


# --- the webserver's GraphQL API -------------------------------------------------------------------------------


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
    """What one loaded code location defines, as the webserver's GraphQL API reports it."""

    name: str
    jobs: set[str] = field(default_factory=set)
    schedules: set[str] = field(default_factory=set)
    sensors: set[str] = field(default_factory=set)
    asset_groups: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    asset_keys: set[tuple[str, ...]] = field(default_factory=set)


def load_workspace(
    base_url: str, timeout: float = 120, details: Callable[[], str] | None = None
) -> dict[str, Location]:
    """Wait until every code location has loaded (fail on any load error); return the locations by name."""
    wait_until(lambda: locations_loaded(base_url), timeout, "the code locations to load", interval=0.5, details=details)
    workspace = graphql(base_url, WORKSPACE_QUERY)["workspaceOrError"]
    assert workspace["__typename"] == "Workspace", workspace
    entries = workspace["locationEntries"]
    locations = {}
    for entry in entries:
        found = entry["locationOrLoadError"]
        assert found and found["__typename"] == "RepositoryLocation", (
            f"code location {entry['name']} failed to load: {(found or {}).get('message')}"
        )
        location = Location(entry["name"])
        for repo in found["repositories"]:
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
    status = None

    def ended() -> bool:
        nonlocal status
        run = graphql(base_url, RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        status = run["status"]
        return status in RUN_ENDED

    wait_until(ended, timeout, what=f"run {run_id} to end", interval=0.5, details=lambda: f"still {status}")
    return status


def run_tags(base_url: str, run_id: str) -> dict[str, str]:
    run = graphql(base_url, RUN_TAGS_QUERY, {"runId": run_id})["runOrError"]
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def run_failure_messages(base_url: str, run_id: str) -> str:
    events = graphql(base_url, RUN_FAILURE_QUERY, {"runId": run_id})["logsForRun"].get("events", [])
    failures = [event["message"] for event in events if "Failure" in event["__typename"] and event.get("message")]
    return "\n".join(failures[-5:])
