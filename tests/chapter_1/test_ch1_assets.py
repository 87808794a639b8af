import json
import os
import re
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey, DagsterInstance, materialize, materialize_to_memory
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver

from chapter_1.assets import WEEK_DAYS, daily_stock, next_month_forecast, weekly_stock
from chapter_1.data_dir import LocalDataDir, ensure_stock_file, read_stock_rows, rows_for_day
from chapter_1.definitions import defs
from chapter_1.graph_assets import SAMPLE_DAY, units_per_category
from chapter_1.observations import OBSERVED_ASSET_KEY, observe_stock_files_job
from tests.support.guides import chapter_1_guide

REPO_ROOT = Path(__file__).resolve().parents[2]
README = chapter_1_guide()
DAILY = AssetKey(["stock", "daily_stock"])
WEEKLY = AssetKey(["stock", "weekly_stock"])
FORECAST = AssetKey(["forecast", "next_month_forecast"])


def test_keys_prefixes_and_groups():
    assert daily_stock.key == DAILY
    assert weekly_stock.key == WEEKLY
    assert next_month_forecast.key == FORECAST
    for asset_def in (daily_stock, weekly_stock, next_month_forecast):
        assert asset_def.group_names_by_key[asset_def.key] == "stock_pipeline"


def test_deps_graph_is_daily_weekly_forecast():
    graph = defs.resolve_asset_graph()
    assert graph.get(DAILY).parent_keys == set()
    assert graph.get(WEEKLY).parent_keys == {DAILY}
    assert graph.get(FORECAST).parent_keys == {WEEKLY}
    assert graph.get(DAILY).child_keys == {WEEKLY}


def test_pipeline_materializes_files_in_order(tmp_path):
    result = materialize(
        [daily_stock, weekly_stock, next_month_forecast],
        resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))},
    )
    assert result.success
    assert sorted(p.name for p in (tmp_path / "daily_stock").iterdir()) == [
        f"{day.isoformat()}.csv" for day in WEEK_DAYS
    ]
    expected_weekly: dict[str, int] = {}
    for day in WEEK_DAYS:
        rows = read_stock_rows(tmp_path / "daily_stock" / f"{day.isoformat()}.csv")
        assert len(rows) == rows_for_day(day)
        for row in rows:
            expected_weekly[row["Category"]] = expected_weekly.get(row["Category"], 0) + int(row["Quantity"])
    weekly = json.loads((tmp_path / "weekly_stock" / "weekly_stock.json").read_text())
    assert weekly == expected_weekly
    forecast = json.loads((tmp_path / "forecast" / "next_month_forecast.json").read_text())
    assert forecast == {category: round(qty * 30 / 7) for category, qty in expected_weekly.items()}
    metadata = result.asset_materializations_for_node("forecast__next_month_forecast")[0].metadata
    assert metadata["forecast_total"].value == sum(forecast.values())
    # The figures the guide gives for the sample files.
    weekly_metadata = result.asset_materializations_for_node("stock__weekly_stock")[0].metadata
    assert weekly_metadata["total_quantity"].value == sum(expected_weekly.values()) == 4508
    assert metadata["forecast_total"].value == 19321
    assert "`total_quantity` 4508" in README and "`forecast_total` 19321" in README


def test_observation_is_logged_in_the_event_log(tmp_path):
    folder = tmp_path / "stock_files"
    for day in WEEK_DAYS[:2]:
        ensure_stock_file(folder, day)
    instance = DagsterInstance.ephemeral()
    result = observe_stock_files_job.execute_in_process(
        instance=instance, resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))}
    )
    assert result.success
    assert result.output_for_node("observe_stock_files") == 2

    records = instance.fetch_observations(OBSERVED_ASSET_KEY, limit=10).records
    observations = {r.asset_observation.partition: r.asset_observation for r in records}
    assert set(observations) == {"2023-08-02", "2023-08-03"}
    assert observations["2023-08-02"].metadata["row_count"].value == 82
    assert observations["2023-08-03"].metadata["row_count"].value == 83
    # An observation does not count as a materialization.
    assert instance.get_latest_materialization_event(OBSERVED_ASSET_KEY) is None


def test_graph_asset_output_value(tmp_path):
    from tooling.sample_batches import batch_csv

    expected: dict[str, int] = {}
    sample = tmp_path / "sample.csv"
    sample.write_text(batch_csv(SAMPLE_DAY, rows=20))
    for row in read_stock_rows(sample):
        expected[row["Category"]] = expected.get(row["Category"], 0) + int(row["Quantity"])

    result = materialize_to_memory([units_per_category])
    assert result.success
    assert units_per_category.key == AssetKey(["stock", "units_per_category"])
    assert result.asset_value(units_per_category.key) == expected
    assert sum(expected.values()) > 0
    # The graph asset is one asset made of two ops.
    assert set(units_per_category.node_def.node_names()) == {"fetch_sample_csv", "count_units_per_category"}


def test_new_upstream_materialization_makes_downstream_stale(tmp_path):
    """Section 2's steps, read with the stale-status resolver the UI uses."""
    pipeline = [daily_stock, weekly_stock, next_month_forecast]
    resources = {"data_dir": LocalDataDir(base_dir=str(tmp_path))}
    with DagsterInstance.ephemeral() as instance:

        def statuses():
            resolver = get_stale_status_resolver(instance, pipeline)
            return [resolver.get_status(asset_def.key) for asset_def in pipeline]

        materialize(pipeline, resources=resources, instance=instance)
        assert statuses() == [StaleStatus.FRESH] * 3
        materialize([daily_stock], resources=resources, instance=instance)
        assert statuses() == [StaleStatus.FRESH, StaleStatus.STALE, StaleStatus.FRESH]
        [cause] = get_stale_status_resolver(instance, pipeline).get_stale_causes(WEEKLY)
        assert cause.dependency.asset_key == DAILY
        materialize([daily_stock, weekly_stock], selection=[weekly_stock], resources=resources, instance=instance)
        assert statuses() == [StaleStatus.FRESH, StaleStatus.FRESH, StaleStatus.STALE]


def test_guide_command_writes_the_files_the_job_observes(tmp_path):
    [command] = [line for line in re.findall(r"```bash\n(.*?)\n```", README) if "data_dir stock_files" in line]
    env = {**os.environ, "CHAPTER_1_DATA_DIR": str(tmp_path)}
    args = command.split()
    assert args[:3] == [".venv/bin/python", "-m", "chapter_1.data_dir"]
    proc = subprocess.run([sys.executable, *args[1:]], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3
    instance = DagsterInstance.ephemeral()
    result = observe_stock_files_job.execute_in_process(
        instance=instance, resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))}
    )
    assert result.output_for_node("observe_stock_files") == 3
    records = instance.fetch_observations(OBSERVED_ASSET_KEY, limit=10).records
    counts = {r.asset_observation.partition: r.asset_observation.metadata["row_count"].value for r in records}
    assert counts == {"2023-08-02": 82, "2023-08-03": 83, "2023-08-04": 84}
