"""Fetch and audit the window's batches from S3, and record the verdicts in the warehouse.

The audit itself is batch_audit.py (pure). Here: S3 reads in parallel, with transient faults retried by the
client and permanent ones (access denied, no such bucket) stopped at once with a clear message, and the table
`main.batch_audit` (one row per day, the latest verdict) that delivery reads to skip quarantined days.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError
from dagster import Failure

from dagster_project.batch_audit import BatchAudit, audit_batch, missing
from dagster_project.settings import BATCH_FILE_NAME

_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}

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


def split_uri(source_uri: str) -> tuple[str, str]:
    bucket, _, prefix = source_uri.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def fetch_and_audit(client, source_uri: str, days: list[str]) -> list[BatchAudit]:
    """The audit of each day's s3://…/<day>/stock.csv, in day order."""
    bucket, prefix = split_uri(source_uri)

    def one(day: str) -> BatchAudit:
        dt.date.fromisoformat(day)  # partition keys become S3 keys: only real dates
        key = f"{prefix}/{day}/{BATCH_FILE_NAME}" if prefix else f"{day}/{BATCH_FILE_NAME}"
        uri = f"s3://{bucket}/{key}"
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _MISSING_CODES:
                return missing(day, uri)
            raise Failure(
                description=(
                    f"S3 refused to read {uri} ({code}: {error.response.get('Error', {}).get('Message', '')}). "
                    "This is not a data problem: check S3_BUCKET, the credentials (AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY) and S3_ENDPOINT_URL, then re-run."
                ),
                allow_retries=False,
            ) from error
        except BotoCoreError as error:
            raise Failure(
                description=(
                    f"Could not reach S3 to read {uri} after retries ({error}). Check that the S3 endpoint is up "
                    "(S3_ENDPOINT_URL), then re-run the failed partitions: nothing was loaded or delivered."
                )
            ) from error
        return audit_batch(day, uri, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, days))


def record(conn, audits: list[BatchAudit]) -> None:
    """Upsert the latest verdict per day into main.batch_audit (parameterized)."""
    conn.execute(AUDIT_DDL)
    conn.executemany(
        "insert or replace into main.batch_audit (date, s3_uri, status, lines, duplicate_lines, problems, "
        "audited_at) values (?, ?, ?, ?, ?, ?, current_timestamp)",
        [
            (
                audit.day,
                audit.uri,
                "ok" if audit.ok else "quarantined",
                audit.lines,
                audit.duplicate_lines,
                None if audit.ok else audit.message(),
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
        "select strftime(date, '%Y-%m-%d'), problems from main.batch_audit "
        "where status = 'quarantined' and date >= ? and date < ? order by date",
        [start, end],
    ).fetchall()
    return dict(rows)
