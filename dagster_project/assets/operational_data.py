"""`operational_data` (assignments 1 and 3): the retailer's daily batches, audited and snapshotted, one partition a
day. Everything downstream (the dbt source, so every model) reads only the snapshots this asset approved.

Write-audit-publish per day (docs/reliability.md): each day's `stock.csv` is streamed once and audited; an approved
day gets an immutable Parquet snapshot of exactly the rows loaded, and every verdict is recorded in main.batch_audit.
A quarantined day is materialized with the metadata `quarantined` (the problem and the fix) and no `num_records`:
the rest of the window goes on, and downstream never delivers that day. With DBT_TARGET=postgres the warehouse
cannot read S3: the approved snapshots are landed into its raw table with the verdicts (postgres_landing.py).
"""

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field, field_validator

from dagster_project import postgres_landing, quarantine
from dagster_project.batch_audit import BatchAudit
from dagster_project.batch_sources import KINDS, validate_source_data_path
from dagster_project.constants import BATCH_FILE_NAME, GROUP, SNAPSHOTS_PREFIX
from dagster_project.partitions import daily_partitions, run_window
from dagster_project.resources import (
    TRANSIENT_RETRIES,
    DuckDBWarehouse,
    RetailerS3Resource,
    s3_timeouts_fail,
    warehouse_pool,
)


# >>> workshop 3 (stub: tooling/workshop_stubs/3_config.stub)
class OperationalDataConfig(Config):
    """Assignment 3, a configurable integration: read this run's batches from another place."""

    source_data_path: str | None = Field(
        default=None,
        description=f"{KINDS}; empty: s3://$S3_BUCKET/$OPERATIONAL_DATA_PREFIX",
    )

    @field_validator("source_data_path")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        if not (value and value.strip()):
            return None
        try:
            return validate_source_data_path(value)
        except ValueError as error:  # a wrong path is no transient fault: no step retry
            raise Failure(description=str(error), allow_retries=False) from error


# <<< workshop 3


@asset(
    partitions_def=daily_partitions,
    # A backfill of any range is one run: the window's batches are fetched and audited in parallel.
    backfill_policy=BackfillPolicy.single_run(),
    group_name=GROUP,
    pool=warehouse_pool(),  # writes main.batch_audit into the DuckDB file (no pool on Postgres)
    retry_policy=TRANSIENT_RETRIES,
    kinds={"s3", "csv", "parquet"},
    description=(
        f"The retailer's daily batch (YYYY-MM-DD/{BATCH_FILE_NAME}, from source_data_path or "
        f"s3://$S3_BUCKET/$OPERATIONAL_DATA_PREFIX), audited; an approved day is kept as an immutable Parquet "
        f"snapshot at s3://$S3_BUCKET/{SNAPSHOTS_PREFIX}/operational_data/YYYY-MM-DD/<sha256>.parquet, which is "
        "all dbt reads (on Postgres, DBT_TARGET=postgres, landed into main.daily_batches first). Metadata per day: "
        "num_records, source_uri, sha256."
    ),
)
def operational_data(
    context: AssetExecutionContext, config: OperationalDataConfig, duckdb: DuckDBWarehouse, s3: RetailerS3Resource
) -> MaterializeResult:
    run_window(context)  # a reversed or empty range stops here
    # >>> workshop 3 (stub: tooling/workshop_stubs/3_source.stub)
    source = config.source_data_path or s3.source_uri
    # <<< workshop 3
    try:
        validate_source_data_path(source)
    except ValueError as error:  # S3_BUCKET / OPERATIONAL_DATA_PREFIX from the environment
        raise Failure(
            description=f"{error} (check S3_BUCKET and OPERATIONAL_DATA_PREFIX)", allow_retries=False
        ) from error
    days = list(context.partition_keys)
    with s3_timeouts_fail("auditing the window's batches", s3):
        audits = quarantine.fetch_and_audit(
            s3.get_client(), s3.bucket, s3.max_batch_bytes, source, days, read_timeout=s3.read_timeout
        )
    if duckdb.postgres is None:
        with duckdb.writer() as conn:
            quarantine.record(conn, audits)
    else:  # Postgres cannot read S3: the approved days land in its raw table, with the verdicts, atomically
        with s3_timeouts_fail("landing the approved snapshots in Postgres", s3):
            landed = postgres_landing.record_and_land(duckdb.postgres, s3.get_client(), audits)
        context.log.info(f"Landed {sum(landed.values())} rows of {len(landed)} day(s) in {postgres_landing.RAW_TABLE}.")
    # >>> workshop 1 (stub: tooling/workshop_stubs/1_attach_metadata.stub)
    for audit in audits:
        context.add_asset_metadata(_day_metadata(audit), partition_key=audit.day)
    # <<< workshop 1
    bad = [audit for audit in audits if not audit.ok]
    for audit in bad:
        context.log.error(audit.message())
    if len(bad) == len(audits):
        raise Failure(
            description="Every batch of the window failed its audit; nothing was loaded or delivered.\n"
            + "\n".join(audit.message() for audit in bad),
            metadata={"quarantined_days": [audit.day for audit in bad]},
            allow_retries=False,  # a data problem: retrying cannot fix it
        )
    for audit in audits:
        if audit.ok and audit.duplicate_lines:
            context.log.info(f"{audit.day}: {audit.duplicate_lines} duplicated line(s) kept (see batch_audit.py)")
    approved = len(audits) - len(bad)
    context.log.info(f"{approved} day(s) approved from {source}; dbt reads only their snapshots.")
    return MaterializeResult()  # the metadata is per day, above


def _day_metadata(audit: BatchAudit) -> dict:
    """What the UI shows for the day: the records loaded, where they came from and the checksum of those bytes."""
    source = MetadataValue.url(audit.uri) if "://" in audit.uri else MetadataValue.path(audit.uri)
    metadata = {"source_uri": source}
    if audit.sha256:  # none when the file is missing or refused before it was read
        metadata["sha256"] = MetadataValue.text(audit.sha256)
    if not audit.ok:
        return {**metadata, "quarantined": MetadataValue.text(audit.message())}
    # >>> workshop 1 (stub: tooling/workshop_stubs/1_day_metadata.stub)
    return {
        **metadata,
        "num_records": MetadataValue.int(audit.lines),
        "snapshot_uri": MetadataValue.url(audit.snapshot_uri),
        "duplicate_lines": MetadataValue.int(audit.duplicate_lines),
    }
    # <<< workshop 1
