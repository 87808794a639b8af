"""A hung dependency fails the step fast and clearly, without retries that cannot help.

Real dependencies: a TCP listener on 127.0.0.1 that accepts and never answers (a hung S3 or Postgres), moto over
HTTP, real dbt and DuckDB, and a lock held on a real PostgreSQL from a second connection. No test times anything:
each asserts the configured timeouts are the ones applied, and what the failure says.
"""

import datetime as dt

import duckdb
import psycopg2
import pytest
from dagster import AssetKey, DagsterInstance, Failure, materialize

from dagster_project import duckdb_s3
from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.resources import PostgresWarehouse, build_resources, s3_timeouts_fail
from dagster_project.settings import load_settings
from tests.support.hung_endpoint import hung_listener
from tooling import sample_data

ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]
START = dt.date(2023, 8, 2)
SECRET = "pw-Hung-7f3e9"
FAST = {"S3_CONNECT_TIMEOUT": "1", "S3_READ_TIMEOUT": "1", "S3_MAX_ATTEMPTS": "2"}


def run(first: str, last: str, resources: dict, selection=None):
    return materialize(
        ASSETS,
        selection=selection or [key for asset in ASSETS for key in asset.keys],
        resources=resources,
        instance=DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )


def failure_and_retries(result) -> tuple[str, int]:
    """(the step failure's description, how many times a step was sent back for a retry)."""
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    user = failure.step_failure_data.user_failure_data
    retries = sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    return (user.description if user else failure.step_failure_data.error.to_string()), retries


def test_the_settings_are_the_timeouts_every_s3_client_and_duckdb_apply(pipeline_env, monkeypatch):
    monkeypatch.setenv("S3_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("S3_READ_TIMEOUT", "4")
    monkeypatch.setenv("S3_MAX_ATTEMPTS", "2")
    settings = load_settings()
    # boto3: Dagster's S3 resource (audit, JSON delivery, sensor) and the sample-data client
    for client in (build_resources()["s3"].get_client(), sample_data.s3_client(settings)):
        assert client.meta.config.connect_timeout == 3
        assert client.meta.config.read_timeout == 4
        assert client.meta.config.retries["total_max_attempts"] == 2
    # DuckDB's httpfs, as dbt's plugin and every Python reader configure it, on the cursors dbt-duckdb runs models
    # on too: 2 attempts = 1 retry
    with duckdb_s3.connect(settings, database=":memory:") as conn, conn.cursor() as cursor:
        for connection in (conn, cursor):
            assert connection.execute("select current_setting('http_timeout')").fetchone() == (4,)
            assert connection.execute("select current_setting('http_retries')").fetchone() == (1,)
    # Defaults when unset, and a clear message for a wrong value
    for name in ("S3_CONNECT_TIMEOUT", "S3_READ_TIMEOUT", "S3_MAX_ATTEMPTS"):
        monkeypatch.delenv(name)
    assert (load_settings().s3_connect_timeout, load_settings().s3_read_timeout) == (5, 10)
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="WAREHOUSE_LOCK_TIMEOUT must be a positive whole number"):
        load_settings()


