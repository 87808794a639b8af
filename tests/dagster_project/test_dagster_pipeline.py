"""Chapter 2 in Dagster, in process: real S3 over HTTP, real dbt, real DuckDB, real Postgres."""

import datetime as dt
import json
from collections import Counter

import duckdb
import pytest
from dagster import (
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    MaterializeResult,
    RunConfig,
    asset,
    build_sensor_context,
    materialize,
)

from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import ALL_DAYS_DELIVERED, kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import OperationalDataConfig, operational_data
from dagster_project.automation import new_batch_sensor
from dagster_project.kpis import KPI_COLUMNS
from dagster_project.partitions import daily_partitions
from dagster_project.project import retailer_dbt_project
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.kpi_reference import HAND_WRITTEN_DELIVERY, assert_kpis_match, daily_kpis
from tooling import sample_data

ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]
START = dt.date(2023, 8, 2)
ROWS = 120
THREE_DAYS = ["2023-08-02", "2023-08-03", "2023-08-04"]


READ_BACK: list[dict] = []


@asset(partitions_def=daily_partitions, backfill_policy=BackfillPolicy.single_run())
def deliveries_read_back(kpis_json: dict, kpis_warehouse: dict) -> MaterializeResult:
    """A downstream asset: both deliveries loaded back by their IO managers."""
    READ_BACK.append({"kpis_json": kpis_json, "kpis_warehouse": kpis_warehouse})
    return MaterializeResult()


def materialize_range(first: str, last: str, selection=None, instance=None, run_config=None, assets=ASSETS):
    return materialize(
        assets,
        selection=selection or [a for asset in ASSETS for a in asset.keys],
        resources=build_resources(),
        instance=instance or DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        run_config=run_config,
    )


def expected_kpis(days: int, start: dt.date = START, seed: int = 42) -> dict:
    return daily_kpis(
        {
            (start + dt.timedelta(i)).isoformat(): sample_data.batch_csv(start + dt.timedelta(i), ROWS, seed)
            for i in range(days)
        }
    )


def expected_checks() -> set[tuple[AssetKey, str]]:
    """Every dbt test of the manifest (read as JSON, not through Dagster) on its model, and each delivery's check."""
    nodes = json.loads(retailer_dbt_project.manifest_path.read_text())["nodes"]
    dbt_tests = {
        (AssetKey(nodes[node["attached_node"]]["name"]), node["name"])
        for node in nodes.values()
        if node["resource_type"] == "test"
    }
    return dbt_tests | {(asset.key, ALL_DAYS_DELIVERED) for asset in (kpis_json, kpis_warehouse)}


def kpi_metadata(result, asset: str) -> dict:
    """{partition: metadata} of the dbt step's materializations of `asset`."""
    return {
        event.partition: event.metadata
        for event in result.asset_materializations_for_node("retailer_dbt_models")
        if event.asset_key == AssetKey(asset)
    }


def warehouse_kpis(env) -> dict:
    from dagster_project import kpis

    with kpis.read_only(env["DUCKDB_PATH"]) as conn:
        return kpis.daily_kpis(conn, dt.date(2000, 1, 1), dt.date(2100, 1, 1))


