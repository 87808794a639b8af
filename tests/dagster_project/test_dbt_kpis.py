"""The dbt layer end to end: real S3 over HTTP (moto), the audit's snapshots, real `dbt build`, real DuckDB."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.settings import DBT_PROJECT_DIR, load_settings
from tests.support.dbt_cli import DBT, assert_ok, audit_and_build, dbt_build, isolated, warehouse_kpis
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tooling import sample_data

KPI_MODELS = ("revenue", "units_sold", "average_sales_price")
MART_MODELS = {"fct_sales_lines", "revenue", "units_sold", "average_sales_price", "kpi_daily", "kpi_daily_breakdown"}


@pytest.fixture
def dbt_env(pipeline_env, tmp_path) -> dict:
    """The documented environment, with dbt's artifacts and logs in the test's folder: never in dbt_project/."""
    return isolated(pipeline_env, tmp_path)


@pytest.mark.slow
def test_real_batches_give_the_same_kpis_as_an_independent_computation(dbt_env, real_batches_dir):
    keys = sample_data.upload_folder(load_settings(), real_batches_dir)
    assert len(keys) == 39

    assert_ok(audit_and_build(dbt_env, "2023-08-02", "2023-09-10"))

    expected = daily_kpis({p.parent.name: p.read_text() for p in real_batches_dir.glob("*/stock.csv")})
    actual = warehouse_kpis(dbt_env)
    assert_kpis_match(actual, expected)
    # Figures of the first day checked by hand (awk over the file): 80 lines, 296 units, 14,567.32 revenue.
    assert actual["2023-08-02"]["order_lines"] == 80
    assert actual["2023-08-02"]["units_sold"] == 296
    assert round(actual["2023-08-02"]["revenue"], 2) == 14567.32

    # The workshop's three KPI models, one table and one row per day each, against exact decimal arithmetic.
    exact = exact_kpis(real_batches_dir)
    assert len(exact) == 39
    with duckdb.connect(dbt_env["DUCKDB_PATH"], read_only=True) as conn:
        for name in KPI_MODELS:
            rows = conn.execute(f"select strftime(date, '%Y-%m-%d'), {name} from main.{name} order by 1").fetchall()
            assert [day for day, _ in rows] == sorted(exact), f"{name}: not one row per day"
            for day, value in rows:
                assert math.isclose(value, exact[day][name], rel_tol=1e-9), f"{name} {day}: {value}, {exact[day][name]}"
                assert value == actual[day][name], f"kpi_daily.{name} differs from the {name} model on {day}"


def exact_kpis(folder: Path) -> dict[str, dict[str, Decimal]]:
    """{day: revenue, units_sold, average_sales_price} from the CSV files, in exact decimal arithmetic (no SQL)."""
    result = {}
    for path in folder.glob("*/stock.csv"):
        with path.open(newline="", encoding="utf-8") as lines:
            rows = list(csv.DictReader(lines))
        revenue = sum((Decimal(row["Sales"]) for row in rows), Decimal(0))
        units = sum(int(row["Quantity"]) for row in rows)
        result[path.parent.name] = {"revenue": revenue, "units_sold": units, "average_sales_price": revenue / units}
    return result


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_generated_batches_and_rerunning_a_window_never_duplicates(dbt_env):
    start = dt.date(2024, 1, 30)
    sample_data.upload(load_settings(), start, count=5, rows=250, seed=7)
    expected = daily_kpis(
        {
            (start + dt.timedelta(days=i)).isoformat(): sample_data.batch_csv(start + dt.timedelta(i), 250, 7)
            for i in range(5)
        }
    )

    assert_ok(audit_and_build(dbt_env, "2024-01-30", "2024-02-04"))
    first = warehouse_kpis(dbt_env)
    assert_kpis_match(first, expected)

    # Re-run a window inside the loaded range: replaced in place, not appended.
    assert_ok(dbt_build(dbt_env, "2024-01-31", "2024-02-02"))
    assert warehouse_kpis(dbt_env) == first
    with duckdb.connect(dbt_env["DUCKDB_PATH"], read_only=True) as conn:
        per_day = dict(conn.execute("select sales_date, count(*) from fct_sales_lines group by 1").fetchall())
        breakdown = conn.execute("select sum(order_lines), sum(revenue) from kpi_daily_breakdown").fetchone()
    assert sorted(per_day.values()) == [250] * 5
    assert breakdown[0] == 5 * 250
    assert abs(breakdown[1] - sum(k["revenue"] for k in expected.values())) < 1e-6


@pytest.mark.slow
def test_only_the_windows_files_are_read(dbt_env):
    """A window whose days are in S3 builds even when other days of the bucket are unreadable."""
    settings = load_settings()
    sample_data.upload(settings, dt.date(2024, 3, 1), count=2, rows=80)
    client = sample_data.s3_client(settings)
    client.put_object(
        Bucket=settings.s3_bucket,
        Key=sample_data.batch_key(settings, dt.date(2024, 3, 3)),
        Body=b"not;a;valid;batch\n",
    )

    assert_ok(audit_and_build(dbt_env, "2024-03-01", "2024-03-03"))
    assert sorted(warehouse_kpis(dbt_env)) == ["2024-03-01", "2024-03-02"]

    compiled = (
        Path(dbt_env["DBT_TARGET_PATH"]) / "compiled" / "retailer_kpis" / "models" / "marts" / "fct_sales_lines.sql"
    ).read_text()
    # Only the window's audited snapshots: one key per day, never a listing of the bucket.
    assert "/snapshots/operational_data/2024-03-01/" in compiled and "/operational_data/2024-03-02/" in compiled
    assert "stock.csv" not in compiled
    assert "2024-03-03" not in compiled.replace("date '2024-03-03'", "")


@pytest.mark.slow
def test_a_mart_alone_is_refused_for_days_not_loaded(dbt_env):
    settings = load_settings()
    sample_data.upload(settings, dt.date(2024, 5, 1), count=2, rows=80)
    assert_ok(audit_and_build(dbt_env, "2024-05-01", "2024-05-02"))

    result = dbt_build(dbt_env, "2024-05-01", "2024-05-03", "--select", "kpi_daily")

    assert result.returncode != 0
    assert "fct_sales_lines has no rows for 2024-05-02" in result.stdout
    assert sorted(warehouse_kpis(dbt_env)) == ["2024-05-01"]


@pytest.mark.slow
def test_dbt_docs_generate(dbt_env):
    sample_data.upload(load_settings(), dt.date(2024, 6, 1), count=1, rows=80)
    assert_ok(audit_and_build(dbt_env, "2024-06-01", "2024-06-02"))
    result = subprocess.run(
        [DBT, "docs", "generate"],
        cwd=DBT_PROJECT_DIR,
        env=dbt_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_ok(result)
    target = Path(dbt_env["DBT_TARGET_PATH"])
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(models) == {"stg_sales_lines", *MART_MODELS}
    for model in models.values():
        assert model["description"], f"{model['name']} has no description"
        assert all(col["description"] for col in model["columns"].values()), model["name"]
    # The catalog reads the built tables: every table's columns are the documented ones (ephemeral staging has none).
    tables = {node["metadata"]["name"]: node for node in catalog["nodes"].values()}
    assert set(tables) == MART_MODELS
    for name, table in tables.items():
        assert {column.lower() for column in table["columns"]} == set(models[name]["columns"]), name
