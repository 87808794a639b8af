"""Pid files that name a process by its pid AND by what it is: its start time and command line.

A pid is reused once its process has ended: a pid file left behind by a crash, a reboot or a copied folder may name
some other program by now. `make stop-local` signals only a process that is still the one it started.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil


def _identity(pid: int) -> dict | None:
    try:
        process = psutil.Process(pid)
        return {"pid": pid, "started": process.create_time(), "command": process.cmdline()}
    except psutil.Error:  # gone, a zombie without a command line, or not ours to inspect
        return None


def write(path: Path, pid: int) -> None:
    """Record `pid` with its start time and command line (the process must be running)."""
    identity = _identity(pid)
    if identity is None:
        raise RuntimeError(f"process {pid} ended before its pid file {path} was written")
    path.write_text(json.dumps(identity))


def live_pid(path: Path) -> int | None:
    """The pid `path` names if that process still runs and is the one recorded; None otherwise (nothing to signal)."""
    try:
        recorded = json.loads(path.read_text())
        pid = int(recorded["pid"])
    except (OSError, ValueError, TypeError, KeyError):  # absent, or an old or foreign file: identity unknown
        return None
    current = _identity(pid)
    if current is None or current["command"] != recorded.get("command"):
        return None
    return pid if abs(current["started"] - float(recorded.get("started", 0))) < 0.01 else None
