"""Partitions: one asset, one slice of data per day, each materialized and tracked on its own.

``stock/daily_stock_file`` has a partition per day from 2023-08-02 to 2023-09-09. Materializing a partition reads
that day's stock file (generated on first use, see ``ensure_stock_file``) and records its row count
as metadata, so the asset's page plots the row count per day.
"""

import datetime as dt

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from chapter_1.data_dir import LocalDataDir, ensure_stock_file, read_stock_rows

# The 39 days of the workshop's data. A bounded range keeps every day in the UI's partition picker, which
# otherwise lists only the latest partitions of an open range (up to today).
daily_partitions = DailyPartitionsDefinition(start_date="2023-08-02", end_date="2023-09-10")


@asset(
    key_prefix="stock",
    group_name="partitions",
    partitions_def=daily_partitions,
    # single_run: a backfill of N days runs once over the whole range instead of launching N runs.
    # It is also what `dagster asset materialize --partition-range` requires.
    backfill_policy=BackfillPolicy.single_run(),
    kinds={"csv"},
)
def daily_stock_file(context: AssetExecutionContext, data_dir: LocalDataDir) -> MaterializeResult:
    """Row count of each selected day's stock file (one day, or a whole range during a backfill)."""
    folder = data_dir.folder("stock_files")
    rows_per_day: dict[str, int] = {}
    # partition_keys holds one key for a normal run, every key of the range for a single-run backfill.
    for key in context.partition_keys:
        path = ensure_stock_file(folder, dt.date.fromisoformat(key))
        rows_per_day[key] = len(read_stock_rows(path))
        context.log.info(f"{key}: {rows_per_day[key]} rows in {path}")
    table_lines = ["| day | rows |", "| --- | ---: |"] + [f"| {k} | {n} |" for k, n in rows_per_day.items()]
    return MaterializeResult(
        metadata={
            # For a single partition this is that day's count; for a range, the range's total.
            "row_count": sum(rows_per_day.values()),
            "partition_count": len(rows_per_day),
            "rows_per_day": MetadataValue.md("\n".join(table_lines)),
            "folder": MetadataValue.path(str(folder)),
        }
    )
