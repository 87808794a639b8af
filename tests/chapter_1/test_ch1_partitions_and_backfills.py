import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from chapter_1.backfills import daily_stock_files_job
from chapter_1.data_dir import LocalDataDir, read_stock_rows
from chapter_1.definitions import defs
from chapter_1.partitions import daily_partitions, daily_stock_file
from tests.support.guides import chapter_1_guide
from tooling.sample_batches import HEADER

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"
KEY = AssetKey(["stock", "daily_stock_file"])


def test_partitions_are_the_39_days_of_the_data():
    keys = daily_partitions.get_partition_keys()
    assert keys[:2] == ["2023-08-02", "2023-08-03"]
    assert keys[-1] == "2023-09-09"
    # The UI's Materialize dialog lists the latest 90 partitions of a range: all of these.
    assert len(keys) == 39 <= 90


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
def test_cli_backfill_over_a_partition_range(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The instance folder the guide names: the repository's dagster.yaml, in a temporary folder.
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    data = tmp_path / "data"
    env = {**os.environ, "DAGSTER_HOME": str(home), "CHAPTER_1_DATA_DIR": str(data)}
    # The guide's command, as written (its DAGSTER_HOME replaced by the temporary one).
    readme = chapter_1_guide()
    [command] = [
        " ".join(block.replace("\\\n", " ").split())
        for block in re.findall(r"```bash\n(.*?)```", readme, re.S)
        if "--partition-range" in block
    ]
    prefix = 'DAGSTER_HOME="$PWD/dagster_home" .venv/bin/dagster '
    assert command.startswith(prefix)
    args = [str(DAGSTER), *command.removeprefix(prefix).split()]
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    days = [f"2023-08-0{day}" for day in range(2, 9)]
    assert sorted(p.name for p in (data / "stock_files").iterdir()) == [f"{day}.csv" for day in days]
    # The repository's dagster.yaml finds its storage through DAGSTER_HOME.
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(KEY, limit=10).records
        # One run, one materialization event per partition of the range.
        assert sorted(r.asset_materialization.partition for r in records) == days
        assert len({r.run_id for r in records}) == 1
        # The total the guide gives for the range.
        assert {r.asset_materialization.metadata["row_count"].value for r in records} == {595}
    assert "`partition_count` 7 and `row_count` 595" in readme
