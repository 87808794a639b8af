"""Local files that matter for security: pid files never make stop-local signal a stranger, and the warehouse
file is its owner's only."""

import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from dagster_project import duckdb_s3
from dagster_project.resources import DuckDBWarehouse
from dagster_project.settings import load_settings
from tooling import local_s3, local_stack, pid_files


def unrelated_process_group() -> subprocess.Popen:
    """A live process leading its own group: what a stale pid file may name once the pid is reused."""
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        # An ordinary program: SIGTERM ends it. (After an in-process Dagster run, a test process started in the
        # background ignores SIGTERM, and its children would inherit that.)
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )


@pytest.mark.parametrize("pid_file", [local_stack.pid_file, local_s3.pid_file], ids=["dagster_dev", "local_s3"])
def test_stop_local_signals_only_the_process_it_started(pid_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    stranger = unrelated_process_group()
    try:
        # A pid file of the old format (the pid alone), and one whose process started at another time: the pid was
        # reused by another program. Neither is signalled, and the stale file is removed.
        stale = {"pid": stranger.pid, "started": 1.0, "command": [sys.executable, "-m", "dagster"]}
        for content in (str(stranger.pid), json.dumps(stale)):
            pid_file().write_text(content)
            local_stack.stop()
            assert stranger.poll() is None, f"stop-local signalled an unrelated process for {content!r}"
            assert not pid_file().exists()
        if pid_file is local_stack.pid_file:
            assert "nothing was signalled" in capsys.readouterr().out

        # The same process, recorded when it started: it is the one to stop.
        pid_files.write(pid_file(), stranger.pid)
        local_stack.stop()
        stranger.wait(timeout=60)  # it ended (its exit status may have been collected by stop_group already)
    finally:
        stranger.kill()
        stranger.wait()


def test_the_duckdb_file_is_created_owner_only_whatever_the_umask(pipeline_env, tmp_path):
    previous = os.umask(0o022)  # a usual shell: files world-readable by default
    try:
        warehouse = DuckDBWarehouse(path=str(tmp_path / "new_folder" / "warehouse.duckdb"))
        with warehouse.writer() as conn:
            conn.execute("create table t as select 1 as x")
        with duckdb_s3.connect(load_settings()) as conn:  # DUCKDB_PATH, as the readers and `make run` open it
            conn.execute("create table t as select 1 as x")
    finally:
        os.umask(previous)
    for path, mode in [
        (tmp_path / "new_folder", 0o700),
        (tmp_path / "new_folder" / "warehouse.duckdb", 0o600),
        (tmp_path / "warehouse.duckdb", 0o600),
    ]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_the_local_ui_listens_on_127_0_0_1_only():
    """The Dagster UI has no login: make start-local never offers it to the network."""
    command = local_stack.dagster_dev_command(3000)
    assert command[command.index("-h") + 1] == "127.0.0.1"
