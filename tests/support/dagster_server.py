"""What every test that runs real Dagster processes needs: free ports, process groups, the webserver's GraphQL API.

Generic on purpose: the UI tests (tests/ui), the native twin of the Docker stack (tests/docker) and the concurrency
test (tests/dagster_project) all start their servers, wait for them and stop them with these helpers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dagster_project.settings import PROJECT_ROOT
from tooling import local_stack
from tooling.local_stack import free_port  # noqa: F401  (the tests import it from here)

VENV_BIN = Path(sys.executable).parent
RUN_ENDED = ("SUCCESS", "FAILURE", "CANCELED")


def wait_until(
    predicate: Callable[[], object],
    timeout: float,
    what: str = "condition",
    *,
    interval: float = 0.3,
    details: Callable[[], str] | None = None,
) -> None:
    """Poll `predicate` until it is true; TimeoutError (with `details()` appended, if given) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            message = f"timed out after {timeout:.0f} s waiting for {what}"
            raise TimeoutError(f"{message}\n{details()}" if details else message)
        time.sleep(interval)


def tail(path: Path, lines: int = 60) -> str:
    """The last `lines` lines of a log file ("" when there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- processes and their groups ------------------------------------------------------------------------------------


def default_signals() -> None:
    """preexec_fn: give the child the default SIGINT/SIGQUIT, as a terminal's foreground job has.

    A shell starting a background job without job control (CI scripts, `cmd &`) makes it ignore SIGINT; the
    children inherit that, and Dagster maps SIGTERM to SIGINT's handler: it would then ignore SIGTERM too.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def start_group(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`command` from the project root as the leader of a new process group, its output to `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=default_signals,
        )


def start_dagster_dev(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`dagster dev` (webserver, daemon, both code locations of workspace.yaml) on 127.0.0.1:`port`."""
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    command = [str(VENV_BIN / "dagster"), "dev", "-w", workspace, "-h", "127.0.0.1", "-p", str(port)]
    return start_group(command, env, log_path)


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


def stop_groups(leaders: list[subprocess.Popen], timeout: float = 30) -> list[psutil.Process]:
    """SIGTERM to the process groups `leaders` lead, all at once; SIGKILL to what is left after `timeout`.

    Returns the processes that did not stop by themselves (killed since).
    """
    tree = [process for leader in leaders for process in process_tree(leader.pid)]
    for leader in leaders:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired, TimeoutError):
        for leader in leaders:
            leader.wait(timeout=max(deadline - time.monotonic(), 0.1))
        # Children (code servers, run workers) that outlive their parent.
        wait_until(lambda: not still_running(tree), timeout=10, what="the process groups to end")
    left = still_running(tree)
    kill_all(leaders, tree)
    return left


def stop_group(leader: subprocess.Popen, timeout: float = 30) -> list[psutil.Process]:
    """`stop_groups` for one group."""
    return stop_groups([leader], timeout)


def kill_all(leaders: Iterable[subprocess.Popen], tree: list[psutil.Process]) -> None:
    """SIGKILL to the groups `leaders` lead and to every process of `tree` still running; reap the leaders."""
    leaders = list(leaders)
    for leader in leaders:
        if leader.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader.pid, signal.SIGKILL)
    for leftover in still_running(tree):
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    for leader in leaders:
        leader.wait(timeout=10)


# --- the webserver and its GraphQL API -----------------------------------------------------------------------------


def server_answers(base_url: str) -> bool:
    """True when the Dagster webserver at `base_url` answers /server_info (as `make start-local` waits for it)."""
    return local_stack.server_ready(base_url)


def wait_until_ready(
    base_url: str, process: subprocess.Popen, timeout: float = 120, details: Callable[[], str] | None = None
) -> None:
    """Wait for the webserver `process` serves at `base_url`; fail at once if the process exits first."""
    wait_until(
        lambda: process.poll() is not None or server_answers(base_url),
        timeout,
        what=f"{base_url}/server_info",
        details=details,
    )
    if process.poll() is not None:
        command = " ".join(str(arg) for arg in process.args)[:120]
        found = f":\n{details()}" if details else ""
        raise AssertionError(f"`{command}` exited with code {process.returncode}{found}")


def graphql(base_url: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    """POST one query to the webserver's GraphQL API; its `data`, or AssertionError on any error it reports."""
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
    """Wait until no code location is still loading; fail on any load error; return the locations by name."""
    entries: list[dict] = []

    def loaded() -> bool:
        workspace = graphql(base_url, WORKSPACE_QUERY)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entries[:] = workspace["locationEntries"]
        return bool(entries) and all(entry["loadStatus"] == "LOADED" for entry in entries)

    wait_until(
        loaded,
        timeout,
        what="the code locations to load",
        interval=0.5,
        details=lambda: f"{entries}\n{details() if details else ''}",
    )
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
