"""`make bench`: how fast is Chapter 2's pipeline, against what the same machine can do on the same data?

For each size (small: 39 x 120 rows, year: 365 x 1,000, 10m: 365 x 27,400), in one run of this script:

- generates the daily batches with the project's generator and uploads them to a local S3 (moto) that the
  bench starts for itself on a free port;
- anchor A: the daily KPIs in ONE DuckDB query straight from the S3 files (its own process), median of 3;
- the project: a single-run backfill of the whole range through the real entry point
  (`dagster asset materialize --select group:retailer_kpis --partition-range first...last`), JSON delivery
  to S3 included, with the peak memory of its process tree;
- anchor B: N single-day runs through the same CLI, one process each, extrapolated to the whole range;
- the daily run: the day after the range materialized on top of the loaded range;
- dbt's floor: a bare `dbt build` of the project for one more new day, in its own process;

and once: the time to load the chapter-2 code location (import + Definitions, median of 3) and the time until
a local Dagster UI answers. Every output of the pipeline is checked against anchor A (a fast wrong answer is
not a result). It prints a table with the ratios and the targets of issue #7, writes everything as JSON under
benchmarks/results/ and prints that file's path last.

    python benchmarks/bench.py --size small          # default; a few minutes
    python benchmarks/bench.py --size year           # on a quiet machine
    python benchmarks/bench.py --size small,year,10m

Isolation: its own S3 server, bucket, DuckDB file and DAGSTER_HOME in a temporary folder, handed to every
process through the environment variables the project reads (settings.py). The developer's data, S3 and
Dagster instance are never touched.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from dagster_project import dbt_args, local_s3, local_stack, sample_data
from dagster_project import run as project_run
from dagster_project.settings import (
    DBT_PROJECT_DIR,
    KPIS_PREFIX,
    PROJECT_ROOT,
    Settings,
    load_settings,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
ANCHOR_A_SCRIPT = BENCH_DIR / "anchor_a.py"
BIN_DIR = Path(sys.executable).parent
MIB = 1024 * 1024
RESULTS_SCHEMA = 1


@dataclass(frozen=True)
class Size:
    name: str
    days: int
    rows_per_day: int
    first: dt.date = dt.date(2023, 8, 2)  # the first partition of the project

    @property
    def rows(self) -> int:
        return self.days * self.rows_per_day

    @property
    def last(self) -> dt.date:
        return self.first + dt.timedelta(days=self.days - 1)


SIZES = {
    "small": Size("small", days=39, rows_per_day=120),
    "year": Size("year", days=365, rows_per_day=1_000),
    "10m": Size("10m", days=365, rows_per_day=27_400),
}


@dataclass(frozen=True)
class Target:
    """One target of issue #7: `metric` of `size` (None: measured once, not per size) `op` `limit`."""

    size: str | None
    metric: str
    op: str  # "<=" or ">="
    limit: float
    label: str


TARGETS = (
    Target("year", "ratio_project_to_anchor_a", "<=", 8, "backfill incl. JSON delivery / anchor A"),
    Target("year", "ratio_anchor_b_to_project", ">=", 100, "anchor B (one run a day) / backfill"),
    Target("year", "ratio_daily_to_dbt_floor", "<=", 2.5, "daily run / bare dbt build (dbt's floor)"),
    Target("10m", "ratio_project_to_anchor_a", "<=", 3, "backfill incl. JSON delivery / anchor A"),
    Target("10m", "project_peak_rss_mb", "<=", 1536, "peak RSS of the backfill's process tree, MiB (1.5 GiB)"),
    Target("10m", "ratio_daily_to_dbt_floor", "<=", 2.5, "daily run / bare dbt build (dbt's floor)"),
    Target(None, "code_location_load_s", "<=", 3, "chapter-2 code location load (import + Definitions), s"),
)

