"""The retailer's daily batches in S3: an external asset, upstream of the dbt source. Dagster does not build it;
the sensor watches it (automation.py)."""

from dagster import AssetKey, AssetSpec

from dagster_project.constants import BATCH_FILE_NAME, OPERATIONAL_DATA_PREFIX

DAILY_BATCHES_KEY = AssetKey([OPERATIONAL_DATA_PREFIX, "daily_batches"])

daily_batches = AssetSpec(
    key=DAILY_BATCHES_KEY,
    description=(
        "One CSV batch of sales lines a day, dropped by the retailer at "
        f"s3://$S3_BUCKET/{OPERATIONAL_DATA_PREFIX}/YYYY-MM-DD/{BATCH_FILE_NAME}."
    ),
    group_name=OPERATIONAL_DATA_PREFIX,
    kinds={"s3", "csv"},
    metadata={"layout": f"{OPERATIONAL_DATA_PREFIX}/YYYY-MM-DD/{BATCH_FILE_NAME}"},
)
