"""Write-audit-publish end to end: bad batches never reach delivered KPIs, and what was delivered stays."""

import datetime as dt
import json
import threading
import time

import duckdb
import psutil
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from dagster_project import kpis
from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.bad_batches import BAD_BATCHES
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tooling import local_s3, sample_data
from tooling.processes import free_port

ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]
START = dt.date(2023, 8, 2)
ROWS = 90


def day(offset: int) -> str:
    return (START + dt.timedelta(days=offset)).isoformat()


def run_range(first: str, last: str):
    return materialize(
        ASSETS,
        selection=[key for asset in ASSETS for key in asset.keys],
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )


def snapshot(env, url: str | None, client, bucket: str, days: list[str]) -> dict:
    """Everything delivered for `days`: JSON bytes, kpi_daily rows, warehouse rows (with loaded_at), rows by column."""
    import psycopg2

    with duckdb.connect(env["DUCKDB_PATH"], read_only=True) as conn:
        cursor = conn.execute("select * from kpi_daily order by date")
        kpi_rows = {str(row["date"]): row for row in by_name(cursor.description, cursor.fetchall())}
        # The one-KPI models (main.revenue, ...) belong to what was delivered: kept beside the day's row.
        for model in kpis.KPI_MODELS:
            for d, value in conn.execute(f"select strftime(date, '%Y-%m-%d'), {model} from {model}").fetchall():
                kpi_rows[d][f"{model} model"] = value
    json_objects = {}
    for d in days:
        try:
            json_objects[d] = client.get_object(Bucket=bucket, Key=f"kpis/{d}.json")["Body"].read()
        except client.exceptions.NoSuchKey:
            json_objects[d] = None
    warehouse = {}
    if url:
        with psycopg2.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("select * from kpi_daily order by date")
            warehouse = {str(row["date"]): row for row in by_name(cursor.description, cursor.fetchall())}
    return {d: (json_objects[d], kpi_rows.get(d), warehouse.get(d)) for d in days}


def by_name(description, rows) -> list[dict]:
    """DB-API rows as {column name: value}, so a check never depends on the column order."""
    names = [column[0] for column in description]
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_every_bad_batch_is_quarantined_and_what_was_delivered_stays(pipeline_env, postgres_server, monkeypatch):
    url = postgres_server.create_database("wap_test")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    settings = load_settings()
    client = sample_data.s3_client(settings)
    cases = sorted(BAD_BATCHES)
    days = [day(i) for i in range(len(cases) + 1)]  # one day per bad case, and a last good day
    sample_data.upload(settings, START, count=len(days), rows=ROWS)
    assert run_range(days[0], days[-1]).success
    before = snapshot(pipeline_env, url, client, settings.s3_bucket, days)
    assert all(all(part is not None for part in delivered) for delivered in before.values())
    assert all(f"{model} model" in row for _, row, _ in before.values() for model in kpis.KPI_MODELS)

    # Each of the first days gets one kind of bad batch; the last day gets a corrected (different) good batch.
    for case, bad_day in zip(cases, days, strict=False):
        make, _ = BAD_BATCHES[case]
        key = sample_data.batch_key(settings, dt.date.fromisoformat(bad_day))
        if make is None:
            client.delete_object(Bucket=settings.s3_bucket, Key=key)
        else:
            good = client.get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read()
            client.put_object(Bucket=settings.s3_bucket, Key=key, Body=make(good))
    corrected = sample_data.batch_csv(dt.date.fromisoformat(days[-1]), ROWS, seed=7)
    client.put_object(
        Bucket=settings.s3_bucket,
        Key=sample_data.batch_key(settings, dt.date.fromisoformat(days[-1])),
        Body=corrected.encode(),
    )

    result = run_range(days[0], days[-1])

    # The run delivers the good day and reports every bad one, by day, key, problem and fix.
    assert result.success
    checks = {(c.asset_key, c.check_name): c for c in result.get_asset_check_evaluations()}
    delivery_check = checks[(AssetKey("kpis_json"), "all_days_delivered")]
    assert not delivery_check.passed
    report = delivery_check.description
    for case, bad_day in zip(cases, days, strict=False):
        uri = f"s3://{settings.s3_bucket}/operational_data/{bad_day}/stock.csv"
        assert f"{bad_day}: {uri} was quarantined" in report
        assert BAD_BATCHES[case][1] in report, case
    assert not checks[(AssetKey("kpis_warehouse"), "all_days_delivered")].passed

    after = snapshot(pipeline_env, url, client, settings.s3_bucket, days)
    for bad_day in days[:-1]:
        assert after[bad_day] == before[bad_day], f"{bad_day} changed although its batch was quarantined"
    # The good day was re-delivered with the corrected batch's KPIs, everywhere.
    expected = daily_kpis({days[-1]: corrected})
    json_doc, duckdb_row, warehouse_row = after[days[-1]]
    assert_kpis_match({days[-1]: json.loads(json_doc)}, expected)
    assert_kpis_match({days[-1]: duckdb_row}, expected)
    assert [duckdb_row[f"{model} model"] for model in kpis.KPI_MODELS] == [duckdb_row[m] for m in kpis.KPI_MODELS]
    assert_kpis_match({days[-1]: warehouse_row}, expected)
    with duckdb.connect(pipeline_env["DUCKDB_PATH"], read_only=True) as conn:
        statuses = dict(conn.execute("select strftime(date, '%Y-%m-%d'), status from batch_audit").fetchall())
    assert [statuses[d] for d in days] == ["quarantined"] * len(cases) + ["ok"]


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_a_bad_new_day_is_never_delivered_and_the_other_days_are(pipeline_env):
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.upload(settings, START, count=3, rows=ROWS)
    bad_key = sample_data.batch_key(settings, START + dt.timedelta(days=1))
    client.put_object(Bucket=settings.s3_bucket, Key=bad_key, Body=b"Ship Mode;Segment\nFirst;Consumer\n")

    result = run_range(day(0), day(2))

    assert result.success
    with duckdb.connect(pipeline_env["DUCKDB_PATH"], read_only=True) as conn:
        kpi_days = [str(row[0]) for row in conn.execute("select date from kpi_daily order by date").fetchall()]
        fct_days = [
            str(r[0]) for r in conn.execute("select distinct sales_date from fct_sales_lines order by 1").fetchall()
        ]
    assert kpi_days == fct_days == [day(0), day(2)]
    keys = {obj["Key"] for obj in client.list_objects_v2(Bucket=settings.s3_bucket, Prefix="kpis/")["Contents"]}
    assert keys == {f"kpis/{day(0)}.json", f"kpis/{day(2)}.json"}


