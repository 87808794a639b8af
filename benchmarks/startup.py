"""The start-up figures: loading the chapter-2 code location, and a local Dagster UI until it is ready."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

from benchmarks.config import BIN_DIR, MIB, BenchFailure, bench_env, new_dagster_home, say
from benchmarks.measure import TreeSampler, check_ok, log_tail, run_measured
from benchmarks.report import median
from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tooling.processes import (
    LocationLoadError,
    free_port,
    locations_loaded,
    process_tree,
    start_group,
    stop_group,
    webserver_ready,
)

# Run in a fresh interpreter: the time to import the code location and build its repository.
LOAD_SCRIPT = """
import time
started = time.perf_counter()
import dagster_project.definitions as definitions
definitions.defs.get_repository_def()
print(f"BENCH_LOAD_S={time.perf_counter() - started!r}", flush=True)
"""
_LOAD_LINE = re.compile(r"^BENCH_LOAD_S=([0-9.eE+-]+)$", re.MULTILINE)


def startup(work: Path, endpoint: str, repeats: int) -> dict:
    """Code-location load (median of `repeats`, fresh interpreter each) and time until a local UI answers."""
    folder = work / "startup"
    home = new_dagster_home(folder / "dagster_home")
    env = bench_env(
        os.environ,
        endpoint=endpoint,
        bucket="bench-startup",
        duckdb_path=folder / "warehouse.duckdb",
        dagster_home=home,
    )
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    manifest_mtime = manifest.stat().st_mtime_ns
    loads, walls = [], []
    for i in range(repeats):
        measured = run_measured(
            [sys.executable, "-c", LOAD_SCRIPT], env, PROJECT_ROOT, work / "logs" / f"code_location-{i}.log"
        )
        check_ok(measured, "loading the code location")
        match = _LOAD_LINE.search(measured.log.read_text(errors="replace"))
        if not match:
            raise BenchFailure(f"no load time in {measured.log}:\n{log_tail(measured.log)}")
        loads.append(float(match.group(1)))
        walls.append(measured.wall_s)
    figures = {
        "code_location_load_s": median(loads),
        "code_location_load_runs_s": loads,
        "code_location_process_s": median(walls),
        "code_location_process_runs_s": walls,
        # dbt parse at load would rewrite the prepared manifest (or another engineer did `make prepare`).
        "code_location_manifest_untouched": manifest.stat().st_mtime_ns == manifest_mtime,
    }
    say(
        f"[start-up] code location: {figures['code_location_load_s']:.2f} s import + Definitions "
        f"({figures['code_location_process_s']:.2f} s whole process), median of {repeats}"
    )
    figures.update(ui(work, env, folder))
    say(
        f"[start-up] UI: /server_info answered after {figures['ui_ready_s']:.1f} s, "
        f"code location loaded after {figures['ui_location_loaded_s']:.1f} s"
    )
    return figures


def ui(work: Path, env: Mapping, folder: Path, timeout: float = 300) -> dict:
    """Seconds until a webserver on the chapter-2 location answers /server_info, and until the location loaded."""
    workspace = folder / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: dagster_project.definitions\n"
        "      location_name: chapter-2-retailer_kpis\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN_DIR / "dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]
    log = work / "logs" / "webserver.log"
    started = time.perf_counter()
    process = start_group(command, dict(env), log)
    sampler = TreeSampler(process.pid)
    sampler.start()
    descendants: dict[int, psutil.Process] = {}
    try:
        ready = loaded = None
        while loaded is None:
            if process.poll() is not None:
                raise BenchFailure(f"the webserver exited with code {process.returncode}:\n{log_tail(log)}")
            if time.perf_counter() - started > timeout:
                raise BenchFailure(f"the UI was not ready within {timeout:.0f} s:\n{log_tail(log)}")
            descendants.update((child.pid, child) for child in process_tree(process.pid))
            if ready is None:
                if webserver_ready(url):
                    ready = time.perf_counter() - started
            elif locations_loaded(url):
                loaded = time.perf_counter() - started
            time.sleep(0.1)
    except LocationLoadError as error:
        raise BenchFailure(f"the UI could not load the code location: {error}") from None
    finally:
        sampler.stop()
        # What had to be killed: the webserver, or processes that outlived it.
        leftovers = [leftover.pid for leftover in stop_group(process, timeout=20, tree=descendants.values())]
    if leftovers:
        say(f"[start-up] warning: {len(leftovers)} webserver process(es) outlived its group: {leftovers}")
    return {
        "ui_ready_s": ready,
        "ui_location_loaded_s": loaded,
        "ui_peak_rss_mb": sampler.peak_bytes / MIB,
        "ui_leftover_processes": leftovers,
    }
