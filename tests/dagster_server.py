"""Start a real Dagster webserver (+ daemon) for a test, and talk to it through its GraphQL API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dagster_project.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


def graphql(url: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise AssertionError(payload["errors"])
    return payload["data"]


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=1):
                return
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the Dagster server exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}/server_info did not answer within {timeout} s")
        time.sleep(0.3)


def start_dagster_dev(port: int, env: dict, log_path: Path) -> subprocess.Popen:
    """`dagster dev` (webserver + daemon + both code locations) in its own process group."""
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # Children (code servers, run workers) that outlived the parent.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)


LOCATIONS_QUERY = """
query {
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def wait_for_locations(url: str, names: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        entries = graphql(url, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
        status = {entry["name"]: entry["locationOrLoadError"] for entry in entries}
        if names <= status.keys() and all(status[n] and status[n]["__typename"] != "PythonError" for n in names):
            return status
        errors = {n: s for n, s in status.items() if s and s["__typename"] == "PythonError"}
        if errors:
            raise AssertionError(f"code locations failed to load: {errors}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"code locations {names} not loaded: {status}")
        time.sleep(0.5)