def test_a_window_of_only_bad_days_fails_with_the_reasons(pipeline_env):
    settings = load_settings()
    sample_data.ensure_bucket(sample_data.s3_client(settings), settings.s3_bucket)

    result = run_range(day(0), day(1))

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.user_failure_data.description
    assert "Every batch of the window failed its audit" in message
    assert f"{day(0)}: s3://{settings.s3_bucket}/operational_data/{day(0)}/stock.csv was quarantined" in message
    assert "no batch was found at that key" in message


def _kill_s3_when_dbt_starts(moto_process, stop: threading.Event) -> None:
    """Stop the S3 emulator as soon as dbt is reading from it: a fault in the middle of the backfill."""
    me = psutil.Process()
    while not stop.is_set():
        if any("dbt" in " ".join(child.cmdline()) for child in me.children(recursive=True) if _alive(child)):
            moto_process.kill()
            return
        time.sleep(0.05)


def _alive(process) -> bool:
    try:
        return process.is_running()
    except psutil.Error:
        return False


@pytest.mark.slow
def test_s3_going_away_mid_backfill_fails_clearly_and_a_rerun_matches_an_undisturbed_run(
    pipeline_env, tmp_path, monkeypatch
):
    endpoint = f"http://127.0.0.1:{free_port()}"
    moto = local_s3.start_server(endpoint)
    monkeypatch.setenv("S3_ENDPOINT_URL", endpoint)
    settings = load_settings()
    try:
        sample_data.upload(settings, START, count=5, rows=ROWS)
        stop = threading.Event()
        killer = threading.Thread(target=_kill_s3_when_dbt_starts, args=(moto, stop))
        killer.start()
        failed = run_range(day(0), day(4))
        stop.set()
        killer.join()

        assert not failed.success
        failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
        message = failure.step_failure_data.error.to_string() if failure.step_failure_data.error else ""
        user = failure.step_failure_data.user_failure_data
        message += user.description if user and user.description else ""
        assert "S3" in message and "re-run" in message

        # S3 comes back (the emulator keeps no data: the retailer's files are there again), re-run.
        moto = local_s3.start_server(endpoint)
        sample_data.upload(settings, START, count=5, rows=ROWS)
        assert run_range(day(0), day(4)).success
        rerun = snapshot(
            pipeline_env, None, sample_data.s3_client(settings), settings.s3_bucket, [day(i) for i in range(5)]
        )
    finally:
        moto.kill()

    # An undisturbed run of the same batches, in a fresh warehouse and bucket, delivers the same bytes.
    monkeypatch.setenv("S3_ENDPOINT_URL", pipeline_env["S3_ENDPOINT_URL"])
    monkeypatch.setenv("S3_BUCKET", pipeline_env["S3_BUCKET"] + "-calm")
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "calm.duckdb"))
    calm_settings = load_settings()
    sample_data.upload(calm_settings, START, count=5, rows=ROWS)
    assert run_range(day(0), day(4)).success
    calm_env = {**pipeline_env, "DUCKDB_PATH": str(tmp_path / "calm.duckdb")}
    calm = snapshot(
        calm_env, None, sample_data.s3_client(calm_settings), calm_settings.s3_bucket, [day(i) for i in range(5)]
    )
    assert rerun == calm