def test_a_three_day_range_in_one_run(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=3, rows=ROWS)
    instance = DagsterInstance.ephemeral()

    result = materialize_range(THREE_DAYS[0], THREE_DAYS[-1], instance=instance)

    assert result.success
    # A single-run backfill: each asset's step ran once for the whole range, and each day materialized once.
    steps = [event.step_key for event in result.all_events if event.event_type_value == "STEP_START"]
    assert sorted(steps) == sorted(asset.op.name for asset in ASSETS)
    assert all(asset.backfill_policy == BackfillPolicy.single_run() for asset in ASSETS)
    materialized = Counter((event.asset_key, event.partition) for event in result.get_asset_materialization_events())
    assert materialized == {(key, day): 1 for asset in ASSETS for key in asset.keys for day in THREE_DAYS}
    expected = expected_kpis(3)
    # KPI values in DuckDB
    assert_kpis_match(warehouse_kpis(pipeline_env), expected)
    # JSON objects in S3
    client = sample_data.s3_client(settings)
    for day, values in expected.items():
        body = client.get_object(Bucket=settings.s3_bucket, Key=f"kpis/{day}.json")["Body"].read()
        document = json.loads(body)
        assert document["date"] == day
        assert_kpis_match({day: document}, {day: values})
        # The same bytes as the hand-written delivery wrote for these batches, before the IO managers
        assert body.decode() == HAND_WRITTEN_DELIVERY["json_documents"][day]
    # dbt tests as asset checks, all passed
    checks = result.get_asset_check_evaluations()
    assert sorted((check.asset_key, check.check_name) for check in checks) == sorted(expected_checks())
    assert [check.check_name for check in checks if not check.passed] == []
    # Numeric metadata per partition, as the UI charts it, rounded for people: money to cents, ratios to 4 digits
    events = kpi_metadata(result, "kpi_daily")
    assert sorted(events) == sorted(expected)
    for day, values in expected.items():
        assert events[day]["revenue"].value == round(values["revenue"], 2)
        assert events[day]["units_sold"].value == values["units_sold"]
        assert events[day]["average_sales_price"].value == round(values["average_sales_price"], 2)
        assert events[day]["profit_margin"].value == round(values["profit_margin"], 4)
        assert events[day]["order_lines"].value == ROWS
    # ... and the same figures on each KPI's own asset
    for name in ("revenue", "units_sold", "average_sales_price"):
        own = kpi_metadata(result, name)
        assert {day: own[day][name].value for day in own} == {day: events[day][name].value for day in expected}
    assert "data:image/png;base64," in events["2023-08-04"]["kpi_trend"].value
    row_counts = {
        event.partition: event.metadata["dagster/row_count"].value
        for event in result.asset_materializations_for_node("retailer_dbt_models")
        if event.asset_key == AssetKey("fct_sales_lines")
    }
    assert row_counts == {day: ROWS for day in expected}
    # Without WAREHOUSE_URL the DuckDB file is the warehouse, reported, not failed
    warehouse_events = result.asset_materializations_for_node("kpis_warehouse")
    assert {event.partition for event in warehouse_events} == set(expected)
    assert "DuckDB file" in warehouse_events[0].metadata["warehouse"].value
    # A downstream asset reads both deliveries back through their IO managers (the warehouse: the DuckDB file)
    READ_BACK.clear()
    with_reader = [*ASSETS, deliveries_read_back]
    first, last = THREE_DAYS[0], THREE_DAYS[-1]
    read = materialize_range(first, last, [AssetKey("deliveries_read_back")], instance, assets=with_reader)
    assert read.success
    delivered = {day: HAND_WRITTEN_DELIVERY["kpi_daily_rows"][day] for day in THREE_DAYS}
    assert [{"kpis_json": delivered, "kpis_warehouse": delivered}] == READ_BACK


def materialization_count(instance, key: str) -> int:
    return len(instance.fetch_materializations(AssetKey(key), limit=1000).records)


@pytest.mark.slow
def test_a_kpi_alone_for_a_loaded_day_re_runs_nothing_upstream(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=2, rows=ROWS)
    instance = DagsterInstance.ephemeral()
    assert materialize_range("2023-08-02", "2023-08-03", instance=instance).success
    upstream = ("operational_data", "fct_sales_lines", "revenue", "units_sold")
    before = {key: materialization_count(instance, key) for key in (*upstream, "average_sales_price")}
    # The retailer overwrites a loaded day's file: re-auditing or reloading it would change the KPI.
    client = sample_data.s3_client(settings)
    key = sample_data.batch_key(settings, dt.date(2023, 8, 3))
    client.put_object(Bucket=settings.s3_bucket, Key=key, Body=sample_data.batch_csv(START, ROWS, seed=7).encode())

    result = materialize_range(
        "2023-08-03", "2023-08-03", selection=[AssetKey("average_sales_price")], instance=instance
    )

    assert result.success
    assert {key: materialization_count(instance, key) for key in upstream} == {key: before[key] for key in upstream}
    assert materialization_count(instance, "average_sales_price") == before["average_sales_price"] + 1
    steps = [event.step_key for event in result.all_events if event.event_type_value == "STEP_START"]
    assert steps == ["retailer_dbt_models"]
    with duckdb.connect(pipeline_env["DUCKDB_PATH"], read_only=True) as conn:
        [(price,)] = conn.execute(
            "select average_sales_price from average_sales_price where date = '2023-08-03'"
        ).fetchall()
    assert price == pytest.approx(expected_kpis(2)["2023-08-03"]["average_sales_price"], rel=1e-9)


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_a_backfill_with_the_keys_in_a_named_profile_of_a_credentials_file(pipeline_env, no_static_keys, monkeypatch):
    """No static keys: boto3 (the audit, the JSON files) and DuckDB (dbt) take them from the AWS credential chain."""
    credentials = no_static_keys / "credentials"
    credentials.write_text("[retailer]\naws_access_key_id = profile-key\naws_secret_access_key = profile-secret\n")
    monkeypatch.setenv("AWS_PROFILE", "retailer")
    settings = load_settings()
    assert not settings.has_static_keys
    sample_data.upload(settings, START, count=3, rows=ROWS)

    result = materialize_range("2023-08-02", "2023-08-04")

    assert result.success
    expected = expected_kpis(3)
    assert_kpis_match(warehouse_kpis(pipeline_env), expected)
    client = sample_data.s3_client(settings)
    for day, values in expected.items():
        document = json.loads(client.get_object(Bucket=settings.s3_bucket, Key=f"kpis/{day}.json")["Body"].read())
        assert_kpis_match({day: document}, {day: values})
    # The emulator accepts any keys: that DuckDB reads the profile's own is checked in test_s3_credentials.py.
    assert client._request_signer._credentials.access_key == "profile-key"


