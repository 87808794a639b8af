"""Check of "Try it" 1.9 (make check ASSIGNMENT=ch1-9): a range run reports its first and last day."""

from dagster import materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from chapter_1.data_dir import LocalDataDir
from chapter_1.partitions import daily_stock_file


def test_a_range_run_reports_its_first_and_last_day(tmp_path):
    # What a single-run backfill of 2023-08-02...2023-08-04 launches: one run tagged with the range.
    result = materialize(
        [daily_stock_file],
        tags={ASSET_PARTITION_RANGE_START_TAG: "2023-08-02", ASSET_PARTITION_RANGE_END_TAG: "2023-08-04"},
        resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))},
    )
    materializations = result.asset_materializations_for_node("stock__daily_stock_file")
    assert materializations, "the range run materialized nothing"
    for materialization in materializations:
        metadata = materialization.metadata
        assert {"first_day", "last_day"} <= set(metadata), "daily_stock_file reports no first_day / last_day"
        days = (metadata["first_day"].value, metadata["last_day"].value)
        assert days == ("2023-08-02", "2023-08-04"), f"first_day, last_day are {days}, not 2023-08-02, 2023-08-04"
