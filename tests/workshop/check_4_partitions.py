"""Check of assignment 4 (make check ASSIGNMENT=4): every asset of the group has the daily partitions and single-run
backfills; a range of days materializes upstream and downstream in one run, with the KPIs of the batches."""

from dagster import AssetKey, BackfillPolicy, DagsterInstance, InMemoryIOManager, IOManagerDefinition

from dagster_project import kpis
from dagster_project.constants import GROUP
from dagster_project.definitions import defs
from dagster_project.partitions import daily_partitions
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tests.support.workshop_checks import ASSETS, DAYS, ROWS, START, batches, materialized, run_days, why_it_failed
from tooling import sample_data

# The deliveries' own IO managers are assignments 5 and 6: this check keeps their values in memory.
IN_MEMORY = IOManagerDefinition.hardcoded_io_manager(InMemoryIOManager())


def test_every_asset_is_daily_partitioned_and_a_range_runs_once(pipeline_env):
    graph = defs.resolve_asset_graph()
    group = sorted(key for key in graph.get_all_asset_keys() if graph.get(key).group_name == GROUP)
    unpartitioned = [key.to_user_string() for key in group if graph.get(key).partitions_def != daily_partitions]
    assert not unpartitioned, f"{', '.join(unpartitioned)} not partitioned by day (partitions.py's daily_partitions)"
    one_run = BackfillPolicy.single_run()
    several = [key.to_user_string() for key in group if graph.get(key).backfill_policy != one_run]
    assert not several, f"{', '.join(several)}: a backfill is not one run (BackfillPolicy.single_run())"

    settings = load_settings()
    sample_data.upload(settings, START, count=len(DAYS), rows=ROWS)
    instance = DagsterInstance.ephemeral()
    resources = {**build_resources(), "s3_json_io_manager": IN_MEMORY, "postgres_time_series_io_manager": IN_MEMORY}
    every_asset = [key for asset in ASSETS for key in asset.keys]

    result = run_days(DAYS, every_asset, instance=instance, resources=resources)

    assert result.success, f"materializing {GROUP} for {DAYS[0]}...{DAYS[-1]} in one run: {why_it_failed(result)}"
    steps = [event.step_key for event in result.all_events if event.event_type_value == "STEP_START"]
    assert sorted(steps) == sorted(asset.op.name for asset in ASSETS), f"one step per asset, not {steps}"
    for key in every_asset:
        done = instance.get_materialized_partitions(key)
        assert done == set(DAYS), f"{key.to_user_string()} has partitions {sorted(done)} materialized, not {DAYS}"
    with kpis.read_only(settings.duckdb_path) as conn:
        found = kpis.daily_kpis(conn, START, START.replace(day=START.day + len(DAYS)))
    assert_kpis_match(found, daily_kpis(batches()))

    # A downstream partition by hand: the upstream ones stay as they are.
    before = {key: materialized(instance, key.to_user_string()) for key in every_asset}
    alone = run_days(DAYS[1:], [AssetKey("kpis_json")], instance=instance, resources=resources)
    assert alone.success, f"materializing kpis_json alone for {DAYS[1]}: {why_it_failed(alone)}"
    again = [key.to_user_string() for key in every_asset if materialized(instance, key.to_user_string()) != before[key]]
    assert again == ["kpis_json"], f"materializing kpis_json alone for {DAYS[1]} materialized {again}"