@pytest.mark.slow
def test_run_config_points_a_run_at_another_bucket(pipeline_env, monkeypatch):
    other_bucket = pipeline_env["S3_BUCKET"] + "-other"
    monkeypatch.setenv("S3_BUCKET", other_bucket)
    sample_data.upload(load_settings(), START, count=2, rows=ROWS, seed=99)
    monkeypatch.setenv("S3_BUCKET", pipeline_env["S3_BUCKET"])
    sample_data.ensure_bucket(sample_data.s3_client(load_settings()), pipeline_env["S3_BUCKET"])

    config = RunConfig(
        {"operational_data": OperationalDataConfig(source_data_path=f"s3://{other_bucket}/operational_data")}
    )
    result = materialize_range("2023-08-02", "2023-08-03", run_config=config)

    assert result.success
    assert_kpis_match(warehouse_kpis(pipeline_env), expected_kpis(2, seed=99))


def test_warehouse_upsert_into_a_real_postgres(pipeline_env, postgres_server, monkeypatch):
    import psycopg2

    url = postgres_server.create_database("workshop_assets_test")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    sample_data.upload(load_settings(), START, count=3, rows=ROWS)

    assert materialize_range("2023-08-02", "2023-08-04").success
    assert materialize_range("2023-08-03", "2023-08-04").success  # upsert again: still one row a day

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"select date::text, {', '.join(KPI_COLUMNS)} from kpi_daily order by date")
        rows = cursor.fetchall()
    expected = expected_kpis(3)
    assert [row[0] for row in rows] == sorted(expected)
    for day, revenue, units, price, *_ in rows:
        assert revenue == pytest.approx(expected[day]["revenue"], rel=1e-9)
        assert units == expected[day]["units_sold"]
        assert price == pytest.approx(expected[day]["average_sales_price"], rel=1e-9)
    # The same rows as the hand-written delivery wrote for these batches, before the IO managers
    before = HAND_WRITTEN_DELIVERY["postgres_rows"]
    assert {row[0]: list(row[1:]) for row in rows} == {day: before[day] for day in expected}


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_the_sensor_requests_exactly_the_new_days(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=2, rows=ROWS)
    s3 = build_resources()["s3"]

    first = new_batch_sensor(build_sensor_context(cursor=None, resources={"s3": s3}))
    assert [request.partition_key for request in first.run_requests] == ["2023-08-02", "2023-08-03"]
    assert first.cursor == "2023-08-03"

    nothing = new_batch_sensor(build_sensor_context(cursor=first.cursor, resources={"s3": s3}))
    assert "no new batch" in nothing.skip_message

    sample_data.upload(settings, dt.date(2023, 8, 4), count=1, rows=ROWS)
    second = new_batch_sensor(build_sensor_context(cursor=first.cursor, resources={"s3": s3}))
    assert [request.partition_key for request in second.run_requests] == ["2023-08-04"]
