"""The code location `chapter-2-retailer_kpis`: one Definitions for The Retailer's KPIs."""

from dagster import Definitions, in_process_executor

from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.automation import daily_schedule, new_batch_sensor, retailer_kpis_job
from dagster_project.resources import build_resources

defs = Definitions(
    assets=[operational_data, retailer_dbt_models, kpis_json, kpis_warehouse],
    jobs=[retailer_kpis_job],
    schedules=[daily_schedule],
    sensors=[new_batch_sensor],
    resources=build_resources(),
    # dbt runs in its own process anyway; running the three steps in the run's process saves a Python
    # start-up and a code reload per step.
    executor=in_process_executor,
)
