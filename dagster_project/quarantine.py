"""Fetch and audit the window's batches (from S3, http(s) or a folder: batch_sources.py), publish what was approved,
and record the verdicts.

The audit itself is batch_audit.py. Here: reads in parallel, streamed to local files (memory does not grow with
a batch), with transient faults retried by the client and permanent ones (access denied, no such bucket) stopped
at once with a clear message; the approved snapshots uploaded to
s3://$S3_BUCKET/snapshots/operational_data/YYYY-MM-DD/<sha256>.parquet, the only files dbt reads; and the table
`main.batch_audit` (one row per day, the latest verdict, with its checksum and snapshot) that dbt reads the
snapshots' keys from and delivery reads to skip quarantined days.
(`python -m tooling.audit` runs the same audit outside Dagster, before a bare `dbt build`.)
"""

from __future__ import annotations

import datetime as dt
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from dagster import Failure

from dagster_project import batch_audit, batch_scan
from dagster_project.batch_audit import BatchAudit, missing, too_large
from dagster_project.batch_sources import BatchSource, open_source
from dagster_project.constants import OPERATIONAL_DATA_PREFIX, SNAPSHOTS_PREFIX
from dagster_project.dbt_args import validate_source_uri
from dagster_project.settings import DEFAULT_TIMEOUTS

_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
PARALLEL_TRANSFERS = 8
# How long an http(s) source may stay silent; operational_data passes S3_READ_TIMEOUT from its S3 resource.
HTTP_TIMEOUT = DEFAULT_TIMEOUTS["S3_READ_TIMEOUT"]

AUDIT_DDL = """
create table if not exists main.batch_audit (
    date date primary key,
    s3_uri varchar not null,
    status varchar not null,
    lines integer not null,
    duplicate_lines integer not null,
    problems varchar,
    audited_at timestamp not null default current_timestamp
)
"""
# Columns added since the first version of the table: a warehouse file from before gets them on the next audit.
AUDIT_COLUMNS_ADDED = {"bytes": "bigint", "sha256": "varchar", "snapshot_uri": "varchar"}


def snapshot_key(day: str, sha256: str) -> str:
    """Immutable: a new or corrected batch has another checksum, so another key; nothing is ever overwritten."""
    return f"{SNAPSHOTS_PREFIX}/{OPERATIONAL_DATA_PREFIX}/{day}/{sha256}.parquet"


def fetch_and_audit(
    client, bucket: str, max_batch_bytes: int, source_path: str, days: list[str], read_timeout: int = HTTP_TIMEOUT
) -> list[BatchAudit]:
    """The audit of each day's <source_path>/<day>/stock.csv, in day order; each approved day gets its snapshot
    under s3://<bucket>/snapshots/ (S3_BUCKET); a batch over `max_batch_bytes` (MAX_BATCH_BYTES) is refused.

    `source_path` is an s3://bucket/prefix (read with `client`), an http(s) base URL or a local folder
    (batch_sources.py); the audit is the same whatever the source, and the snapshots always go to S3_BUCKET.
    Each file is streamed once to a local file while the whole-file checks run (size, sha256, gzip, UTF-8), then
    its header is read; the line checks of every file that passed run in ONE DuckDB scan, and the approved files
    are written as Parquet by the same reader in one more pass, then uploaded. A year of batches is audited in
    seconds; a batch of any size within MAX_BATCH_BYTES in bounded memory.
    """
    source = open_source(source_path, client, s3_call, read_timeout)
    validate_source_uri(f"s3://{bucket}/{SNAPSHOTS_PREFIX}")  # where the snapshots go: S3_BUCKET
    with tempfile.TemporaryDirectory(prefix="batch-audit-") as folder:

        def fetch(day: str) -> BatchAudit:
            dt.date.fromisoformat(day)  # partition keys become S3 keys and paths: only real dates
            audit = _stream(source, day, Path(folder, f"{day}.csv"), max_batch_bytes)
            if audit.ok:
                batch_audit.check_header(audit, Path(folder, f"{day}.csv"))
            return audit

        with ThreadPoolExecutor(max_workers=PARALLEL_TRANSFERS) as pool:
            audits = list(pool.map(fetch, days))
        by_day = {audit.day: audit for audit in audits}
        batch_audit.audit_lines(by_day, {audit.day: Path(folder, f"{audit.day}.csv") for audit in audits if audit.ok})
        approved = {audit.day: Path(folder, f"{audit.day}.csv") for audit in audits if audit.ok}
        snapshots = batch_scan.write_snapshots(approved, Path(folder, "snapshots"))

        def publish(day: str) -> None:
            key = snapshot_key(day, by_day[day].sha256)
            uri = f"s3://{bucket}/{key}"
            with snapshots[day].open("rb") as body:  # streamed from the file
                s3_call(uri, client.put_object, Bucket=bucket, Key=key, Body=body)
            by_day[day].snapshot_uri = uri

        with ThreadPoolExecutor(max_workers=PARALLEL_TRANSFERS) as pool:
            list(pool.map(publish, snapshots))
    return audits


