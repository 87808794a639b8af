"""What both delivery IO managers share: an output holds one value per day partition.

A delivery asset returns {YYYY-MM-DD: {name: value}}, for one day or for every day of a single-run backfill alike.
A day of the run missing from it is not stored (a quarantined day): what was stored for it before stays as it was.
An input receives the same shape: {YYYY-MM-DD: {name: value}} for the partitions the downstream asset reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import Failure, InputContext, OutputContext

DailyValues = dict[str, dict[str, Any]]

# Input metadata a downstream asset sets to receive only the stored days instead of failing on missing ones.
ALLOW_MISSING_PARTITIONS = "allow_missing_partitions"


def days_to_store(context: OutputContext, values: object) -> list[str]:
    """The days of `values`, checked against the output's partitions before anything is written."""
    asset = context.asset_key.to_user_string()
    if not context.has_asset_partitions:
        raise Failure(
            description=f"{asset} is not partitioned: this IO manager stores one value per day.", allow_retries=False
        )
    if not isinstance(values, Mapping) or not all(isinstance(day, str) for day in values):
        raise Failure(
            description=f"{asset} returned {type(values).__name__}: the IO manager expects "
            "{YYYY-MM-DD: {name: value}}, one entry per day partition to store.",
            allow_retries=False,
        )
    run_days = context.asset_partition_keys
    outside = sorted(set(values) - set(run_days))
    if outside:
        raise Failure(
            description=f"{asset} returned values for {', '.join(outside)}, outside the run's partitions "
            f"{run_days[0]}...{run_days[-1]}: nothing was stored.",
            allow_retries=False,
        )
    held_back = [day for day in run_days if day not in values]
    if held_back:
        context.log.info(
            f"{asset}: {len(held_back)} day(s) of the run not stored, what was stored for them stays: "
            f"{', '.join(held_back)}."
        )
    return sorted(values)


def days_to_load(context: InputContext) -> list[str]:
    if not context.has_asset_partitions:
        raise Failure(
            description=f"{context.asset_key.to_user_string()} is stored per day: read it from a daily-partitioned "
            "asset.",
            allow_retries=False,
        )
    return list(context.asset_partition_keys)


def complete(context: InputContext, loaded: DailyValues, where: str) -> DailyValues:
    """`loaded` in day order; a requested day with nothing stored fails with what to materialize.

    A downstream asset that prefers the stored days only sets `allow_missing_partitions` in its input's metadata.
    """
    requested = days_to_load(context)
    missing = [day for day in requested if day not in loaded]
    if missing and not context.definition_metadata.get(ALLOW_MISSING_PARTITIONS):
        asset = context.asset_key.to_user_string()
        raise Failure(
            description=f"{where} holds no {asset} for {', '.join(missing)}: materialize {asset} for these "
            f"partitions first (a quarantined day is never delivered), or set {ALLOW_MISSING_PARTITIONS} in the "
            "input's metadata to read only the stored days.",
            allow_retries=False,
        )
    return {day: loaded[day] for day in requested if day in loaded}