def test_a_hung_s3_fails_the_audit_naming_s3_without_step_retries(pipeline_env, monkeypatch):
    with hung_listener() as (port, accepted):
        monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        for name, value in FAST.items():
            monkeypatch.setenv(name, value)

        result = run("2023-08-02", "2023-08-03", build_resources())

        assert not result.success
        message, retries = failure_and_retries(result)
        assert "S3 did not answer while auditing the window's batches" in message
        assert "S3_READ_TIMEOUT=1 s" in message and "S3_MAX_ATTEMPTS=2" in message
        assert retries == 0
        assert len(accepted) >= 2  # the client did try again before giving up


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_a_hung_s3_fails_dbts_reads_naming_s3_without_step_retries(pipeline_env, monkeypatch):
    sample_data.upload(load_settings(), START, count=2, rows=50)
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    resources = build_resources()  # the audit reads the real S3 (moto) ...
    with hung_listener() as (port, accepted):
        # ... and DuckDB, in dbt's process, a hung one: it reads the endpoint of the environment
        monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        # DuckDB in Python (on a cursor, as dbt-duckdb reads): a timeout, and the step's message for it
        reader = duckdb_s3.connect(load_settings(), database=":memory:")
        fails = pytest.raises(Failure, match="S3 did not answer while reading a batch: IO Error: Timeout was reached")
        with (
            reader,
            reader.cursor() as cursor,
            fails as failure,
            s3_timeouts_fail("reading a batch", resources["s3"]),
        ):
            cursor.execute("select count(*) from read_csv('s3://bucket/any/stock.csv')").fetchall()
        assert isinstance(failure.value.__cause__, duckdb.IOException) and not failure.value.allow_retries

        result = run("2023-08-02", "2023-08-03", resources)

        assert not result.success
        message, retries = failure_and_retries(result)
        assert "dbt could not read the snapshots from S3: S3 did not answer" in message
        assert "S3_READ_TIMEOUT=1 s" in message
        assert retries == 0
        assert accepted


def test_a_hung_postgres_fails_the_connection_after_its_timeout_without_the_password():
    with hung_listener() as (port, accepted):
        warehouse = PostgresWarehouse(url=f"postgresql://kpis:{SECRET}@127.0.0.1:{port}/kpis", connect_timeout=2)
        with pytest.raises(Failure) as failure, warehouse.transaction():
            pass
    assert "did not answer within WAREHOUSE_CONNECT_TIMEOUT=2 s" in failure.value.description
    assert f"postgresql://kpis@127.0.0.1:{port}/kpis" in failure.value.description
    assert SECRET not in failure.value.description
    assert not failure.value.allow_retries
    assert accepted


@pytest.mark.postgres
def test_the_warehouse_transaction_applies_its_timeouts_and_a_long_statement_is_cancelled(postgres_server):
    url = postgres_server.create_database("timeouts_statement")
    warehouse = PostgresWarehouse(url=url, statement_timeout=1, lock_timeout=3)
    with warehouse.transaction() as cursor:
        cursor.execute("show statement_timeout")
        assert cursor.fetchone() == ("1s",)
        cursor.execute("show lock_timeout")
        assert cursor.fetchone() == ("3s",)
    too_long = pytest.raises(Failure, match="ran longer than WAREHOUSE_STATEMENT_TIMEOUT=1 s")
    with too_long as failure, warehouse.transaction() as cursor:
        cursor.execute("select pg_sleep(30)")
    assert not failure.value.allow_retries


@pytest.mark.postgres
def test_a_held_lock_fails_the_warehouse_step_fast_and_the_next_run_proceeds(
    pipeline_env, postgres_server, monkeypatch
):
    url = postgres_server.create_database("timeouts_lock")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT", "1")
    sample_data.upload(load_settings(), START, count=2, rows=50)
    assert run("2023-08-02", "2023-08-03", build_resources()).success

    holder = psycopg2.connect(url)  # a second session holds the table, as a long migration or a stuck job would
    try:
        with holder.cursor() as cursor:
            cursor.execute(build_resources()["postgres_time_series_io_manager"].ddl())
            cursor.execute("lock table kpi_daily in access exclusive mode")
        locked = run("2023-08-02", "2023-08-03", build_resources(), selection=[AssetKey("kpis_warehouse")])
    finally:
        holder.rollback()
        holder.close()

    assert not locked.success  # the run ended: its pool slot is free for the next one
    message, retries = failure_and_retries(locked)
    assert "The Postgres warehouse postgresql://postgres@127.0.0.1" in message
    assert "not released within WAREHOUSE_LOCK_TIMEOUT=1 s" in message
    assert retries == 0
    # The next run, once the lock is gone, delivers.
    assert run("2023-08-02", "2023-08-03", build_resources(), selection=[AssetKey("kpis_warehouse")]).success
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("select count(*) from kpi_daily")
        assert cursor.fetchone() == (2,)
