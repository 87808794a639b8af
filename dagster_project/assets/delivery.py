"""Delivery of the daily KPIs (workshop assignments 5 and 6): JSON objects in S3 and rows in the warehouse.

Both are partitioned like the dbt models and part of the same single-run backfill. They only return the
window's KPIs; where they are stored is the business of their IO managers (dagster_project/io_managers/).
"""

import datetime as dt

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from dagster_project import kpis, quarantine
from dagster_project.constants import GROUP, KPIS_PREFIX
from dagster_project.partitions import daily_partitions
from dagster_project.resources import TRANSIENT_RETRIES, DuckDBWarehouse, warehouse_pool

KPI_DAILY = AssetKey("kpi_daily")


def _window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    window = context.partition_time_window
    return window.start.date(), window.end.date()


ALL_DAYS_DELIVERED = "all_days_delivered"
# What both deliveries share: downstream of kpi_daily, same partitions and single-run backfills as the dbt
# models (so one run covers a whole range), the DuckDB pool (they read the file; none on Postgres) and retries
# for transient faults.
DELIVERY = {
    "deps": [KPI_DAILY],
    # >>> workshop 4 (stub: tooling/workshop_stubs/4_delivery_partitions.stub)
    "partitions_def": daily_partitions,
    "backfill_policy": BackfillPolicy.single_run(),
    # <<< workshop 4
    "group_name": GROUP,
    "pool": warehouse_pool(),
    "retry_policy": TRANSIENT_RETRIES,
    # The value returned, {YYYY-MM-DD: {kpi: value}}, goes to the asset's IO manager.
    "dagster_type": dict,
}


def _check_spec(asset_name: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        ALL_DAYS_DELIVERED,
        asset=asset_name,
        description="Every day of the run was delivered: none was held back because its batch failed the audit.",
    )


def _window_kpis(context: AssetExecutionContext, duckdb: DuckDBWarehouse) -> tuple[dict[str, dict], dict[str, str]]:
    """(kpi_daily rows to deliver, {quarantined day: why}) for the run's partitions.

    A quarantined day is not delivered: what was delivered for it before stays exactly as it was.
    Any other day must have its kpi_daily row.
    """
    start, end = _window(context)
    with duckdb.reader() as conn:
        held_back = quarantine.quarantined(conn, start, end)
        rows = {day: row for day, row in kpis.daily_kpis(conn, start, end).items() if day not in held_back}
    missing = [day for day in context.partition_keys if day not in rows and day not in held_back]
    if missing:
        raise Failure(
            description=(
                f"kpi_daily has no row for {', '.join(missing)}: materialize kpi_daily for these partitions "
                "first (or the whole retailer_kpis group)."
            )
        )
    for day, message in held_back.items():
        context.add_asset_metadata({"quarantined": message}, partition_key=day)
    return rows, held_back


def _delivery_check(held_back: dict[str, str]) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=ALL_DAYS_DELIVERED,
        passed=not held_back,
        severity=AssetCheckSeverity.ERROR,
        description="\n".join(held_back.values()) or None,
        metadata={"quarantined_days": MetadataValue.json(sorted(held_back))},
    )


@asset(
    **DELIVERY,
    io_manager_key="s3_json_io_manager",
    kinds={"s3", "json"},
    description=f"Each day's KPIs as one JSON object at s3://$S3_BUCKET/{KPIS_PREFIX}/YYYY-MM-DD.json.",
    check_specs=[_check_spec("kpis_json")],
)
def kpis_json(context: AssetExecutionContext, duckdb: DuckDBWarehouse) -> MaterializeResult:
    """The window's KPIs, {YYYY-MM-DD: {kpi: value}}: the S3 JSON IO manager writes one document per day."""
    rows, held_back = _window_kpis(context, duckdb)
    for day, row in rows.items():
        context.add_asset_metadata({"revenue": kpis.for_people("revenue", row["revenue"])}, partition_key=day)
    return MaterializeResult(value=rows, check_results=[_delivery_check(held_back)])


@asset(
    **DELIVERY,
    io_manager_key="postgres_time_series_io_manager",
    kinds={"postgres"},
    description="kpi_daily rows upserted into the Postgres table kpi_daily of WAREHOUSE_URL, one transaction a run.",
    check_specs=[_check_spec("kpis_warehouse")],
)
def kpis_warehouse(context: AssetExecutionContext, duckdb: DuckDBWarehouse) -> MaterializeResult:
    """The window's KPIs, {YYYY-MM-DD: {kpi: value}}: the Postgres time-series IO manager upserts them."""
    rows, held_back = _window_kpis(context, duckdb)
    return MaterializeResult(value=rows, check_results=[_delivery_check(held_back)])