# Keys every results file has (issue #7), checked before the file is written.
REQUIRED_SIZE_KEYS = (
    "rows",
    "anchor_a_s",
    "anchor_b_extrapolated_s",
    "project_backfill_s",
    "project_peak_rss_mb",
    "daily_run_s",
    "dbt_floor_s",
)
REQUIRED_TOP_KEYS = ("machine", "sizes", "code_location_load_s", "ui_ready_s", "targets")

# Run in a fresh interpreter: the time to import the code location and build its repository.
LOAD_SCRIPT = """
import time
started = time.perf_counter()
import dagster_project.definitions as definitions
definitions.defs.get_repository_def()
print(f"BENCH_LOAD_S={time.perf_counter() - started!r}", flush=True)
"""
_LOAD_LINE = re.compile(r"^BENCH_LOAD_S=([0-9.eE+-]+)$", re.MULTILINE)

UI_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


class BenchFailure(RuntimeError):
    """The bench cannot produce a trustworthy figure: a run failed or its output is wrong."""


# --- pure helpers (tests/test_bench_helpers.py) ---------------------------------------------------------------


def parse_sizes(text: str) -> list[str]:
    """`small`, `year`, `10m` or a comma-separated list of them, in the given order, without repeats."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SIZES]
    if not names or unknown:
        raise ValueError(f"unknown size(s) {unknown or text!r}: choose among {', '.join(SIZES)}")
    return list(dict.fromkeys(names))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread_days(first: dt.date, days: int, count: int) -> list[dt.date]:
    """`count` distinct days spread evenly over the range, first and last day included."""
    count = max(1, min(count, days))
    if count == 1:
        return [first]
    return [first + dt.timedelta(days=round(i * (days - 1) / (count - 1))) for i in range(count)]


def single_partition_command(day: dt.date) -> list[str]:
    """The project's materialize command (run.py) for one partition: `--partition day` instead of a range."""
    command = project_run.materialize_command(day.isoformat(), day.isoformat())
    position = command.index("--partition-range")
    return [*command[:position], "--partition", day.isoformat(), *command[position + 2 :]]


def bench_env(base: Mapping[str, str], *, endpoint: str, bucket: str, duckdb_path: Path, dagster_home: Path) -> dict:
    """The caller's environment, pointed at the bench's own S3, bucket, DuckDB file and Dagster instance."""
    env = dict(base)
    # Anything that could send the bench's processes elsewhere than its own isolated resources.
    for name in (
        "WAREHOUSE_URL",
        "OPERATIONAL_DATA_PREFIX",
        "DAGSTER_IS_DEV_CLI",
        "DBT_TARGET_PATH",
        "DBT_LOG_PATH",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ):
        env.pop(name, None)
    env.update(
        S3_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        S3_BUCKET=bucket,
        DUCKDB_PATH=str(duckdb_path),
        DAGSTER_HOME=str(dagster_home),
    )
    path = env.get("PATH", "")
    if path.split(os.pathsep)[0] != str(BIN_DIR):
        env["PATH"] = os.pathsep.join(part for part in (str(BIN_DIR), path) if part)
    return env


def compare_kpis(actual: Mapping[str, Mapping], expected: Mapping[str, Mapping], rel: float = 1e-9) -> list[str]:
    """Every difference between two {day: {kpi: value}} tables (days, then values to `rel`); [] when equal."""
    problems = []
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"{len(missing)} day(s) missing: {', '.join(missing[:5])}")
    if extra:
        problems.append(f"{len(extra)} unexpected day(s): {', '.join(extra[:5])}")
    for day in sorted(set(expected) & set(actual)):
        for name, value in expected[day].items():
            got = actual[day].get(name)
            if got is None or not math.isclose(float(got), float(value), rel_tol=rel, abs_tol=1e-12):
                problems.append(f"{day} {name}: got {got}, expected {value}")
    return problems


def size_ratios(result: Mapping) -> dict[str, float | None]:
    """The three ratios of issue #7 for one size's figures."""
    return {
        "ratio_project_to_anchor_a": ratio(result.get("project_backfill_s"), result.get("anchor_a_s")),
        "ratio_anchor_b_to_project": ratio(result.get("anchor_b_extrapolated_s"), result.get("project_backfill_s")),
        "ratio_daily_to_dbt_floor": ratio(result.get("daily_run_s"), result.get("dbt_floor_s")),
    }


