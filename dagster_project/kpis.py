"""Reading the built KPIs back from the warehouse dbt builds: for metadata, delivery and `make run`'s table.

The SQL is the same on both targets: a DuckDB connection, or a Postgres cursor behind DuckDB's interface
(resources.QmarkCursor), both with dbt's tables in the schema `main`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import duckdb

# The KPIs of kpi_daily, in table order, with their type in the Postgres warehouse (the contract of its table
# kpi_daily): a ratio is null on a day whose denominator is zero.
KPI_WAREHOUSE_TYPES = {
    "revenue": "double precision not null",
    "units_sold": "bigint not null",
    "average_sales_price": "double precision",
    "order_lines": "bigint not null",
    "profit": "double precision not null",
    "profit_margin": "double precision",
    "average_discount": "double precision",
}
KPI_COLUMNS = tuple(KPI_WAREHOUSE_TYPES)
# The KPI models that hold one KPI each, table `main.<name>(date, <name>)`, one row per day.
KPI_MODELS = ("revenue", "units_sold", "average_sales_price")
# Digits kept when a KPI is shown to people (asset metadata, the UI's plots): money to cents, ratios to 4 digits,
# counts as they are. The delivered JSON and warehouse rows keep full precision.
DISPLAY_DIGITS = {
    "revenue": 2,
    "profit": 2,
    "average_sales_price": 2,
    "profit_margin": 4,
    "average_discount": 4,
}


def read_only(path) -> duckdb.DuckDBPyConnection:
    """Readers never take DuckDB's single writer lock."""
    return duckdb.connect(str(path), read_only=True)


def daily_kpis(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict[str, dict]:
    """{YYYY-MM-DD: {kpi: value}} of kpi_daily for [start, end)."""
    rows = conn.execute(
        f"select cast(date as varchar), {', '.join(KPI_COLUMNS)} from main.kpi_daily "
        "where date >= ? and date < ? order by date",
        [start, end],
    ).fetchall()
    return {row[0]: dict(zip(KPI_COLUMNS, row[1:], strict=True)) for row in rows}


def for_people(name: str, value: float | int) -> float | int:
    """A KPI rounded as people read it (38350.22, not 38350.22000000001); counts stay integers."""
    return round(float(value), DISPLAY_DIGITS[name]) if name in DISPLAY_DIGITS else int(value)


def model_kpi(conn: duckdb.DuckDBPyConnection, model: str, start: dt.date, end: dt.date) -> dict[str, float]:
    """{YYYY-MM-DD: value} of one KPI model (`main.<model>(date, <model>)`) for [start, end)."""
    if model not in KPI_MODELS:
        raise ValueError(f"{model} is not a KPI model: {', '.join(KPI_MODELS)}")
    rows = conn.execute(
        f"select cast(date as varchar), {model} from main.{model} where date >= ? and date < ? order by date",
        [start, end],
    ).fetchall()
    return dict(rows)


def rows_per_day(conn: duckdb.DuckDBPyConnection, table: str, column: str, start: dt.date, end: dt.date):
    """{YYYY-MM-DD: row count} of `table` for [start, end). Table and column are our own model names."""
    rows = conn.execute(
        f"select cast({column} as varchar), count(*) from main.{table} where {column} >= ? and {column} < ? group by 1",
        [start, end],
    ).fetchall()
    return dict(rows)


def trend(conn: duckdb.DuckDBPyConnection, end: dt.date, days: int = 90) -> list[tuple]:
    """(date, revenue, units_sold, average_sales_price) of the `days` days before `end`."""
    return conn.execute(
        "select date, revenue, units_sold, average_sales_price from main.kpi_daily "
        "where date >= ? and date < ? order by date",
        [end - dt.timedelta(days=days), end],
    ).fetchall()


def kpi_json(day: str, kpis: Mapping[str, float]) -> bytes:
    """The delivered document for one day: one JSON object, the date and every KPI."""
    return json.dumps({"date": day, **kpis}, sort_keys=True, separators=(",", ":")).encode()
