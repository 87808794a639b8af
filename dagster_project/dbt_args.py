"""Pure helpers that turn a Dagster run into dbt arguments: no Dagster context, unit-tested on their own."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable

# A source is a bucket and a prefix; the day's key `<prefix>/YYYY-MM-DD/stock.csv` must stay far below S3's
# 1,024-byte key limit, and a value this long is a mistake (or an attack on the logs), not a folder.
MAX_SOURCE_URI_LENGTH = 512
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9_\-.=]+")


def window_vars(start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> dict[str, str]:
    """dbt vars for a partition time window: min_date inclusive, max_date exclusive."""
    min_date, max_date = _as_date(start), _as_date(end)
    if max_date <= min_date:
        raise ValueError(f"empty window: {min_date} .. {max_date}")
    return {"min_date": min_date.isoformat(), "max_date": max_date.isoformat()}


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def validate_source_uri(uri: str) -> str:
    """`s3://bucket/prefix`, normalized (no surrounding blanks or trailing '/'), or ValueError saying what is wrong.

    Checked before anything reads it, so the audit and every later reader see one unambiguous key: the bucket
    follows S3's naming rules, the prefix has no empty, '.' or '..' segment (boto3 keeps them in the key, other
    clients drop them) and only safe characters (no quotes).
    """
    cleaned = uri.strip().rstrip("/")
    problem = _source_problem(cleaned)
    if problem:
        shown = repr(uri) if len(uri) <= 80 else f"{uri[:80]!r}... ({len(uri):,} characters)"
        raise ValueError(f"source_uri must look like s3://bucket/prefix: {problem}; got {shown}")
    return cleaned


def _source_problem(uri: str) -> str | None:
    if len(uri) > MAX_SOURCE_URI_LENGTH:
        return f"it is longer than {MAX_SOURCE_URI_LENGTH} characters"
    if not uri.startswith("s3://"):
        return "it must start with s3://"
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        return (
            "the bucket name must be 3 to 63 lowercase letters, digits, dots and hyphens, start and end with a "
            "letter or digit, without '..' (S3's naming rules)"
        )
    if _IP_ADDRESS.fullmatch(bucket):
        return "the bucket name must not look like an IP address (S3's naming rules)"
    if bucket.startswith(_RESERVED_BUCKET_PREFIXES) or bucket.endswith(_RESERVED_BUCKET_SUFFIXES):
        return "the bucket name uses a prefix or suffix S3 reserves"
    for segment in prefix.split("/") if prefix else []:
        if segment in ("", ".", ".."):
            return "the prefix must not have empty, '.' or '..' segments"
        if not _PREFIX_SEGMENT.fullmatch(segment):
            return "the prefix may hold only letters, digits and _ - . = (no quotes, no spaces)"
    return None


# The environment variable through which a Dagster run gives dbt its window (dbt_project/macros/window.sql): the vars
# as JSON. dbt parses the whole project again whenever --vars change; an environment variable read only while
# executing lets every run reuse the prepared partial parse (`make prepare`).
WINDOW_ENV = "RETAILER_KPIS_WINDOW"


def window_env(
    start: dt.datetime | dt.date, end: dt.datetime | dt.date, skip_days: Iterable[str] = ()
) -> dict[str, str]:
    """The environment giving dbt one window, leaving quarantined days untouched."""
    vars_: dict[str, object] = window_vars(start, end)
    skip = sorted(dt.date.fromisoformat(day).isoformat() for day in skip_days)
    if skip:
        vars_["skip_days"] = skip
    return {WINDOW_ENV: json.dumps(vars_, sort_keys=True)}


def build_args(select: Iterable[str] = ()) -> list[str]:
    """`dbt build` arguments, limited to some models (else Dagster's own selection applies); the window comes from
    `window_env`. dbt reads the snapshots the audit approved, wherever the batches came from."""
    select_args = ["--select", " ".join(sorted(select))] if select else []
    return ["build", *select_args]


def day_ranges(days: Iterable[str]) -> str:
    """Days as people read them in a message: consecutive days as one range, `2023-08-02...2023-08-04, 2023-08-09`."""
    dates = sorted({dt.date.fromisoformat(day) for day in days})
    ranges: list[list[dt.date]] = []
    for date in dates:
        if ranges and date - ranges[-1][1] == dt.timedelta(days=1):
            ranges[-1][1] = date
        else:
            ranges.append([date, date])
    return ", ".join(first.isoformat() if first == last else f"{first}...{last}" for first, last in ranges)