def evaluate_targets(sizes: Mapping[str, Mapping], startup: Mapping, targets: Sequence[Target] = TARGETS) -> list:
    """One row per target: its value and PASS / MISS, or NOT MEASURED when its size was not run."""
    rows = []
    for target in targets:
        source = startup if target.size is None else sizes.get(target.size)
        value = None if source is None else source.get(target.metric)
        if value is None:
            status = "NOT MEASURED"
        else:
            ok = value <= target.limit if target.op == "<=" else value >= target.limit
            status = "PASS" if ok else "MISS"
        rows.append(
            {
                "size": target.size or "-",
                "metric": target.metric,
                "label": target.label,
                "op": target.op,
                "limit": target.limit,
                "value": value,
                "status": status,
            }
        )
    return rows


def build_results(
    machine: Mapping, sizes: Mapping[str, Mapping], startup: Mapping, command: Sequence[str], started: str
) -> dict:
    """The results document: machine, per-size figures (with their ratios), start-up figures, targets."""
    sizes = {name: {**figures, **size_ratios(figures)} for name, figures in sizes.items()}
    return {
        "schema": RESULTS_SCHEMA,
        "started_utc": started,
        "command": list(command),
        "machine": dict(machine),
        "sizes": sizes,
        **startup,
        "targets": evaluate_targets(sizes, startup),
    }


def missing_keys(document: Mapping) -> list[str]:
    """Required keys absent from a results document (top level, then `sizes.<name>.<key>`)."""
    missing = [key for key in REQUIRED_TOP_KEYS if key not in document]
    for name, figures in document.get("sizes", {}).items():
        missing += [f"sizes.{name}.{key}" for key in REQUIRED_SIZE_KEYS if key not in figures]
    if not document.get("sizes"):
        missing.append("sizes.<at least one size>")
    return missing


def results_file_name(sizes: Sequence[str], when: dt.datetime) -> str:
    return f"{'+'.join(sizes)}-{when.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"


