"""Which warehouse dbt builds (DBT_TARGET), and what follows from it, without a server: the profile's outputs, the
Postgres connection variables derived from WAREHOUSE_URL, the pools, the landing's SQL. The real runs on
PostgreSQL are in test_postgres_landing.py and test_scale_out_postgres.py."""

from __future__ import annotations

import pytest
import yaml

from dagster_project import postgres_landing
from dagster_project.batch_audit import EXPECTED_COLUMNS
from dagster_project.constants import DUCKDB_POOL
from dagster_project.resources import QmarkCursor, build_resources, warehouse_pool
from dagster_project.settings import DBT_PROJECT_DIR, load_settings
from tooling import dbt_env

URL = "postgresql://kpis:s3cr%40t@db.example:6543/warehouse"


@pytest.fixture
def postgres_target(monkeypatch):
    monkeypatch.setenv("DBT_TARGET", "postgres")
    monkeypatch.setenv("WAREHOUSE_URL", URL)


def test_the_profile_has_both_outputs_and_dbt_target_picks_one():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["retailer_kpis"]
    assert set(profile["outputs"]) == {"duckdb", "postgres"}
    assert "env_var('DBT_TARGET', 'duckdb')" in profile["target"]
    postgres = profile["outputs"]["postgres"]
    assert postgres["type"] == "postgres" and postgres["schema"] == "main"
    # Every connection field comes from a variable settings.py derives from WAREHOUSE_URL; the password is one dbt
    # scrubs from its logs.
    for field in ("host", "port", "user", "dbname", "connect_timeout"):
        assert "env_var('DBT_WAREHOUSE_" in postgres[field], field
    assert "env_var('DBT_ENV_SECRET_WAREHOUSE_PASSWORD'" in postgres["password"]


def test_duckdb_is_the_default_target(monkeypatch):
    monkeypatch.delenv("DBT_TARGET", raising=False)
    settings = load_settings()
    assert settings.dbt_target == "duckdb" and not settings.on_postgres
    assert settings.dbt_environment() == {"DBT_TARGET": "duckdb"}  # dbt's own --target variable: always set
    assert warehouse_pool(settings) == DUCKDB_POOL
    assert build_resources(settings)["duckdb"].postgres is None


def test_the_postgres_target_gets_its_connection_from_warehouse_url(postgres_target):
    settings = load_settings()
    assert settings.on_postgres
    assert settings.dbt_environment() == {
        "DBT_TARGET": "postgres",
        "DBT_WAREHOUSE_HOST": "db.example",
        "DBT_WAREHOUSE_PORT": "6543",
        "DBT_WAREHOUSE_USER": "kpis",
        "DBT_ENV_SECRET_WAREHOUSE_PASSWORD": "s3cr@t",  # percent-decoded by libpq's parser
        "DBT_WAREHOUSE_DBNAME": "warehouse",
        "DBT_WAREHOUSE_CONNECT_TIMEOUT": "10",
    }
    assert "export DBT_ENV_SECRET_WAREHOUSE_PASSWORD=s3cr@t\n" in dbt_env.exports()
    # No pool: a server has many writers. The readers of dbt's tables go to the warehouse.
    assert warehouse_pool(settings) is None
    assert build_resources(settings)["duckdb"].postgres is not None


def test_a_key_value_warehouse_url_works_too(monkeypatch):
    monkeypatch.setenv("DBT_TARGET", "POSTGRES")
    monkeypatch.setenv("WAREHOUSE_URL", "host=10.0.0.5 dbname=kpis user=etl password=pw")
    env = load_settings().dbt_environment()
    assert (env["DBT_WAREHOUSE_HOST"], env["DBT_WAREHOUSE_PORT"], env["DBT_WAREHOUSE_DBNAME"]) == (
        "10.0.0.5",
        "5432",
        "kpis",
    )


@pytest.mark.parametrize(
    ("target", "url", "message"),
    [
        ("snowflake", URL, "DBT_TARGET must be one of duckdb, postgres"),
        ("postgres", "", "set WAREHOUSE_URL"),
        ("postgres", "host=x password='secret-part", "not a connection string libpq can parse"),
    ],
)
def test_a_wrong_target_is_refused_naming_the_variable(monkeypatch, target, url, message):
    monkeypatch.setenv("DBT_TARGET", target)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    with pytest.raises(ValueError, match=message) as error:
        load_settings()
    assert "secret-part" not in str(error.value)


def test_the_landing_copies_the_snapshot_columns_with_the_day_and_the_snapshot_uri():
    assert list(postgres_landing.RAW_COLUMNS) == ["batch_date", *EXPECTED_COLUMNS, "filename"]
    copy = postgres_landing.copy_sql()
    assert copy.startswith('copy main.daily_batches ("batch_date", "Ship Mode"')
    assert copy.endswith('"filename") from stdin with (format csv, header true)')
    assert postgres_landing.delete_day_sql() == "delete from main.daily_batches where batch_date = %s"
    ddl = postgres_landing.ddl()
    # Runs of different days landing at once: the DDL is serialized by a transaction lock, first.
    assert ddl[0].startswith("select pg_advisory_xact_lock(")
    assert '"Quantity" integer' in ddl[2] and '"Sales" double precision' in ddl[2]


def test_qmark_cursor_runs_duckdb_style_sql_on_a_psycopg2_cursor():
    class Recorder:  # a unit test of the translation only; the real cursor is in test_postgres_landing.py
        def __init__(self):
            self.calls = []

        def execute(self, sql, params):
            self.calls.append((sql, params))

        def executemany(self, sql, rows):
            self.calls.append((sql, rows))

    cursor = Recorder()
    QmarkCursor(cursor).execute("select a from t where d >= ? and d < ?", ["x", "y"])
    QmarkCursor(cursor).execute("select 1")
    QmarkCursor(cursor).executemany("insert into t values (?, ?)", [(1, 2)])
    assert cursor.calls == [
        ("select a from t where d >= %s and d < %s", ["x", "y"]),
        ("select 1", None),
        ("insert into t values (%s, %s)", [(1, 2)]),
    ]
