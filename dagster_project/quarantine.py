"""Fetch and audit the window's batches from S3, and record the verdicts in the warehouse.

The audit itself is batch_audit.py (pure). Here: S3 reads in parallel, with transient faults retried by the
client and permanent ones (access denied, no such bucket) stopped at once with a clear message, and the table
`main.batch_audit` (one row per day, the latest verdict) that delivery reads to skip quarantined days.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
from botocore.exceptions import BotoCoreError, ClientError
from dagster import Failure

from dagster_project.batch_audit import EXPECTED_COLUMNS, BatchAudit, audit_batch, audit_framing, missing
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
    """The audit of each day's s3://…/<day>/stock.csv, in day order.

    Each file is fetched once. The checks on the whole file (size, gzip, UTF-8, header, last newline) run in
    Python as it arrives; the line checks of every file that passed them run in ONE DuckDB scan of local copies
    (`screen`), vectorized and multi-threaded. Only a file the scan flags is read again line by line in Python,
    to name its bad lines. A year of batches is audited in seconds instead of minutes.
    """
    bucket, prefix = split_uri(source_uri)
    with tempfile.TemporaryDirectory(prefix="batch-audit-") as folder:

        def fetch(day: str) -> BatchAudit:
            dt.date.fromisoformat(day)  # partition keys become S3 keys: only real dates
            key = f"{prefix}/{day}/{BATCH_FILE_NAME}" if prefix else f"{day}/{BATCH_FILE_NAME}"
            uri = f"s3://{bucket}/{key}"
            body = _get(client, bucket, key, uri)
            if body is None:
                return missing(day, uri)
            audit, text = audit_framing(day, uri, body)
            if not audit.ok:
                return audit_batch(day, uri, body)  # a bad file: every problem, with line numbers
            Path(folder, f"{day}.csv").write_text(text)
            return audit

        with ThreadPoolExecutor(max_workers=8) as pool:
            audits = list(pool.map(fetch, days))
        candidates = {audit.day: audit for audit in audits if audit.ok}
        screened = screen({day: Path(folder, f"{day}.csv") for day in candidates})
        for day, audit in candidates.items():
            verdict = screened.get(day)
            if verdict is None:  # flagged by the scan: name the lines
                audits[days.index(day)] = audit_batch(day, audit.uri, Path(folder, f"{day}.csv").read_bytes())
            else:
                audit.lines, audit.duplicate_lines = verdict
    return audits


def _get(client, bucket: str, key: str, uri: str) -> bytes | None:
    """The object's bytes, None when it does not exist; other S3 errors stop the run with what to fix."""
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _MISSING_CODES:
            return None
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


def screen(files: dict[str, Path]) -> dict[str, tuple[int, int]]:
    """{day: (lines, duplicate lines)} of the files whose every line passes the rules; a day left out is flagged.

    One DuckDB scan reads every column as text: lines with the wrong number of fields land in DuckDB's rejects
    table, the rest are cast and checked as batch_audit.py checks them line by line.
    """
    if not files:
        return {}
    columns = ", ".join(f"'{name}': 'varchar'" for name in EXPECTED_COLUMNS)
    every_column = ", ".join(f'"{name}"' for name in EXPECTED_COLUMNS)
    paths = [str(path) for path in files.values()]
    conn = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        rows = conn.execute(
            f"""
            -- duplicates by a 64-bit hash of the whole line: a count for the record, collisions are negligible
            select filename, count(*) as lines, count(*) - count(distinct hash({every_column})) as duplicates,
                count(*) filter (
                    where try_cast("Sales" as double) is null or not isfinite(try_cast("Sales" as double))
                       or try_cast("Profit" as double) is null or not isfinite(try_cast("Profit" as double))
                       or not regexp_full_match(trim("Quantity"), '[0-9]+')
                       or try_cast("Discount" as double) is null
                       or not (try_cast("Discount" as double) between 0 and 1)
                ) as broken
            from read_csv(?, header = true, delim = ',', quote = '"', auto_detect = false, filename = true,
                          columns = {{{columns}}}, store_rejects = true, ignore_errors = true)
            group by filename
            """,
            [paths],
        ).fetchall()
        rejected = {
            path
            for (path,) in conn.execute(
                "select distinct file_path from reject_scans s join reject_errors e using (scan_id, file_id)"
            ).fetchall()
        }
    except duckdb.Error:
        return {}  # a file the scanner cannot even read: flag them all, the line-by-line audit will say why
    finally:
        conn.close()
    by_path = {str(path): day for day, path in files.items()}
    return {
        by_path[path]: (lines, duplicates)
        for path, lines, duplicates, broken in rows
        if broken == 0 and lines > 0 and path not in rejected
    }


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