def _fmt(value, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def format_table(sizes: Mapping[str, Mapping]) -> str:
    """The per-size table: times in seconds, ratios, peak memory of the backfill and its throughput."""
    columns = (
        ("size", lambda name, r: name),
        ("rows", lambda name, r: f"{r['rows']:,}"),
        ("anchor A s", lambda name, r: _fmt(r.get("anchor_a_s"), 2)),
        ("backfill s", lambda name, r: _fmt(r.get("project_backfill_s"), 1)),
        ("backfill/A", lambda name, r: _fmt(r.get("ratio_project_to_anchor_a"), 1, "x")),
        ("anchor B s", lambda name, r: _fmt(r.get("anchor_b_extrapolated_s"), 0)),
        ("B/backfill", lambda name, r: _fmt(r.get("ratio_anchor_b_to_project"), 1, "x")),
        ("daily s", lambda name, r: _fmt(r.get("daily_run_s"), 1)),
        ("dbt floor s", lambda name, r: _fmt(r.get("dbt_floor_s"), 1)),
        ("daily/dbt", lambda name, r: _fmt(r.get("ratio_daily_to_dbt_floor"), 2, "x")),
        ("peak MiB", lambda name, r: _fmt(r.get("project_peak_rss_mb"), 0)),
        ("rows/s", lambda name, r: _fmt(r.get("project_rows_per_s"), 0)),
        ("A rows/s", lambda name, r: _fmt(r.get("anchor_a_rows_per_s"), 0)),
    )
    body = [[header for header, _ in columns]]
    for name, result in sizes.items():
        figures = {**result, **size_ratios(result)}
        body.append([cell(name, figures) for _, cell in columns])
    widths = [max(len(row[i]) for row in body) for i in range(len(columns))]
    lines = ["  ".join(_align(row, widths)) for row in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _align(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    """The first cell left-aligned, the numbers right-aligned."""
    return [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]


def format_targets(rows: Sequence[Mapping]) -> str:
    lines = []
    for row in rows:
        value = "-" if row["value"] is None else f"{row['value']:,.2f}"
        lines.append(
            f"  {row['status']:<12} {row['size']:<5} {row['label']:<56} {value:>10} {row['op']} {row['limit']:g}"
        )
    return "\n".join(lines)


# --- measuring processes --------------------------------------------------------------------------------------


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


def stop_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop the process's group (it was started in its own session) the way `make stop-local` does."""
    local_stack.stop_group(process.pid, timeout=timeout)
    process.wait()


def run_measured(command: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path, timeout: float = 7200):
    """Run `command` to its end with its output in `log`: wall time and peak RSS of its whole process tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopped as a whole on Ctrl-C or timeout
        )
        sampler = TreeSampler(process.pid)
        sampler.start()
        try:
            returncode = process.wait(timeout=timeout)
        except BaseException:
            stop_group(process)
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


def say(message: str) -> None:
    print(message, flush=True)


# --- the machine ----------------------------------------------------------------------------------------------


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


# --- checks of the pipeline's output --------------------------------------------------------------------------


def warehouse_kpis(duckdb_path: Path, first: dt.date, end: dt.date) -> tuple[dict, dict]:
    """({day: kpis} of kpi_daily, {day: lines} of fct_sales_lines) for [first, end), read-only."""
    import duckdb

    from dagster_project import kpis

    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        table = kpis.daily_kpis(conn, first, end)
        lines = kpis.rows_per_day(conn, "fct_sales_lines", "sales_date", first, end)
    return table, lines


def verify_warehouse(duckdb_path: Path, expected: Mapping[str, Mapping], rows_per_day: int, what: str) -> None:
    """kpi_daily equals anchor A's KPIs on the expected days, and fct_sales_lines holds each day exactly once."""
    days = sorted(expected)
    first, end = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1]) + dt.timedelta(days=1)
    table, lines = warehouse_kpis(duckdb_path, first, end)
    problems = compare_kpis({day: table[day] for day in table if day in expected}, expected)
    problems += [
        f"fct_sales_lines has {lines.get(day, 0)} lines for {day}, expected {rows_per_day}"
        for day in days
        if lines.get(day, 0) != rows_per_day
    ]
    if problems:
        raise BenchFailure(f"{what}: the warehouse is wrong:\n  " + "\n  ".join(problems[:20]))


def verify_json(settings: Settings, expected: Mapping[str, Mapping], total: int, what: str) -> None:
    """Exactly `total` KPI objects in the bucket, and each expected day's object equals anchor A's KPIs."""
    client = sample_data.s3_client(settings)
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket, Prefix=KPIS_PREFIX + "/"):
        keys += [item["Key"] for item in page.get("Contents", [])]
    problems = []
    if len(keys) != total:
        problems.append(f"{len(keys)} objects under s3://{settings.s3_bucket}/{KPIS_PREFIX}/, expected {total}")

    def fetch(day: str) -> dict | None:
        try:
            body = client.get_object(Bucket=settings.s3_bucket, Key=f"{KPIS_PREFIX}/{day}.json")["Body"].read()
        except client.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = dict(zip(expected, pool.map(fetch, expected), strict=True))
    delivered = {day: document for day, document in documents.items() if document is not None}
    problems += compare_kpis(delivered, expected)
    problems += [f"{day}.json says date {doc.get('date')}" for day, doc in delivered.items() if doc.get("date") != day]
    if problems:
        raise BenchFailure(f"{what}: the JSON delivery is wrong:\n  " + "\n  ".join(problems[:20]))


def verify_runs(dagster_home: Path, expected_runs: int, what: str) -> None:
    """The bench's Dagster instance holds exactly `expected_runs` runs, all successful."""
    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
    failed = [run.run_id for run in runs if run.status != DagsterRunStatus.SUCCESS]
    if len(runs) != expected_runs or failed:
        raise BenchFailure(f"{what}: {len(runs)} run(s) in {dagster_home} (expected {expected_runs}), failed: {failed}")


