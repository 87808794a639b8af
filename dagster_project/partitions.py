"""The one partitioning of Chapter 2: a day per batch, from the first batch of the sample data."""

import datetime as dt

from dagster import AssetExecutionContext, DailyPartitionsDefinition, Failure

from dagster_project.constants import FIRST_PARTITION

daily_partitions = DailyPartitionsDefinition(start_date=FIRST_PARTITION)


def run_window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """[start, end) of the run's partitions; an empty or reversed range stops here, before S3, DuckDB or dbt."""
    tags = context.run.tags
    first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if first and last and last < first:
        raise Failure(
            description=f"The partition range {first}...{last} is reversed: its end is before its start. "
            f"Launch it again as {last}...{first}.",
            allow_retries=False,
        )
    keys = context.partition_keys
    if not keys:
        raise Failure(
            description=f"The partition range {first}...{last} holds no day: pick days of the daily partitions "
            "(from the first partition to yesterday).",
            allow_retries=False,
        )
    window = context.partition_time_window
    return window.start.date(), window.end.date()
