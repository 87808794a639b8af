"""tooling/processes.py: process groups stop as a whole, and a wait fails at once when its process died."""

from __future__ import annotations

import sys
import time

import pytest

from tooling.processes import free_port, http_answers, process_tree, start_group, still_running, stop_group, wait_until

# A parent with a child in its group; the child ignores SIGTERM when asked to (a hung server).
PARENT = """
import signal, subprocess, sys, time
child = [sys.executable, "-c", "import signal, sys, time; {ignore}; print('ready', flush=True); time.sleep(600)"]
subprocess.Popen(child)
time.sleep(600)
"""


def start_parent(tmp_path, ignore_term: bool):
    ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN)" if ignore_term else "pass"
    log = tmp_path / "group.log"
    leader = start_group([sys.executable, "-c", PARENT.format(ignore=ignore)], log_path=log)
    wait_until(lambda: "ready" in log.read_text(), 60, "the child to start", process=leader)
    tree = process_tree(leader.pid)
    assert len(tree) == 2
    return leader, tree


def test_a_group_that_stops_by_itself_is_a_clean_stop(tmp_path):
    leader, tree = start_parent(tmp_path, ignore_term=False)
    assert stop_group(leader) == []
    assert leader.returncode is not None  # reaped
    assert still_running(tree) == []


def test_what_ignores_sigterm_is_killed_after_the_timeout_and_reported(tmp_path):
    leader, tree = start_parent(tmp_path, ignore_term=True)
    left = stop_group(leader, timeout=1)
    assert [process.pid for process in left] == [tree[1].pid]
    assert still_running(tree) == []


def test_a_wait_fails_at_once_naming_the_process_that_exited(tmp_path):
    died = start_group([sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "died.log")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with code 3 before the server to answer"):
        wait_until(lambda: False, 600, "the server to answer", process=died, details=lambda: "its log")
    assert time.monotonic() - started < 600


def test_a_free_port_has_no_listener():
    assert not http_answers(f"http://127.0.0.1:{free_port()}")
