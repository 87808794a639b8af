"""Measuring processes: wall time and peak memory of a whole process tree, the machine they ran on."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.config import MIB, BenchFailure
from dagster_project.settings import PROJECT_ROOT
from tooling.processes import start_group, stop_group


@dataclass
class Measured:
    wall_s: float
    peak_rss_mb: float
    peak_processes: int
    returncode: int
    log: Path


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every `interval` seconds; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_bytes = 0
        self.peak_processes = 0
        self._done = threading.Event()

    def sample(self) -> None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):  # ended between the listing and the reading
                total += process.memory_info().rss
        self.peak_bytes = max(self.peak_bytes, total)
        self.peak_processes = max(self.peak_processes, len(processes))

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_measured(command: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path, timeout: float = 7200):
    """Run `command` to its end with its output in `log`: wall time and peak RSS of its whole process tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    started = time.perf_counter()
    # Its own group: stopped as a whole on Ctrl-C or timeout.
    process = start_group(command, dict(env), log, cwd=cwd)
    sampler = TreeSampler(process.pid)
    sampler.start()
    try:
        returncode = process.wait(timeout=timeout)
    except BaseException:
        stop_group(process, timeout=20)
        raise
    finally:
        sampler.stop()
    wall = time.perf_counter() - started
    return Measured(wall, sampler.peak_bytes / MIB, sampler.peak_processes, returncode, log)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def check_ok(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        raise BenchFailure(
            f"{what} failed (exit code {measured.returncode}); log {measured.log}:\n{log_tail(measured.log)}"
        )
    return measured


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine_description() -> dict:
    versions = {}
    for package in (
        "dagster",
        "dagster-webserver",
        "dagster-dbt",
        "dbt-core",
        "dbt-duckdb",
        "duckdb",
        "moto",
        "boto3",
        "psutil",
    ):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    status = _git("status", "--porcelain")
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_total_mb": round(psutil.virtual_memory().total / MIB),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
