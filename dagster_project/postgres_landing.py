"""The raw landing of approved batches into the Postgres warehouse, for the dbt target that cannot read S3 itself
(DBT_TARGET=postgres; DuckDB reads the Parquet snapshots straight from S3).

Write-audit-publish holds as on DuckDB (docs/reliability.md): the rows landed for a day are exactly those of the
snapshot the audit approved and published (read back from S3), each tagged with that snapshot's URI, and the day's
verdict is recorded in main.batch_audit IN THE SAME TRANSACTION: an approved day's old rows are deleted and its
snapshot copied in (COPY), a quarantined day's rows are left as they were, and a failure anywhere rolls back the
verdicts and the rows together. dbt then reads only the rows of the snapshots batch_audit lists
(macros/daily_batches.sql).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb

from dagster_project import quarantine
from dagster_project.batch_audit import EXPECTED_COLUMNS, BatchAudit
from dagster_project.settings import POSTGRES_SCHEMA

RAW_TABLE = f"{POSTGRES_SCHEMA}.daily_batches"
# The snapshot's columns and types (batch_scan.py writes them), the day, and the snapshot it came from.
_TYPES = {"Quantity": "integer", **dict.fromkeys(("Sales", "Discount", "Profit"), "double precision")}
RAW_COLUMNS = {"batch_date": "date not null", **{name: _TYPES.get(name, "varchar") for name in EXPECTED_COLUMNS}}
RAW_COLUMNS["filename"] = "varchar not null"
_COLUMN_LIST = ", ".join(f'"{name}"' for name in RAW_COLUMNS)
# Runs landing at once (runs of different days) would race to create the schema and tables: DDL under one lock.
_DDL_LOCK = 16_016


def ddl() -> list[str]:
    columns = ", ".join(f'"{name}" {kind}' for name, kind in RAW_COLUMNS.items())
    return [
        f"select pg_advisory_xact_lock({_DDL_LOCK})",
        f"create schema if not exists {POSTGRES_SCHEMA}",
        f"create table if not exists {RAW_TABLE} ({columns})",
        f"create index if not exists daily_batches_batch_date on {RAW_TABLE} (batch_date)",
    ]


def delete_day_sql() -> str:
    return f"delete from {RAW_TABLE} where batch_date = %s"


def copy_sql() -> str:
    return f"copy {RAW_TABLE} ({_COLUMN_LIST}) from stdin with (format csv, header true)"


def record_and_land(warehouse, client, audits: list[BatchAudit]) -> dict[str, int]:
    """The tables made sure of (one short transaction, under a lock), then the verdicts and the approved days'
    rows in ONE transaction of `warehouse` (resources.PostgresWarehouse). {day: rows landed}."""
    from dagster_project.resources import QmarkCursor

    with warehouse.transaction() as cursor:
        for statement in ddl():
            cursor.execute(statement)
        quarantine.create_table(QmarkCursor(cursor))
    with warehouse.transaction() as cursor:
        quarantine.upsert_verdicts(QmarkCursor(cursor), audits)
        return land(cursor, client, audits)


def land(cursor, client, audits: Iterable[BatchAudit]) -> dict[str, int]:
    """In the caller's transaction: every approved day's rows replaced by its snapshot's. {day: rows landed}."""
    landed = {}
    with tempfile.TemporaryDirectory(prefix="landing-") as folder:
        for audit in audits:
            if not audit.ok:
                continue  # quarantined: what was landed for the day before stays as it was
            csv_path = _snapshot_as_csv(client, audit, Path(folder))
            cursor.execute(delete_day_sql(), [audit.day])
            with csv_path.open("rb") as rows:
                cursor.copy_expert(copy_sql(), rows)
            landed[audit.day] = cursor.rowcount
    return landed


def _snapshot_as_csv(client, audit: BatchAudit, folder: Path) -> Path:
    """The published snapshot of the day, read back from S3, as CSV in the raw table's column order."""
    bucket, _, key = audit.snapshot_uri.removeprefix("s3://").partition("/")
    parquet = folder / f"{audit.day}.parquet"
    body = quarantine.s3_call(audit.snapshot_uri, client.get_object, Bucket=bucket, Key=key)
    if body is None:
        raise RuntimeError(f"{audit.day}: the snapshot {audit.snapshot_uri} just published is gone from S3")
    with parquet.open("wb") as out:
        for chunk in body["Body"].iter_chunks(1024 * 1024):
            out.write(chunk)
    csv_path = folder / f"{audit.day}.csv"
    columns = ", ".join(f'"{name}"' for name in EXPECTED_COLUMNS)
    with duckdb.connect(":memory:") as conn:
        # DuckDB writes doubles in their shortest exact form, and Postgres reads them back to the same bits.
        conn.execute(
            f"copy (select cast(? as date) as batch_date, {columns}, ? as filename from read_parquet(?)) "
            f"to '{_quoted_path(csv_path)}' (format csv, header true)",
            [audit.day, audit.snapshot_uri, str(parquet)],
        )
    return csv_path


def _quoted_path(path: Path) -> str:
    return str(path).replace("'", "''")
