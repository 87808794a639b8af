"""The sample batches (tooling/sample_batches.py) written to a folder or uploaded to S3, as the retailer would.

A batch depends only on (day, rows, seed): the same command always produces byte-identical files, whatever the
day it runs. `make run` and `make start-local` use the SAMPLE_DAYS days up to the latest partition
(`latest_days`), so the UI's plots by partition, which end at the latest one, show them; the Docker seed and this
command default to the fixed days from the first partition.

    python -m tooling.sample_data --start 2023-08-02 --days 39 --rows 120 --s3
    python -m tooling.sample_data --start 2023-08-02 --days 7 --out data/stock-data
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import NamedTuple

from dagster_project.constants import BATCH_FILE_NAME, FIRST_PARTITION
from dagster_project.partitions import daily_partitions
from dagster_project.settings import Settings, load_settings
from tooling.sample_batches import batch_csv, days

# The sample users run the project on: 39 days, 120 sales lines a day. The fixed ones (the Docker seed, this
# command) start at the first partition.
SAMPLE_START = dt.date.fromisoformat(FIRST_PARTITION)
SAMPLE_DAYS = 39
SAMPLE_ROWS = 120


def latest_days(count: int = SAMPLE_DAYS) -> list[dt.date]:
    """The last `count` days of the daily partitions, which end at the latest complete day (yesterday, UTC).

    `make run`'s window: Dagster plots an asset's metadata by partition up to its latest partition only.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return [dt.date.fromisoformat(key) for key in daily_partitions.get_partition_keys()[-count:]]


def write_folder(out_dir: Path, start: dt.date, count: int, rows: int, seed: int = 42) -> list[Path]:
    """Write `<out_dir>/<YYYY-MM-DD>/stock.csv` for each day; returns the files."""
    files = []
    for day in days(start, count):
        path = out_dir / day.isoformat() / BATCH_FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(batch_csv(day, rows, seed))
        files.append(path)
    return files


def s3_client(settings: Settings):
    import boto3

    return boto3.client("s3", config=settings.boto3_config(), **settings.boto3_client_kwargs())


def ensure_bucket(client, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        region = client.meta.region_name
        # S3 refuses a LocationConstraint of us-east-1, and requires one for every other region.
        location = (
            {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        client.create_bucket(Bucket=bucket, **location)


class Upload(NamedTuple):
    """The keys `upload` wrote, and those it left as they were (already in the bucket, with skip_existing)."""

    uploaded: list[str]
    skipped: list[str]

    def summary(self, rows: int, destination: str) -> str:
        text = f"uploaded {len(self.uploaded)} daily batches of {rows} rows to {destination}/"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} already there"
        return text


def batch_key(settings: Settings, day: dt.date) -> str:
    return f"{settings.source_prefix}/{day.isoformat()}/{BATCH_FILE_NAME}"


def upload(
    settings: Settings,
    start: dt.date,
    count: int,
    rows: int,
    seed: int = 42,
    skip_existing: bool = False,
) -> Upload:
    """Upload one generated batch per day to the configured bucket (created if needed).

    With `skip_existing`, a day whose key is already in the bucket keeps its batch and is reported as skipped.
    """
    from concurrent.futures import ThreadPoolExecutor

    client = s3_client(settings)
    ensure_bucket(client, settings.s3_bucket)
    existing: set[str] = set()
    if skip_existing:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.s3_bucket, Prefix=settings.source_prefix + "/"):
            existing.update(obj["Key"] for obj in page.get("Contents", []))

    def put(day: dt.date) -> str:
        key = batch_key(settings, day)
        body = batch_csv(day, rows, seed).encode()
        client.put_object(Bucket=settings.s3_bucket, Key=key, Body=body, ContentType="text/csv")
        return key

    wanted = list(days(start, count))
    skipped = [batch_key(settings, day) for day in wanted if batch_key(settings, day) in existing]
    with ThreadPoolExecutor(max_workers=8) as pool:
        uploaded = list(pool.map(put, [day for day in wanted if batch_key(settings, day) not in existing]))
    return Upload(uploaded=uploaded, skipped=skipped)


def upload_folder(settings: Settings, folder: Path) -> list[str]:
    """Upload existing `<folder>/<YYYY-MM-DD>/stock.csv` batches as they are; returns the keys."""
    client = s3_client(settings)
    ensure_bucket(client, settings.s3_bucket)
    keys = []
    for path in sorted(folder.glob(f"*/{BATCH_FILE_NAME}")):
        day = dt.date.fromisoformat(path.parent.name)
        key = batch_key(settings, day)
        client.upload_file(str(path), settings.s3_bucket, key)
        keys.append(key)
    return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=SAMPLE_START, help=f"first day ({SAMPLE_START})")
    parser.add_argument("--days", type=int, default=SAMPLE_DAYS, help=f"consecutive days (default {SAMPLE_DAYS})")
    parser.add_argument(
        "--rows", type=int, default=SAMPLE_ROWS, help=f"sales lines per day, 80 to 100000 (default {SAMPLE_ROWS})"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write <out>/<YYYY-MM-DD>/stock.csv files here")
    target.add_argument("--s3", action="store_true", help="upload to s3://$S3_BUCKET/operational_data/")
    target.add_argument("--upload-folder", type=Path, help="upload existing <folder>/<YYYY-MM-DD>/stock.csv")
    parser.add_argument("--skip-existing", action="store_true", help="with --s3, keep batches already there")
    args = parser.parse_args(argv)
    if not 80 <= args.rows <= 100_000:
        parser.error(f"--rows must be between 80 and 100000, got {args.rows}")
    if args.days < 1:
        parser.error(f"--days must be at least 1, got {args.days}")
    if args.upload_folder:
        settings = load_settings()
        keys = upload_folder(settings, args.upload_folder)
        print(f"uploaded {len(keys)} daily batches from {args.upload_folder} to {settings.source_uri}/")
    elif args.out:
        files = write_folder(args.out, args.start, args.days, args.rows, args.seed)
        print(f"wrote {len(files)} daily batches of {args.rows} rows under {args.out}")
    else:
        settings = load_settings()
        result = upload(settings, args.start, args.days, args.rows, args.seed, args.skip_existing)
        print(result.summary(args.rows, settings.source_uri))


if __name__ == "__main__":
    main()
