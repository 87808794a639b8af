import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from chapter_1.backfills import daily_stock_files_job
from chapter_1.data_dir import LocalDataDir, read_stock_rows
from chapter_1.definitions import defs
from chapter_1.partitions import daily_partitions, daily_stock_file
from tooling.sample_batches import HEADER

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"
KEY = AssetKey(["stock", "daily_stock_file"])


def test_partitions_start_on_2023_08_02():
    keys = daily_partitions.get_partition_keys()
    assert keys[0] == "2023-08-02"
    assert keys[1] == "2023-08-03"


@pytest.mark.parametrize(("partition_key", "rows"), [("2023-08-02", 82), ("2023-08-15", 95)])
def test_partition_reads_its_own_file_and_reports_row_count(tmp_path, partition_key, rows):
    result = materialize(
        [daily_stock_file],
        partition_key=partition_key,
        resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))},
    )
    assert result.success
    path = tmp_path / "stock_files" / f"{partition_key}.csv"
    assert len(read_stock_rows(path)) == rows
    [materialization] = result.asset_materializations_for_node("stock__daily_stock_file")
    assert materialization.partition == partition_key
    assert materialization.metadata["row_count"].value == rows
    assert materialization.metadata["partition_count"].value == 1


def test_existing_file_is_read_not_regenerated(tmp_path):
    folder = tmp_path / "stock_files"
    folder.mkdir()
    line = "Standard Class,Consumer,United States,Boston,Massachusetts,02215,East,Technology,Phones,10,1,0,1"
    (folder / "2023-08-02.csv").write_text("\n".join([HEADER, line, line, line]) + "\n")
    result = materialize(
        [daily_stock_file],
        partition_key="2023-08-02",
        resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))},
    )
    [materialization] = result.asset_materializations_for_node("stock__daily_stock_file")
    assert materialization.metadata["row_count"].value == 3


def test_partitioned_job_from_definitions(tmp_path, monkeypatch):
    # The job as registered, with its Definitions resources: the data dir comes from the env var.
    monkeypatch.setenv("CHAPTER_1_DATA_DIR", str(tmp_path))
    job = defs.resolve_job_def("daily_stock_files_job")
    assert job.name == daily_stock_files_job.name
    assert job.partitions_def == daily_partitions
    result = job.execute_in_process(partition_key="2023-08-03")
    assert result.success
    assert (tmp_path / "stock_files" / "2023-08-03.csv").exists()
    [materialization] = result.asset_materializations_for_node("stock__daily_stock_file")
    assert materialization.metadata["row_count"].value == 83


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_cli_backfill_over_a_partition_range(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    data = tmp_path / "data"
    env = {**os.environ, "DAGSTER_HOME": str(home), "CHAPTER_1_DATA_DIR": str(data)}
    command = [
        str(DAGSTER),
        "asset",
        "materialize",
        "-m",
        "chapter_1",
        "--select",
        "stock/daily_stock_file",
        "--partition-range",
        "2023-08-02...2023-08-04",
    ]
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in (data / "stock_files").iterdir()) == [
        "2023-08-02.csv",
        "2023-08-03.csv",
        "2023-08-04.csv",
    ]
    with DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(KEY, limit=10).records
        # One run, one materialization event per partition of the range.
        assert sorted(r.asset_materialization.partition for r in records) == [
            "2023-08-02",
            "2023-08-03",
            "2023-08-04",
        ]
        assert len({r.run_id for r in records}) == 1
        assert {r.asset_materialization.metadata["row_count"].value for r in records} == {82 + 83 + 84}
