"""One size of the bench: anchors A and A', the backfill on a SQLite and on a Postgres instance, anchor B, the
daily run and dbt's floor, in that order, on the same data, every output checked."""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.config import (
    BIN_DIR,
    BenchFailure,
    Size,
    bench_env,
    copy_partial_parse,
    new_dagster_home,
    say,
    settings_for,
    single_partition_command,
    spread_days,
)
from benchmarks.measure import Measured, check_ok, run_measured
from benchmarks.report import median
from benchmarks.verify import compare_kpis, verify_json, verify_runs, verify_warehouse
from dagster_project import dbt_args
from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tooling import run as project_run
from tooling import sample_data
from tooling.local_postgres import PostgresServer


@dataclass
class Bench:
    work: Path
    endpoint: str
    repeats: int
    anchor_b_runs: int
    postgres: PostgresServer | None = None  # None: the Postgres backfill is not measured

    def anchor(self, env: Mapping, first: dt.date, days: int, name: str, store: Path | None = None):
        """Anchor A (or A' with `store`, a new DuckDB file) as its own process: (measurement, {day: kpis})."""
        out = self.work / "anchors" / f"{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "benchmarks.anchors", "--first", first.isoformat(), "--days", str(days)]
        command += ["--out", str(out), *(["--store", str(store)] if store else [])]
        measured = run_measured(command, env, PROJECT_ROOT, self.work / "logs" / f"{name}.log")
        check_ok(measured, f"anchor ({name})")
        result = json.loads(out.read_text())
        if len(result) != days:
            raise BenchFailure(f"anchor ({name}) returned {len(result)} days, expected {days}")
        return measured, result

    def anchor_a(self, env: Mapping, first: dt.date, days: int, name: str) -> tuple[Measured, dict]:
        return self.anchor(env, first, days, name)

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

        # Anchor A': the same storage work as the design (fct_sales_lines, then kpi_daily in a DuckDB file), raw.
        stores = []
        for i in range(self.repeats):
            store = folder / f"anchor_a_store-{i}.duckdb"
            measured, kpis = self.anchor(env, size.first, size.days, f"{size.name}-anchor_a_store-{i}", store)
            store.unlink()
            if problems := compare_kpis(kpis, expected):
                raise BenchFailure(f"{tag} anchor A' disagrees with anchor A: {problems[:3]}")
            stores.append(measured)
        result["anchor_a_store_runs_s"] = [m.wall_s for m in stores]
        result["anchor_a_store_s"] = median(result["anchor_a_store_runs_s"])
        result["anchor_a_store_peak_rss_mb"] = max(m.peak_rss_mb for m in stores)
        say(f"{tag} anchor A' (lines + KPI table in a DuckDB file): {result['anchor_a_store_s']:.2f} s")

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
        result.update(self.backfill_postgres(size, expected, logs))

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
        copy_partial_parse(floor_target)
        floor_env = {**env, "DBT_TARGET_PATH": str(floor_target), "DBT_LOG_PATH": str(floor_target)}
        floor_env.update(settings.dbt_environment())  # as the project starts dbt (DBT_TARGET)
        # dbt reads only audited snapshots: audit the day first (not measured), as a bare `dbt build` user does.
        subprocess.run(
            [sys.executable, "-m", "tooling.audit", "--start", floor_day.isoformat(), "--days", "1"],
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        # The window as Dagster gives it (the environment, not --vars): the prepared partial parse stays valid.
        floor_env.update(dbt_args.window_env(floor_day, floor_day + dt.timedelta(days=1)))
        floor_command = [str(BIN_DIR / "dbt"), *dbt_args.build_args()]
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

    def backfill_postgres(self, size: Size, expected: Mapping, logs: Path) -> dict:
        """The same backfill on a Postgres-backed instance (own database, own DuckDB file, same bucket)."""
        tag = f"[{size.name}]"
        if self.postgres is None:
            say(f"{tag} backfill on a Postgres instance: NOT MEASURED (no PostgreSQL server binaries)")
            return {"project_backfill_postgres_s": None}
        folder = self.work / size.name / "postgres"
        url = self.postgres.create_database(f"bench_{size.name}")
        home = new_dagster_home(folder / "dagster_home", postgres_url=url)
        duckdb_path = folder / "warehouse.duckdb"
        env = bench_env(
            os.environ, endpoint=self.endpoint, bucket=f"bench-{size.name}", duckdb_path=duckdb_path, dagster_home=home
        )
        say(f"{tag} backfill on a Postgres-backed instance")
        command = project_run.materialize_command(size.first.isoformat(), size.last.isoformat())
        measured = run_measured(command, env, PROJECT_ROOT, logs / "backfill_postgres.log")
        check_ok(measured, f"{tag} the backfill on Postgres")
        verify_runs(home, 1, f"{tag} the backfill on Postgres")
        verify_warehouse(duckdb_path, expected, size.rows_per_day, f"{tag} the backfill on Postgres")
        verify_json(settings_for(env), expected, size.days, f"{tag} the backfill on Postgres")
        say(f"{tag} backfill on Postgres: {measured.wall_s:.1f} s, peak {measured.peak_rss_mb:,.0f} MiB")
        return {
            "project_backfill_postgres_s": measured.wall_s,
            "project_backfill_postgres_peak_rss_mb": measured.peak_rss_mb,
        }
