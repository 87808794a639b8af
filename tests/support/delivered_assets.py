"""Assets of the deliveries' shape, to test an IO manager alone: one that returns given values for the run's days,
and a downstream one that keeps what the IO manager loaded for it."""

from dagster import AssetIn, BackfillPolicy, MaterializeResult, asset

from dagster_project.io_managers import ALLOW_MISSING_PARTITIONS
from dagster_project.partitions import daily_partitions


def delivered_asset(io_manager_key: str, values: dict):
    """An asset of the deliveries' shape (daily, single-run backfills) returning `values` for the run's days."""

    @asset(
        name="delivered",
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        io_manager_key=io_manager_key,
        dagster_type=dict,
    )
    def delivered(context):
        return {day: row for day, row in values.items() if day in context.partition_keys}

    return delivered


def reader_asset(received: list, allow_missing: bool = False):
    """A downstream asset that keeps what its IO manager loaded for it."""

    @asset(
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        ins={"delivered": AssetIn(metadata={ALLOW_MISSING_PARTITIONS: allow_missing})},
    )
    def reader(delivered: dict) -> MaterializeResult:
        received.append(delivered)
        return MaterializeResult()

    return reader
