"""Check of assignment 1 (make check ASSIGNMENT=1): operational_data records each day's num_records."""

from dagster import MetadataValue

from dagster_project.settings import load_settings
from tests.support.workshop_checks import DAYS, ROWS, START, run_days, why_it_failed
from tooling import sample_data


def test_each_day_of_operational_data_records_num_records(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=len(DAYS), rows=ROWS)

    result = run_days(DAYS, ["operational_data"])

    assert result.success, f"materializing operational_data for {DAYS[0]}...{DAYS[-1]}: {why_it_failed(result)}"
    metadata = {e.partition: e.metadata for e in result.asset_materializations_for_node("operational_data")}
    for day in DAYS:
        assert metadata.get(day), (
            f"operational_data's partition {day} has no metadata: attach each day's _day_metadata(audit) to its "
            "own partition (context.add_asset_metadata(..., partition_key=audit.day))"
        )
        assert "num_records" in metadata[day], f"operational_data's partition {day} has no num_records metadata"
        value = metadata[day]["num_records"]
        assert (
            isinstance(value, MetadataValue) and isinstance(value.value, int) and not isinstance(value.value, bool)
        ), f"num_records of {day} is {value!r}: make it a number (MetadataValue.int) so the UI plots it"
        assert value.value == ROWS, f"num_records of {day} is {value.value}, but its batch has {ROWS} sales lines"
        assert "snapshot_uri" in metadata[day], f"operational_data's partition {day} has no snapshot_uri metadata"
