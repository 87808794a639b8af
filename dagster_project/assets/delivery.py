"""Delivery of the daily KPIs (workshop assignments 5 and 6): JSON objects in S3 and rows in the warehouse.

Both are partitioned like the dbt models and part of the same single-run backfill.
"""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

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
from dagster_aws.s3 import S3Resource

from dagster_project import kpis, quarantine
from dagster_project.constants import DUCKDB_POOL, GROUP, KPIS_PREFIX
from dagster_project.partitions import daily_partitions
from dagster_project.resources import TRANSIENT_RETRIES, DuckDBWarehouse, PostgresWarehouse, s3_timeouts_fail
from dagster_project.settings import load_settings

KPI_DAILY = AssetKey("kpi_daily")

WAREHOUSE_DDL = """
create table if not exists kpi_daily (
    date date primary key,
    revenue double precision not null,
    units_sold bigint not null,
    average_sales_price double precision,
    order_lines bigint not null,
    profit double precision not null,
    profit_margin double precision,
    average_discount double precision,
    loaded_at timestamptz not null default now()
)
"""
WAREHOUSE_UPSERT = f"""
insert into kpi_daily (date, {", ".join(kpis.KPI_COLUMNS)}) values %s
on conflict (date) do update set
    {", ".join(f"{name} = excluded.{name}" for name in kpis.KPI_COLUMNS)},
    loaded_at = now()
"""


def _window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    window = context.partition_time_window
    return window.start.date(), window.end.date()


ALL_DAYS_DELIVERED = "all_days_delivered"
# What both deliveries share: downstream of kpi_daily, same partitions and single-run backfills as the dbt
# models (so one run covers a whole range), the DuckDB pool (they read the file) and retries for transient faults.
DELIVERY = {
    "deps": [KPI_DAILY],
    "partitions_def": daily_partitions,
    "backfill_policy": BackfillPolicy.single_run(),
    "group_name": GROUP,
    "pool": DUCKDB_POOL,
    "retry_policy": TRANSIENT_RETRIES,
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
    with duckdb.read_only() as conn:
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
    kinds={"s3", "json"},
    description=f"Each day's KPIs as one JSON object at s3://$S3_BUCKET/{KPIS_PREFIX}/YYYY-MM-DD.json.",
    check_specs=[_check_spec("kpis_json")],
)
def kpis_json(context: AssetExecutionContext, s3: S3Resource, duckdb: DuckDBWarehouse) -> MaterializeResult:
    rows, held_back = _window_kpis(context, duckdb)
    bucket = load_settings().s3_bucket
    client = s3.get_client()

    def put(day: str) -> str:
        key = f"{KPIS_PREFIX}/{day}.json"
        client.put_object(Bucket=bucket, Key=key, Body=kpis.kpi_json(day, rows[day]), ContentType="application/json")
        return f"s3://{bucket}/{key}"

    # Many small objects: write them concurrently rather than one round trip at a time.
    with s3_timeouts_fail(f"writing the KPI documents to s3://{bucket}/{KPIS_PREFIX}/"), ThreadPoolExecutor(8) as pool:
        uris = dict(zip(rows, pool.map(put, rows), strict=True))
    for day, uri in uris.items():
        context.add_asset_metadata(
            {"uri": MetadataValue.url(uri), "revenue": float(rows[day]["revenue"])}, partition_key=day
        )
    return MaterializeResult(metadata={"objects_written": len(uris)}, check_results=[_delivery_check(held_back)])


@asset(
    **DELIVERY,
    kinds={"postgres"},
    description="kpi_daily rows upserted into the Postgres table kpi_daily of WAREHOUSE_URL, one transaction a run.",
    check_specs=[_check_spec("kpis_warehouse")],
)
def kpis_warehouse(
    context: AssetExecutionContext, warehouse: PostgresWarehouse, duckdb: DuckDBWarehouse
) -> MaterializeResult:
    rows, held_back = _window_kpis(context, duckdb)
    if not warehouse.enabled:
        context.log.info("WAREHOUSE_URL is not set: kpi_daily in the DuckDB file is the warehouse.")
        return MaterializeResult(
            metadata={"warehouse": warehouse.describe(), "duckdb_path": MetadataValue.path(duckdb.path)},
            check_results=[_delivery_check(held_back)],
        )

    from psycopg2.extras import execute_values

    values = [(day, *(row[name] for name in kpis.KPI_COLUMNS)) for day, row in rows.items()]
    # Everything the step reports is rendered before the write: nothing can fail once the rows are committed.
    where = warehouse.describe()
    result = MaterializeResult(
        metadata={"warehouse": where, "rows_upserted": len(values)}, check_results=[_delivery_check(held_back)]
    )
    with warehouse.transaction() as cursor:
        cursor.execute(WAREHOUSE_DDL)
        if values:
            execute_values(cursor, WAREHOUSE_UPSERT, values)
    context.log.info(f"Upserted {len(values)} day(s) into kpi_daily at {where}.")
    return result