def _stream(source: BatchSource, day: str, path: Path, max_bytes: int) -> BatchAudit:
    """Stream the day's file to `path` through the whole-file checks; a file that does not exist is a missing batch."""
    uri = source.uri(day)
    opened = source.open(day)
    if opened is None:
        return missing(day, uri)
    try:
        if (opened.size or 0) > max_bytes:  # refused before a byte is read
            return too_large(day, uri, opened.size, max_bytes)
        with path.open("wb") as out:
            return source.reading(day, lambda: batch_audit.copy_checked(day, uri, opened.chunks, out, max_bytes))
    finally:
        opened.close()


def s3_call(uri: str, call, *args, **kwargs):
    """`call(...)`, None when the object does not exist; other S3 errors stop the run with what to fix."""
    try:
        return call(*args, **kwargs)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _MISSING_CODES:
            return None
        raise Failure(
            description=(
                f"S3 refused to access {uri} ({code}: {error.response.get('Error', {}).get('Message', '')}). "
                "This is not a data problem: check S3_BUCKET, the credentials (AWS_ACCESS_KEY_ID / "
                "AWS_SECRET_ACCESS_KEY) and S3_ENDPOINT_URL, then re-run."
            ),
            allow_retries=False,
        ) from error
    except BotoCoreError as error:
        raise Failure(
            description=(
                f"Could not reach S3 for {uri} after retries ({error}). Check that the S3 endpoint is up "
                "(S3_ENDPOINT_URL), then re-run the failed partitions: nothing was loaded or delivered."
            )
        ) from error


def record(conn, audits: list[BatchAudit]) -> None:
    """Upsert the latest verdict per day into main.batch_audit (parameterized), the table created when missing."""
    create_table(conn)
    upsert_verdicts(conn, audits)


def create_table(conn) -> None:
    """main.batch_audit with every column, on DuckDB or Postgres (the same SQL)."""
    conn.execute(AUDIT_DDL)
    for column, sql_type in AUDIT_COLUMNS_ADDED.items():
        conn.execute(f"alter table main.batch_audit add column if not exists {column} {sql_type}")


def upsert_verdicts(conn, audits: list[BatchAudit]) -> None:
    """The latest verdict per day, replacing the day's previous one (DuckDB, or Postgres through QmarkCursor)."""
    columns = ("date", "s3_uri", "status", "lines", "duplicate_lines", "problems", "bytes", "sha256", "snapshot_uri")
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*columns[1:], "audited_at"))
    conn.executemany(
        f"insert into main.batch_audit ({', '.join(columns)}, audited_at) "
        f"values ({', '.join('?' for _ in columns)}, current_timestamp) on conflict (date) do update set {updates}",
        [
            (
                audit.day,
                audit.uri,
                "ok" if audit.ok else "quarantined",
                audit.lines,
                audit.duplicate_lines,
                None if audit.ok else audit.message(),
                audit.size,
                audit.sha256,
                audit.snapshot_uri,
            )
            for audit in audits
        ],
    )


def quarantined(conn, start: dt.date, end: dt.date) -> dict[str, str]:
    """{day: message} of the window's days whose latest batch failed its audit."""
    exists = conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = 'batch_audit'"
    ).fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute(
        "select cast(date as varchar), problems from main.batch_audit "
        "where status = 'quarantined' and date >= ? and date < ? order by date",
        [start, end],
    ).fetchall()
    return dict(rows)
