"""`make run`: the main job in one command, on embedded defaults (no Docker).

Starts the local S3 emulator if nothing answers, uploads the sample batches it lacks, materializes every
Chapter 2 asset for the window (by default the 39 days up to the latest partition, yesterday) in ONE run through
the real entry point (`dagster asset materialize --partition-range`), then prints the KPI table and where each
output is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from dagster_project import kpis, quarantine
from dagster_project.constants import KPIS_PREFIX
from dagster_project.private_files import owner_only_umask, private_dir
from dagster_project.resources import dbt_tables
from dagster_project.settings import PROJECT_ROOT, dagster_home, load_settings
from tooling import local_stack, sample_data

_DBT_NODE = re.compile(r"^\s*(\d+) of (\d+) ")
_EVENT = re.compile(r" - (STEP_START|STEP_SUCCESS|STEP_FAILURE|ASSET_MATERIALIZATION|RUN_SUCCESS|RUN_FAILURE) - ")


def materialize_command(first: str, last: str) -> list[str]:
    dagster = str(Path(sys.executable).parent / "dagster")
    return [
        dagster,
        "asset",
        "materialize",
        "-m",
        "dagster_project.definitions",
        "--select",
        "group:retailer_kpis",
        "--partition-range",
        f"{first}...{last}",
    ]


class Progress:
    """One status line, rewritten in place: elapsed time, current step, dbt nodes, materializations."""

    def __init__(self, partitions: int, stream=sys.stdout):
        self.started = time.monotonic()
        self.partitions = partitions
        self.step = "starting Dagster"
        self.dbt = ""
        self.materialized = 0
        self.stream = stream
        self.interactive = stream.isatty()

    def feed(self, line: str) -> None:
        if match := _DBT_NODE.match(line):
            self.dbt = f"dbt {match.group(1)}/{match.group(2)}"
        elif match := _EVENT.search(line):
            event = match.group(1)
            if event == "STEP_START":
                self.step = line.split(' step "')[-1].split('"')[0] if ' step "' in line else self.step
                self.dbt = ""
                if not self.interactive:
                    self.stream.write(f"  {self.step}...\n")
            elif event == "ASSET_MATERIALIZATION":
                self.materialized += 1
        self.render()

    def render(self) -> None:
        if not self.interactive:
            return
        elapsed = time.monotonic() - self.started
        parts = [f"{elapsed:5.1f}s", self.step, self.dbt, f"{self.materialized} asset partitions materialized"]
        self.stream.write("\r\033[K" + " | ".join(p for p in parts if p))
        self.stream.flush()

    def done(self) -> None:
        if self.interactive:
            self.stream.write("\n")


def log_file() -> Path:
    return dagster_home() / "last_run.log"


def materialize(first: str, last: str, days: int) -> float:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home())}
    private_dir(dagster_home(), existing_too=True)
    progress = Progress(days)
    started = time.monotonic()
    with open(log_file(), "w") as log:
        process = subprocess.Popen(
            materialize_command(first, last),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in process.stdout:
            log.write(line)
            progress.feed(line)
        returncode = process.wait()
    progress.done()
    if returncode != 0:
        tail = log_file().read_text().splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"\nThe run failed (exit code {returncode}). Full log: {log_file()}")
    return time.monotonic() - started


def print_report(first: dt.date, end: dt.date, elapsed: float) -> None:
    settings = load_settings()
    with dbt_tables(settings).reader() as conn:  # the DuckDB file, or Postgres with DBT_TARGET=postgres
        table = kpis.daily_kpis(conn, first, end)
        held_back = quarantine.quarantined(conn, first, end)
    header = f"{'date':<10} {'revenue':>12} {'units':>7} {'avg price':>10} {'lines':>6} {'profit':>11} {'margin':>7}"
    print(header)
    print("-" * len(header))
    for day, row in table.items():
        print(
            f"{day:<10} {row['revenue']:>12,.2f} {row['units_sold']:>7,} {row['average_sales_price']:>10.2f} "
            f"{row['order_lines']:>6} {row['profit']:>11,.2f} {row['profit_margin']:>7.1%}"
        )
    total_revenue = sum(row["revenue"] for row in table.values())
    total_units = sum(row["units_sold"] for row in table.values())
    print("-" * len(header))
    print(f"{len(table)} days, revenue {total_revenue:,.2f}, units sold {total_units:,} ({elapsed:.1f} s)\n")
    if held_back:
        print(f"{len(held_back)} day(s) quarantined, not delivered (their previous KPIs, if any, are kept):")
        for message in held_back.values():
            print(f"  {message}")
        print()
    warehouse = "Postgres table kpi_daily (WAREHOUSE_URL)" if settings.warehouse_url else "the DuckDB file above"
    print("Outputs:")
    models = "tables kpi_daily, kpi_daily_breakdown, fct_sales_lines"
    if settings.on_postgres:
        print(f"  dbt's tables       schema main of WAREHOUSE_URL (DBT_TARGET=postgres; {models})")
    else:
        print(f"  DuckDB warehouse   {settings.duckdb_path} ({models})")
    print(f"  KPIs as JSON       s3://{settings.s3_bucket}/{KPIS_PREFIX}/YYYY-MM-DD.json ({len(table)} objects)")
    print(f"  Warehouse          {warehouse}")
    print(f"  Dagster run        {dagster_home()} (see it in the UI: make start-local)")
    print(f"  Run log            {log_file()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--start", type=dt.date.fromisoformat, help="first day (default: the --days days up to the latest partition)"
    )
    parser.add_argument(
        "--days", type=int, default=sample_data.SAMPLE_DAYS, help="consecutive days (default %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error(f"--days must be at least 1, got {args.days}")
    owner_only_umask()  # the instance, the DuckDB file and the run log: their owner's only
    start = args.start or sample_data.latest_days(args.days)[0]
    end = start + dt.timedelta(days=args.days)
    last = end - dt.timedelta(days=1)

    print(f"Local S3 and sample data for {start} .. {last}")
    local_stack.prepare_data(start, args.days)
    print(f"Materializing every Chapter 2 asset for {args.days} days in one run")
    elapsed = materialize(start.isoformat(), last.isoformat(), args.days)
    print_report(start, end, elapsed)


if __name__ == "__main__":
    main()
