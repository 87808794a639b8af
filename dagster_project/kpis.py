"""Reading the built KPIs back from DuckDB: for metadata, delivery and `make run`'s table."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import duckdb

KPI_COLUMNS = (
    "revenue",
    "units_sold",
    "average_sales_price",
    "order_lines",
    "profit",
    "profit_margin",
    "average_discount",
)


def read_only(path) -> duckdb.DuckDBPyConnection:
    """Readers never take DuckDB's single writer lock."""
    return duckdb.connect(str(path), read_only=True)


def daily_kpis(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict[str, dict]:
    """{YYYY-MM-DD: {kpi: value}} of kpi_daily for [start, end)."""
    rows = conn.execute(
        f"select strftime(date, '%Y-%m-%d'), {', '.join(KPI_COLUMNS)} from main.kpi_daily "
        "where date >= ? and date < ? order by date",
        [start, end],
    ).fetchall()
    return {row[0]: dict(zip(KPI_COLUMNS, row[1:], strict=True)) for row in rows}


def rows_per_day(conn: duckdb.DuckDBPyConnection, table: str, column: str, start: dt.date, end: dt.date):
    """{YYYY-MM-DD: row count} of `table` for [start, end). Table and column are our own model names."""
    rows = conn.execute(
        f"select strftime({column}, '%Y-%m-%d'), count(*) from main.{table} "
        f"where {column} >= ? and {column} < ? group by 1",
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
