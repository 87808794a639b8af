"""Automation: a sensor that requests a day's partition when its batch lands in S3, and a daily schedule."""

import re
from collections.abc import Iterable

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    build_schedule_from_partitioned_job,
    define_asset_job,
    sensor,
)

from dagster_project.constants import BATCH_FILE_NAME, GROUP
from dagster_project.partitions import daily_partitions
from dagster_project.resources import RetailerS3Resource

retailer_kpis_job = define_asset_job(
    "retailer_kpis_job",
    selection=AssetSelection.groups(GROUP),
    description="Every Chapter 2 asset for the selected day(s): dbt models and checks, then both deliveries.",
)

daily_schedule = build_schedule_from_partitioned_job(retailer_kpis_job, hour_of_day=6)


def new_batch_days(keys: Iterable[str], prefix: str, cursor: str | None, available: set[str] | None = None):
    """(days to request, new cursor) from S3 keys, in day order.

    The cursor is the last day already requested. A day that has no partition yet (the batch of today, whose
    partition opens tomorrow) stops the scan and is seen again on a later tick.
    """
    pattern = re.compile(rf"^{re.escape(prefix)}/(\d{{4}}-\d{{2}}-\d{{2}})/{re.escape(BATCH_FILE_NAME)}$")
    days = sorted({match.group(1) for key in keys if (match := pattern.match(key))})
    requested = []
    for day in days:
        if cursor is not None and day <= cursor:
            continue
        if available is not None and day not in available:
            break
        requested.append(day)
    return requested, (requested[-1] if requested else cursor)


@sensor(job=retailer_kpis_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.STOPPED)
def new_batch_sensor(context: SensorEvaluationContext, s3: RetailerS3Resource):
    """Requests the partition of each day whose operational_data/D/stock.csv is new since the last tick."""
    paginator = s3.get_client().get_paginator("list_objects_v2")
    start_after = f"{s3.source_prefix}/{context.cursor}/~" if context.cursor else ""
    keys = [
        obj["Key"]
        for page in paginator.paginate(Bucket=s3.bucket, Prefix=s3.source_prefix + "/", StartAfter=start_after)
        for obj in page.get("Contents", [])
    ]
    available = set(daily_partitions.get_partition_keys())
    days, cursor = new_batch_days(keys, s3.source_prefix, context.cursor, available)
    if not days:
        return SkipReason(f"no new batch under {s3.source_uri}/")
    return SensorResult(
        run_requests=[RunRequest(run_key=f"batch-{day}", partition_key=day) for day in days],
        cursor=cursor,
    )
