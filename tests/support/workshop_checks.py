"""What the checks of Chapter 2's assignments (tests/workshop/, `make check ASSIGNMENT=N`) share: runs of a few
days on generated batches, and a failed run's reason in one line, for a message an attendee can act on."""

from __future__ import annotations

import datetime as dt

from dagster import AssetKey, DagsterInstance, materialize

from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.resources import build_resources
from tooling import sample_data

ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]
START = dt.date(2023, 8, 2)
DAYS = ["2023-08-02", "2023-08-03"]
ROWS = 40  # sales lines a day: small, so each check takes seconds


def run_days(days: list[str], selection, assets=ASSETS, instance=None, run_config=None, resources=None):
    """One run of `selection` over days[0]...days[-1] (a single-run backfill, as the UI launches a range)."""
    return materialize(
        assets,
        selection=[AssetKey(key) if isinstance(key, str) else key for key in selection],
        resources=resources or build_resources(),
        instance=instance or DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
        run_config=run_config,
        raise_on_error=False,
    )


def batches(days: list[str] = DAYS, rows: int = ROWS, seed: int = 42) -> dict[str, str]:
    """{day: the CSV text of its generated batch}."""
    return {day: sample_data.batch_csv(dt.date.fromisoformat(day), rows, seed) for day in days}


def why_it_failed(result) -> str:
    """The failed step's reason in one line: a Failure's description, else the innermost error (what the code
    raised, not Dagster's wrapping of it); '' when no step failed."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.step_failure_data
            error = data.error
            while error is not None and error.cause is not None:
                error = error.cause
            text = (data.user_failure_data.description if data.user_failure_data else None) or (
                error.message if error is not None else "no reason given"
            )
            return f"{event.step_key} failed: {' '.join(text.split())[:400]}"
    return ""


def materialized(instance, key: str) -> int:
    """How many materializations of `key` the instance holds."""
    return len(instance.fetch_materializations(AssetKey(key), limit=1000).records)
