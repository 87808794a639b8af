"""The Chapter 2 code location loads, holds what the docs describe, and loads none of the laptop tooling."""

from __future__ import annotations

import json
import subprocess
import sys

from dagster import AssetKey, Definitions

from dagster_project.constants import GROUP
from dagster_project.settings import PROJECT_ROOT

RETAILER_KPIS_ASSETS = {
    "operational_data",
    "fct_sales_lines",
    "revenue",
    "units_sold",
    "average_sales_price",
    "kpi_daily",
    "kpi_daily_breakdown",
    "kpis_json",
    "kpis_warehouse",
}


def test_definitions_load_with_the_assets_and_the_group():
    from dagster_project.definitions import defs

    Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == RETAILER_KPIS_ASSETS
    # The dbt source is the asset that audits the batches (translator): the models are downstream of it.
    assert graph.get(AssetKey("fct_sales_lines")).parent_keys == {AssetKey("operational_data")}
    assert graph.get(AssetKey("operational_data")).parent_keys == set()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {name for name, group in groups.items() if group == GROUP} == RETAILER_KPIS_ASSETS
    assert {job.name for job in repository.get_all_jobs()} >= {"retailer_kpis_job"}
    assert [schedule.job_name for schedule in repository.schedule_defs] == ["retailer_kpis_job"]
    assert [sensor.name for sensor in repository.sensor_defs] == ["new_batch_sensor"]


def test_the_code_location_loads_no_tooling_no_moto_and_no_dagster_aws():
    """A fresh interpreter imports the definitions: nothing of tooling/ (local S3, make run, sample data) nor moto,
    nor dagster-aws (all its components, a quarter of the load, for an S3 client the project builds itself)."""
    script = "import json, sys; import dagster_project.definitions; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    modules = json.loads(result.stdout.splitlines()[-1])
    assert "dagster_project.definitions" in modules  # the probe sees what it imported
    loaded = [name for name in modules if name.split(".")[0] in {"tooling", "moto", "dagster_aws"}]
    assert not loaded, f"importing the code location loaded laptop tooling or dagster-aws: {loaded}"
