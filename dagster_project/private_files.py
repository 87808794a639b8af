"""Owner-only files: the DuckDB warehouse (every sales line and KPI) and the local Dagster instance (runs, logs,
event metadata) are readable by their owner only, whatever the umask of the shell that started them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077


def owner_only_umask() -> None:
    """From now on this process, and every process it starts, creates files 0600 and folders 0700.

    Called where the local stack starts (make start-local, make run): dagster dev, its run workers and dbt inherit it.
    """
    os.umask(OWNER_ONLY_UMASK)


def private_dir(path: Path, *, existing_too: bool = False) -> Path:
    """Create `path` (and its parents) with mode 0700. A folder that exists keeps its mode unless `existing_too`
    (the project's own folders, such as DAGSTER_HOME): someone else's folder (DUCKDB_PATH=/srv/x.duckdb) is left."""
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    if created or existing_too:
        _chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make a file this process created (the DuckDB file) and its write-ahead log owner-only."""
    for file in (path, path.with_name(path.name + ".wal")):
        _chmod(file, 0o600)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):  # gone, or not ours: nothing to tighten
        if path.stat().st_uid == os.geteuid():
            path.chmod(mode)
