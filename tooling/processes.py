"""Processes the tooling, the tests and the bench start: free ports, process groups, readiness. Defined once here.

- A server runs as the leader of its own process group (`start_group`), so it and everything it starts (code
  servers, run workers) can be stopped together: SIGTERM to the group, time to shut down, then SIGKILL to what is
  left, and the leader reaped (`stop_group`).
- Ready means answering: an HTTP 200 (`http_ok`, the webserver's /server_info), any HTTP answer (`http_answers`,
  an S3 endpoint), or every code location of a webserver loaded (`locations_loaded`, over GraphQL). `wait_until`
  polls one, and fails at once when the process that should answer has exited.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import psutil

from dagster_project.settings import PROJECT_ROOT

# How long a stopped group may take to shut down by itself before it is killed: a hang guard, not an expectation
# (dagster dev stops its webserver, daemon and code servers one by one; a loaded machine took over 30 s).
STOP_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- process groups --------------------------------------------------------------------------------------------


def default_signals() -> None:
    """preexec_fn: the default SIGINT/SIGQUIT, as a terminal's foreground job has.

    A shell starting a background job without job control (CI scripts, `cmd &`) makes it ignore SIGINT; the
    children inherit that, and Dagster maps SIGTERM to SIGINT's handler: it would then ignore SIGTERM too.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def start_group(
    command: Sequence[str],
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    *,
    cwd: Path = PROJECT_ROOT,
    preexec_fn: Callable[[], None] | None = default_signals,
) -> subprocess.Popen:
    """`command` as the leader of a new process group; its output to `log_path` (else this process's own)."""
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - handed to the child, closed below
    try:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT if log else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    finally:
        if log:
            log.close()


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


def stop_groups(
    leaders: Sequence[subprocess.Popen | int],
    timeout: float = STOP_TIMEOUT,
    tree: Iterable[psutil.Process] = (),
) -> list[psutil.Process]:
    """SIGTERM to the process groups `leaders` lead (Popen objects, or pids of groups another process started), all
    at once; SIGKILL to whatever of them is left after `timeout`; the leaders this process started are reaped.

    `tree`: processes seen in the groups earlier (a child may have left its parent by now); their descendants now
    are added. Returns the processes that did not stop by themselves (killed since): [] is a clean stop.
    """
    pids = [leader if isinstance(leader, int) else leader.pid for leader in leaders]
    tree = list({process.pid: process for process in [*tree, *(p for pid in pids for p in process_tree(pid))]}.values())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)

    def ended() -> bool:
        _reap(leaders)
        return not still_running(tree)

    with contextlib.suppress(TimeoutError):
        wait_until(ended, timeout, what="the process groups to end", interval=0.2)
    left = still_running(tree)
    for pid in pids:  # members that left the tree (orphans) but not the group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    for leftover in still_running(tree):
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    _reap(leaders, timeout=10)
    with contextlib.suppress(TimeoutError):  # SIGKILL takes effect soon, not at once
        wait_until(lambda: not still_running(tree), 10, what="the killed processes to end", interval=0.05)
    return left


def stop_group(
    leader: subprocess.Popen | int, timeout: float = STOP_TIMEOUT, tree: Iterable[psutil.Process] = ()
) -> list[psutil.Process]:
    """`stop_groups` for one group."""
    return stop_groups([leader], timeout, tree)


def _reap(leaders: Sequence[subprocess.Popen | int], timeout: float = 0) -> None:
    """Collect the exit status of the leaders that are this process's children: an ended child stays a zombie (and
    its group findable) until then. A pid this process did not start is its own parent's to collect."""
    for leader in leaders:
        with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
            if isinstance(leader, subprocess.Popen):
                leader.wait(timeout=timeout) if timeout else leader.poll()
            else:
                os.waitpid(leader, os.WNOHANG)


# --- readiness ---------------------------------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], object],
    timeout: float,
    what: str = "condition",
    *,
    interval: float = 0.3,
    details: Callable[[], str] | None = None,
    process: subprocess.Popen | None = None,
) -> None:
    """Poll `predicate` until it is true. TimeoutError after `timeout` s; RuntimeError as soon as `process` (the one
    expected to make it true) has exited. Both messages end with `details()` when given (a log's tail)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        found = f"\n{details()}" if details else ""
        if process is not None and process.poll() is not None:
            command = " ".join(str(arg) for arg in process.args)[:160]
            raise RuntimeError(f"`{command}` exited with code {process.returncode} before {what}{found}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{found}")
        time.sleep(interval)


def http_ok(url: str, timeout: float = 2) -> bool:
    """True when `url` answers HTTP 200 (the Dagster webserver's /server_info)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def http_answers(url: str, timeout: float = 0.5) -> bool:
    """True when a server answers HTTP at `url`, whatever the status (an S3 endpoint answers 403 or 404 at /)."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def webserver_ready(base_url: str) -> bool:
    """True when the Dagster webserver at `base_url` answers /server_info."""
    return http_ok(f"{base_url}/server_info")


def graphql(base_url: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    """POST one query to a Dagster webserver's GraphQL API; its `data`, or RuntimeError on any error it reports."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{base_url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.load(response)
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


LOCATIONS_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries { name loadStatus locationOrLoadError { __typename ... on PythonError { message } } }
    }
    ... on PythonError { message }
  }
}
"""


class LocationLoadError(RuntimeError):
    """A code location of the workspace failed to load: waiting longer will not help."""


def locations_loaded(base_url: str) -> bool:
    """True when the webserver at `base_url` answers and every code location of its workspace has loaded.

    False while it starts or a location is loading; LocationLoadError, naming it, when one failed to load.
    """
    try:
        workspace = graphql(base_url, LOCATIONS_QUERY, timeout=5)["workspaceOrError"]
    except (OSError, ValueError):
        return False
    if workspace["__typename"] != "Workspace":
        raise LocationLoadError(f"the workspace of {base_url} failed to load: {workspace.get('message')}")
    entries = workspace["locationEntries"]
    for entry in entries:
        error = entry.get("locationOrLoadError") or {}
        if error.get("__typename") == "PythonError":
            raise LocationLoadError(f"code location {entry['name']} failed to load: {error.get('message')}")
    return bool(entries) and all(entry["loadStatus"] == "LOADED" for entry in entries)
