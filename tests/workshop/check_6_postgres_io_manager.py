"""Check of assignment 6 (make check ASSIGNMENT=6): PostgresTimeSeriesIOManager upserts one row per day into the
warehouse's kpi_daily in a real PostgreSQL, a range in one transaction, and loads the rows back."""

import psycopg2

from dagster_project.kpis import KPI_COLUMNS
from tests.support.delivered_assets import delivered_asset, reader_asset
from tests.support.kpi_reference import HAND_WRITTEN_DELIVERY
from tests.support.workshop_checks import run_days, why_it_failed

DAYS = ["2023-08-02", "2023-08-03", "2023-08-04"]
ROWS = {day: HAND_WRITTEN_DELIVERY["kpi_daily_rows"][day] for day in DAYS}
IO_MANAGER = "postgres_time_series_io_manager"


def warehouse(url: str) -> dict:
    """{day: [KPI values..., loaded_at]} of the table, or {} when it does not exist."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("select to_regclass('kpi_daily')")
        if cursor.fetchone()[0] is None:
            return {}
        cursor.execute(f"select date::text, {', '.join(KPI_COLUMNS)}, loaded_at from kpi_daily order by date")
        return {row[0]: list(row[1:]) for row in cursor.fetchall()}


def test_each_day_is_one_row_upserted_in_postgres_and_comes_back(pipeline_env, postgres_server, monkeypatch):
    url = postgres_server.create_database("workshop_check_6")
    monkeypatch.setenv("WAREHOUSE_URL", url)

    stored = run_days(DAYS, ["delivered"], assets=[delivered_asset(IO_MANAGER, ROWS)])

    assert stored.success, f"storing {DAYS[0]}...{DAYS[-1]} through {IO_MANAGER}: {why_it_failed(stored)}"
    rows = warehouse(url)
    assert rows, "the warehouse has no table kpi_daily: create it when it is missing (self.ddl())"
    expected = {day: HAND_WRITTEN_DELIVERY["postgres_rows"][day] for day in DAYS}
    assert {day: row[:-1] for day, row in rows.items()} == expected, (
        f"kpi_daily holds {sorted(rows)}: one row per day of the run, its date and KPIs, expected {sorted(expected)}"
    )
    assert len({row[-1] for row in rows.values()}) == 1, "the days were not written in one transaction (loaded_at)"

    # Delivered again with another revenue: the same rows, updated, not duplicated.
    changed = {day: {**row, "revenue": row["revenue"] + 1} for day, row in ROWS.items()}
    again = run_days(DAYS, ["delivered"], assets=[delivered_asset(IO_MANAGER, changed)])
    assert again.success, f"delivering {DAYS[0]}...{DAYS[-1]} a second time: {why_it_failed(again)}"
    revenues = {day: row[KPI_COLUMNS.index("revenue")] for day, row in warehouse(url).items()}
    assert revenues == {day: row["revenue"] for day, row in changed.items()}, (
        f"after a second delivery kpi_daily's revenues are {revenues}: upsert (ON CONFLICT (date) DO UPDATE)"
    )

    received: list = []
    loaded = run_days(DAYS, ["reader"], assets=[delivered_asset(IO_MANAGER, {}), reader_asset(received)])
    assert loaded.success, f"loading {DAYS[0]}...{DAYS[-1]} back for a downstream asset: {why_it_failed(loaded)}"
    assert received == [changed], f"a downstream asset received {received[0] if received else None}, not {changed}"