# --- the bench ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", path / "dagster.yaml")
    return path


@dataclass
class Bench:
    work: Path
    endpoint: str
    repeats: int
    anchor_b_runs: int

    def anchor_a(self, env: Mapping, first: dt.date, days: int, name: str) -> tuple[Measured, dict]:
        out = self.work / "anchor_a" / f"{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(ANCHOR_A_SCRIPT), "--first", first.isoformat(), "--days", str(days)]
        measured = run_measured([*command, "--out", str(out)], env, PROJECT_ROOT, self.work / "logs" / f"{name}.log")
        check_ok(measured, f"anchor A ({name})")
        result = json.loads(out.read_text())
        if len(result) != days:
            raise BenchFailure(f"anchor A ({name}) returned {len(result)} days, expected {days}")
        return measured, result

    def size(self, size: Size) -> dict:
        tag = f"[{size.name}]"
        folder = self.work / size.name
        home = new_dagster_home(folder / "dagster_home")
        duckdb_path = folder / "warehouse.duckdb"
        bucket = f"bench-{size.name}"
        env = bench_env(os.environ, endpoint=self.endpoint, bucket=bucket, duckdb_path=duckdb_path, dagster_home=home)
        settings = settings_for(env)
        logs = self.work / "logs" / size.name
        result: dict = {
            "rows": size.rows,
            "days": size.days,
            "rows_per_day": size.rows_per_day,
            "first_day": size.first.isoformat(),
            "last_day": size.last.isoformat(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }

        say(f"{tag} generating {size.days} days x {size.rows_per_day:,} rows and uploading them to s3://{bucket}/")
        started = time.perf_counter()
        sample_data.upload(settings, size.first, size.days, size.rows_per_day)
        result["upload_s"] = time.perf_counter() - started

        # Anchor A: the cheap measurement, median of `repeats`; its KPIs are the reference for every check.
        anchors = [self.anchor_a(env, size.first, size.days, f"{size.name}-anchor_a-{i}") for i in range(self.repeats)]
        expected = anchors[0][1]
        for _, other in anchors[1:]:
            if problems := compare_kpis(other, expected, rel=1e-12):
                raise BenchFailure(f"{tag} anchor A is not reproducible: {problems[:3]}")
        if wrong := [day for day, kpis in expected.items() if kpis["order_lines"] != size.rows_per_day]:
            raise BenchFailure(f"{tag} anchor A counted the wrong number of lines on {wrong[:5]}")
        result["anchor_a_runs_s"] = [m.wall_s for m, _ in anchors]
        result["anchor_a_s"] = median(result["anchor_a_runs_s"])
        result["anchor_a_peak_rss_mb"] = max(m.peak_rss_mb for m, _ in anchors)
        result["anchor_a_rows_per_s"] = size.rows / result["anchor_a_s"]
        say(f"{tag} anchor A (one DuckDB query): {result['anchor_a_s']:.2f} s (median of {self.repeats})")

        # The project: one run for the whole range, through the real entry point.
        say(f"{tag} backfill {size.first}...{size.last} in one run (dagster asset materialize --partition-range)")
        command = project_run.materialize_command(size.first.isoformat(), size.last.isoformat())
        backfill = check_ok(run_measured(command, env, PROJECT_ROOT, logs / "backfill.log"), f"{tag} the backfill")
        verify_runs(home, 1, f"{tag} the backfill")
        verify_warehouse(duckdb_path, expected, size.rows_per_day, f"{tag} the backfill")
        verify_json(settings, expected, size.days, f"{tag} the backfill")
        result.update(
            project_backfill_s=backfill.wall_s,
            project_peak_rss_mb=backfill.peak_rss_mb,
            project_peak_processes=backfill.peak_processes,
            project_rows_per_s=size.rows / backfill.wall_s,
        )
        say(f"{tag} backfill: {backfill.wall_s:.1f} s, peak {backfill.peak_rss_mb:,.0f} MiB; output checked")

        # Anchor B: one run per partition, on days spread over the range, re-materialized on the loaded warehouse.
        b_days = spread_days(size.first, size.days, self.anchor_b_runs)
        say(f"{tag} anchor B: {len(b_days)} single-day runs, one process each")
        b_runs = []
        for day in b_days:
            measured = run_measured(single_partition_command(day), env, PROJECT_ROOT, logs / f"anchor_b-{day}.log")
            b_runs.append(check_ok(measured, f"{tag} anchor B run of {day}"))
        verify_runs(home, 1 + len(b_days), f"{tag} anchor B")
        verify_warehouse(duckdb_path, expected, size.rows_per_day, f"{tag} anchor B")
        verify_json(settings, expected, size.days, f"{tag} anchor B")
        mean_run = statistics.fmean(m.wall_s for m in b_runs)
        result.update(
            anchor_b_days=[day.isoformat() for day in b_days],
            anchor_b_runs_s=[m.wall_s for m in b_runs],
            anchor_b_mean_run_s=mean_run,
            anchor_b_extrapolated_s=mean_run * size.days,
            anchor_b_peak_rss_mb=max(m.peak_rss_mb for m in b_runs),
        )
        say(f"{tag} anchor B: {mean_run:.1f} s a run -> {mean_run * size.days:,.0f} s for {size.days} days")

        # The daily run: the day after the range lands, and that one partition is materialized.
        new_day = size.last + dt.timedelta(days=1)
        sample_data.upload(settings, new_day, 1, size.rows_per_day)
        _, new_expected = self.anchor_a(env, new_day, 1, f"{size.name}-check-{new_day}")
        say(f"{tag} daily run of {new_day} on top of the {size.days} days")
        daily = run_measured(single_partition_command(new_day), env, PROJECT_ROOT, logs / "daily.log")
        check_ok(daily, f"{tag} the daily run")
        verify_runs(home, 2 + len(b_days), f"{tag} the daily run")
        verify_warehouse(duckdb_path, {**expected, **new_expected}, size.rows_per_day, f"{tag} the daily run")
        verify_json(settings, {**expected, **new_expected}, size.days + 1, f"{tag} the daily run")
        result.update(daily_day=new_day.isoformat(), daily_run_s=daily.wall_s, daily_peak_rss_mb=daily.peak_rss_mb)
        say(f"{tag} daily run: {daily.wall_s:.1f} s")

        # dbt's floor: a bare `dbt build` of the same models for one more new day, as Dagster would invoke it.
        floor_day = new_day + dt.timedelta(days=1)
        sample_data.upload(settings, floor_day, 1, size.rows_per_day)
        _, floor_expected = self.anchor_a(env, floor_day, 1, f"{size.name}-check-{floor_day}")
        floor_target = folder / "dbt_floor_target"
        floor_target.mkdir(parents=True, exist_ok=True)
        # Dagster copies the prepared partial_parse.msgpack into each invocation's target folder: the same here.
        partial_parse = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
        if partial_parse.exists():
            shutil.copy(partial_parse, floor_target / partial_parse.name)
        floor_env = {**env, "DBT_TARGET_PATH": str(floor_target), "DBT_LOG_PATH": str(floor_target)}
        floor_command = [str(BIN_DIR / "dbt"), *dbt_args.build_args(floor_day, floor_day + dt.timedelta(days=1))]
        say(f"{tag} dbt floor: bare `dbt build` of {floor_day}")
        floor = run_measured(floor_command, floor_env, DBT_PROJECT_DIR, logs / "dbt_floor.log")
        check_ok(floor, f"{tag} the bare dbt build")
        verify_warehouse(
            duckdb_path, {**expected, **new_expected, **floor_expected}, size.rows_per_day, f"{tag} the dbt floor"
        )
        logs_text = [
            path.read_text(errors="replace") for path in (floor.log, floor_target / "dbt.log") if path.exists()
        ]
        result.update(
            dbt_floor_day=floor_day.isoformat(),
            dbt_floor_s=floor.wall_s,
            dbt_floor_peak_rss_mb=floor.peak_rss_mb,
            dbt_floor_full_reparse=any("Unable to do partial parsing" in text for text in logs_text),
        )
        say(f"{tag} dbt floor: {floor.wall_s:.1f} s")
        result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return result

    def startup(self) -> dict:
        """Code-location load (median of `repeats`, fresh interpreter each) and time until a local UI answers."""
        folder = self.work / "startup"
        home = new_dagster_home(folder / "dagster_home")
        env = bench_env(
            os.environ,
            endpoint=self.endpoint,
            bucket="bench-startup",
            duckdb_path=folder / "warehouse.duckdb",
            dagster_home=home,
        )
        manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
        manifest_mtime = manifest.stat().st_mtime_ns
        loads, walls = [], []
        for i in range(self.repeats):
            measured = run_measured(
                [sys.executable, "-c", LOAD_SCRIPT], env, PROJECT_ROOT, self.work / "logs" / f"code_location-{i}.log"
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
            f"({figures['code_location_process_s']:.2f} s whole process), median of {self.repeats}"
        )
        figures.update(self.ui(env, folder))
        say(
            f"[start-up] UI: /server_info answered after {figures['ui_ready_s']:.1f} s, "
            f"code location loaded after {figures['ui_location_loaded_s']:.1f} s"
        )
        return figures

    def ui(self, env: Mapping, folder: Path, timeout: float = 300) -> dict:
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
        log = self.work / "logs" / "webserver.log"
        with open(log, "wb") as out:
            started = time.perf_counter()
            process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            sampler = TreeSampler(process.pid)
            sampler.start()
            descendants: set[int] = set()
            try:
                ready = loaded = None
                while loaded is None:
                    if process.poll() is not None:
                        raise BenchFailure(f"the webserver exited with code {process.returncode}:\n{log_tail(log)}")
                    if time.perf_counter() - started > timeout:
                        raise BenchFailure(f"the UI was not ready within {timeout:.0f} s:\n{log_tail(log)}")
                    with contextlib.suppress(psutil.Error):
                        descendants |= {child.pid for child in psutil.Process(process.pid).children(recursive=True)}
                    if ready is None:
                        if answers_ok(f"{url}/server_info"):
                            ready = time.perf_counter() - started
                    elif ui_location_loaded(url):
                        loaded = time.perf_counter() - started
                    time.sleep(0.1)
            finally:
                sampler.stop()
                stop_group(process)
                leftovers = stop_leftovers(descendants)
        if leftovers:
            say(f"[start-up] warning: {len(leftovers)} webserver process(es) outlived its group: {leftovers}")
        return {
            "ui_ready_s": ready,
            "ui_location_loaded_s": loaded,
            "ui_peak_rss_mb": sampler.peak_bytes / MIB,
            "ui_leftover_processes": leftovers,
        }


def answers_ok(url: str) -> bool:
    """True when `url` answers HTTP 200 (the webserver's /server_info)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def ui_location_loaded(url: str) -> bool:
    """True when the webserver's workspace has its code location loaded; raises if it failed to load."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": UI_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            payload = json.loads(response.read())
    except (OSError, ValueError):
        return False
    entries = ((payload.get("data") or {}).get("workspaceOrError") or {}).get("locationEntries") or []
    for entry in entries:
        error = entry.get("locationOrLoadError") or {}
        if error.get("__typename") == "PythonError":
            raise BenchFailure(f"the UI could not load {entry.get('name')}: {error.get('message')}")
    return bool(entries) and all(entry.get("loadStatus") == "LOADED" for entry in entries)


def stop_leftovers(pids: set[int]) -> list[int]:
    """Kill any of `pids` still alive (a process that left the group); returns those that were."""
    alive = []
    for pid in sorted(pids):
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            process.kill()
            alive.append(pid)
        except psutil.Error:
            pass
    return alive


def settings_for(env: Mapping[str, str]) -> Settings:
    """The project's settings as a process with `env` reads them (settings.py is the one reader)."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def stale_dbt_sources(project_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """dbt sources (*.sql, *.yml) newer than the prepared manifest, as the Makefile's $(MANIFEST) rule sees them;
    [project_dir / "target/manifest.json"] when there is no manifest at all."""
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        return [manifest]
    built = manifest.stat().st_mtime
    generated = {project_dir / name for name in ("target", "logs", "dbt_packages")}
    return [
        path
        for pattern in ("*.sql", "*.yml")
        for path in project_dir.rglob(pattern)
        if not generated.intersection(path.parents) and path.stat().st_mtime > built
    ]


def preflight() -> None:
    for tool in ("dagster", "dagster-webserver", "dbt"):
        if not (BIN_DIR / tool).exists():
            raise BenchFailure(f"{BIN_DIR / tool} is missing: run the bench with the project's venv (make bench)")
    if stale := stale_dbt_sources():
        names = ", ".join(str(path.relative_to(PROJECT_ROOT)) for path in stale[:5])
        raise BenchFailure(f"the dbt manifest is missing or older than {names}: `make prepare` first")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small", help="small (default), year, 10m, or a comma-separated list")
    parser.add_argument("--anchor-b-runs", type=int, default=5, help="single-day runs for anchor B (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the cheap measurements (median; default 3)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write the JSON")
    parser.add_argument("--keep-work-dir", action="store_true", help="keep the temporary folder (logs, DuckDB)")
    args = parser.parse_args(argv)
    try:
        names = parse_sizes(args.size)
    except ValueError as error:
        parser.error(str(error))
    if args.anchor_b_runs < 1 or args.repeats < 1:
        parser.error("--anchor-b-runs and --repeats must be at least 1")

    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the processes the bench started are stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    started = dt.datetime.now(dt.UTC)
    work = Path(tempfile.mkdtemp(prefix="dagster-bench-"))
    endpoint = f"http://127.0.0.1:{free_port()}"
    say(f"bench {', '.join(names)}: work folder {work}, local S3 at {endpoint}")
    moto = None
    failed = True
    try:
        preflight()
        machine = machine_description()
        (work / "logs").mkdir(parents=True, exist_ok=True)
        moto = local_s3.start_server(endpoint, log_path=work / "logs" / "moto.log")
        bench = Bench(work=work, endpoint=endpoint, repeats=args.repeats, anchor_b_runs=args.anchor_b_runs)
        startup = bench.startup()
        sizes = {name: bench.size(SIZES[name]) for name in names}
        machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        document = build_results(machine, sizes, startup, [sys.executable, *sys.argv], started.isoformat())
        if missing := missing_keys(document):
            raise BenchFailure(f"the results lack {missing}")
        failed = False
    except BenchFailure as error:
        say(f"\nBENCH FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nBENCH INTERRUPTED: no results written")
        return 130
    finally:
        if failed:
            say(f"Logs and data kept in {work}")
        if moto is not None:
            moto.terminate()
            try:
                moto.wait(timeout=20)
            except subprocess.TimeoutExpired:
                moto.kill()
                moto.wait()
        if not failed and not args.keep_work_dir:
            shutil.rmtree(work, ignore_errors=True)

    say("")
    say(format_table(document["sizes"]))
    say("")
    say(
        f"code location chapter-2: {startup['code_location_load_s']:.2f} s import + Definitions, "
        f"{startup['code_location_process_s']:.2f} s whole process (median of {args.repeats}; "
        f"manifest untouched: {startup['code_location_manifest_untouched']})"
    )
    say(
        f"local UI: /server_info answered after {startup['ui_ready_s']:.1f} s, "
        f"code location loaded after {startup['ui_location_loaded_s']:.1f} s"
    )
    if "small" in names:
        say("(small is not a target size: its ratios are for information; the targets are for year and 10m)")
    say("\ntargets (issue #7):")
    say(format_targets(document["targets"]))
    if args.keep_work_dir:
        say(f"\nwork folder kept: {work}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / results_file_name(names, started)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
    say(str(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
