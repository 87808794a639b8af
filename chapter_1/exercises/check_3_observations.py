"""Check of "Try it" 1.3 (make check ASSIGNMENT=ch1-3): each observation counts the categories of its file."""

from dagster import DagsterInstance

from chapter_1.assets import WEEK_DAYS
from chapter_1.data_dir import LocalDataDir, ensure_stock_file, read_stock_rows
from chapter_1.observations import OBSERVED_ASSET_KEY, observe_stock_files_job


def test_each_observation_counts_the_categories(tmp_path):
    folder = tmp_path / "stock_files"
    for day in WEEK_DAYS[:2]:
        ensure_stock_file(folder, day)
    with DagsterInstance.ephemeral() as instance:
        observe_stock_files_job.execute_in_process(
            instance=instance, resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))}
        )
        records = instance.fetch_observations(OBSERVED_ASSET_KEY, limit=10).records
    assert len(records) == 2, f"{len(records)} observations for 2 files"
    for record in records:
        observation = record.asset_observation
        assert "category_count" in observation.metadata, "the observations have no category_count metadata"
        rows = read_stock_rows(folder / f"{observation.partition}.csv")
        expected = len({row["Category"] for row in rows})
        found = observation.metadata["category_count"].value
        assert found == expected, f"category_count of {observation.partition} is {found}, not {expected}"
