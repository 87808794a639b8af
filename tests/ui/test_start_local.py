"""`make start-local` for real: the UI with both code locations answers, and both ways to stop leave nothing behind.

Isolated from a developer's own stack: its S3 endpoint is this session's moto on a free port (so start-local
starts no emulator), and LOCAL_STATE_DIR (pid files, logs), DAGSTER_HOME, the port, the bucket and the DuckDB file
are temporary, passed as make variables. A developer's `make start-local` (port 3000, S3 on 4566, pid files in the
default .local/) keeps running, and its pid files are checked to be untouched.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import psutil
import pytest
import yaml

from dagster_project.settings import PROJECT_ROOT, local_state_dir
from tests.support.dagster_server import load_workspace, tail
from tests.support.terminal_output import warning_lines
from tests.support.ui import LOCATIONS, MAKE, command_env, instance_home, link_problem, make_variables
from tooling import local_s3, local_stack
from tooling.processes import (
    default_signals,
    describe,
    free_port,
    process_tree,
    start_group,
    still_running,
    stop_group,
    wait_until,
    webserver_ready,
)

READY_BANNER = "Dagster UI ready"


def read_pid(path: Path) -> int | None:
    """The pid a pid file records (pid_files.py's JSON, or an older file's bare pid)."""
    try:
        text = path.read_text().strip()
        return int(json.loads(text)["pid"]) if text.startswith("{") else int(text)
    except (OSError, ValueError, KeyError):
        return None


def test_local_state_dir_is_read_at_call_time_relative_to_the_project_root(monkeypatch, tmp_path):
    monkeypatch.delenv("LOCAL_STATE_DIR", raising=False)
    assert local_state_dir() == PROJECT_ROOT / ".local"
    monkeypatch.setenv("LOCAL_STATE_DIR", "elsewhere/state")
    assert local_state_dir() == PROJECT_ROOT / "elsewhere" / "state"
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    assert local_s3.pid_file() == tmp_path / "local_s3.pid"
    assert local_stack.pid_file() == tmp_path / "dagster_dev.pid"


def start_local(
    tmp_path: Path, state_dir: Path, s3_endpoint: str, background: bool
) -> tuple[subprocess.Popen, str, Path]:
    """`make start-local` with the test's settings as make variables.

    In the foreground of a terminal it gets SIGINT's default action; a script's background job (`make start-local
    &` in CI) ignores SIGINT, and Dagster maps SIGTERM to SIGINT's disposition.
    """
    port = free_port()
    variables = {
        "LOCAL_STATE_DIR": str(state_dir),
        "DAGSTER_PORT": str(port),
        "DAGSTER_HOME": str(instance_home(tmp_path / "dagster_home")),
        "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "S3_BUCKET": f"start-local-{uuid.uuid4().hex[:12]}",
        "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "WAREHOUSE_URL": "",
        "CHAPTER_1_DATA_DIR": str(tmp_path / "chapter_1"),
    }
    log_path = tmp_path / "start-local.log"
    env = command_env(PYTHONUNBUFFERED="1")
    env.pop("PYTHONWARNINGS", None)  # the Makefile's own (from .env.example) is the one under test
    # Its own process group, like a job of a shell: Ctrl-C is SIGINT to that group.
    command = [*MAKE, "start-local", *make_variables(variables)]
    make = start_group(command, env, log_path, preexec_fn=ignore_interrupts if background else default_signals)
    return make, f"http://127.0.0.1:{port}", log_path


def stop_local(state_dir: Path) -> subprocess.CompletedProcess:
    """`make stop-local` from another terminal, for the test's stack only."""
    return subprocess.run(
        [*MAKE, "stop-local", *make_variables({"LOCAL_STATE_DIR": str(state_dir)})],
        cwd=PROJECT_ROOT,
        env=command_env(PYTHONUNBUFFERED="1"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def dagster_dev_process(make: subprocess.Popen) -> psutil.Process:
    for process in process_tree(make.pid):
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if len(command) >= 3 and Path(command[1]).name == "dagster" and command[2] == "dev":
            return process
    raise AssertionError(f"no `dagster dev` below make:\n{describe(process_tree(make.pid))}")


def ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


def read_pids(paths: list[Path]) -> dict[Path, int | None]:
    return {path: read_pid(path) for path in paths}


@pytest.mark.services
@pytest.mark.parametrize(
    "how",
    [
        pytest.param("ctrl-c", id="foreground-then-ctrl-c"),
        pytest.param("stop-local", id="background-then-stop-local"),
    ],
)
def test_start_local_serves_both_locations_and_stops_cleanly(how, s3_endpoint, tmp_path, monkeypatch):
    # The pid files of a developer's own local stack (LOCAL_STATE_DIR as this session has it, else .local/).
    developer_files = [local_s3.pid_file(), local_stack.pid_file()]
    developer_pids = read_pids(developer_files)
    state_dir = tmp_path / "local_state"
    make, url, log_path = start_local(tmp_path, state_dir, s3_endpoint, background=how == "stop-local")
    # From here on, this process reads the test's state folder too.
    monkeypatch.setenv("LOCAL_STATE_DIR", str(state_dir))
    tree: list[psutil.Process] = []
    try:
        wait_until(
            lambda: make.poll() is not None or READY_BANNER in log_path.read_text(errors="replace"),
            timeout=240,
            what=f"{READY_BANNER!r} from make start-local",
        )
        assert make.poll() is None, f"make start-local exited with {make.returncode}:\n{tail(log_path)}"
        assert webserver_ready(url)
        output = log_path.read_text(errors="replace")
        assert "started the local S3 emulator" not in output, "start-local started an S3 beside the test's own"
        assert warning_lines(output) == [], (
            "start-local prints warnings (accept them in .env.example's PYTHONWARNINGS?)"
        )

        locations = load_workspace(url)
        assert set(LOCATIONS) <= set(locations), f"loaded: {sorted(locations)}"
        assert {"math_job"} <= locations[LOCATIONS[0]].jobs
        assert ("kpi_daily",) in locations[LOCATIONS[1]].asset_keys

        # What the banner says to open first exists.
        banner = output[output.index(READY_BANNER) :]
        printed = sorted(set(re.findall(rf"{re.escape(url)}(/[^\s)]*)?", banner)))
        assert len(printed) >= 2, banner
        problems = {rest: problem for rest in printed if (problem := link_problem(rest, locations))}
        assert not problems, f"start-local prints links to pages the UI does not have: {problems}"

        dagster_dev = dagster_dev_process(make)
        assert local_stack.pid_file() == state_dir / "dagster_dev.pid"
        assert read_pid(local_stack.pid_file()) == dagster_dev.pid
        tree = process_tree(make.pid)
        assert len(tree) >= 5, describe(tree)  # make, python, dagster dev, webserver, daemon, code servers

        if how == "ctrl-c":
            os.killpg(make.pid, signal.SIGINT)
        else:
            stopped = stop_local(state_dir)
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
            assert "stopped dagster dev" in stopped.stdout, stopped.stdout
            assert "stopped the local S3 emulator" not in stopped.stdout, "stop-local stopped an S3 it did not start"
        make.wait(timeout=120)  # a hang guard: dagster dev gets up to STOP_TIMEOUT to shut down
        try:
            wait_until(lambda: not still_running(tree), timeout=30, what="every process of start-local to end")
        except TimeoutError:
            raise AssertionError(f"still running after the stop:\n{describe(still_running(tree))}") from None
    finally:
        # Whatever happened, nothing of this test's stack survives it.
        stop_group(make, timeout=0, tree=tree)

    if how == "stop-local":
        assert make.returncode == 0, tail(log_path)
    assert not webserver_ready(url)
    assert read_pid(local_stack.pid_file()) != dagster_dev.pid, "the pid file of the stopped stack is left"
    assert not local_s3.pid_file().exists(), "start-local started an S3 emulator of its own"
    assert read_pids(developer_files) == developer_pids, "the test changed the pid files of the developer's stack"
    # A clean stop: dagster dev shut its services down itself, tooling.processes.stop_group never had to kill it.
    outputs = log_path.read_text(errors="replace") + (stopped.stdout + stopped.stderr if how == "stop-local" else "")
    assert "did not stop within" not in outputs, tail(log_path)
    assert "Shutting down Dagster services" in log_path.read_text(errors="replace"), tail(log_path)


def dagster_yaml_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "target", "dbt_packages", "test-artifacts"}
    found = [*PROJECT_ROOT.rglob("dagster.yaml"), *PROJECT_ROOT.rglob("dagster.yml")]
    return sorted(path for path in found if not skip & set(path.relative_to(PROJECT_ROOT).parts))


def test_every_dagster_yaml_disables_telemetry_and_nux():
    """No request outside the machine, no pop-up on a fresh instance: in every instance of the project."""
    files = dagster_yaml_files()
    assert PROJECT_ROOT / "dagster_home" / "dagster.yaml" in files
    wrong = {}
    for path in files:
        config = yaml.safe_load(path.read_text()) or {}
        for section in ("telemetry", "nux"):
            if (config.get(section) or {}).get("enabled") is not False:
                wrong.setdefault(str(path.relative_to(PROJECT_ROOT)), []).append(f"{section}: {{enabled: false}}")
    assert not wrong, f"missing settings: {wrong}"
