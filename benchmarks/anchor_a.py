"""Anchor A of `make bench`: the daily KPIs in one DuckDB query, straight from the batches in S3.

No Dagster, no dbt, no warehouse file: an in-memory DuckDB reads the window's files (one key per day, typed
columns, the same way the project's staging model reads them) and aggregates them. This is the floor a
pipeline of the same data cannot go below; the bench runs it as its own process so its wall time includes
Python's start-up, like the pipeline's runs.

    python benchmarks/anchor_a.py --first 2023-08-02 --days 39 --out kpis.json

The S3 endpoint, bucket and credentials come from the project's environment variables (settings.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from dagster_project import kpis

# The columns of a batch and their types, as in dbt_project/macros/daily_batches.sql.
BATCH_COLUMNS = {
    "Ship Mode": "varchar",
    "Segment": "varchar",
    "Country": "varchar",
    "City": "varchar",
    "State": "varchar",
    "Postal Code": "varchar",
    "Region": "varchar",
    "Category": "varchar",
    "Sub-Category": "varchar",
    "Sales": "double",
    "Quantity": "integer",
    "Discount": "double",
    "Profit": "double",
}
KPI_NAMES = kpis.KPI_COLUMNS


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def batch_uris(source_uri: str, first: dt.date, days: int) -> list[str]:
    """The S3 key of every day of the window: `<source_uri>/<YYYY-MM-DD>/stock.csv`."""
    return [f"{source_uri.rstrip('/')}/{(first + dt.timedelta(days=i)).isoformat()}/stock.csv" for i in range(days)]


def kpi_sql(files: list[str]) -> str:
    """One query: a row per day (taken from the file's folder) with the seven KPIs of kpi_daily."""
    if not files:
        raise ValueError("no file to read")
    columns = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in BATCH_COLUMNS.items())
    file_list = ", ".join(_literal(path) for path in files)
    return f"""
select
    strftime(cast(regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})/[^/]+$', 1) as date), '%Y-%m-%d') as day,
    sum("Sales") as revenue,
    cast(sum("Quantity") as bigint) as units_sold,
    sum("Sales") / nullif(sum("Quantity"), 0) as average_sales_price,
    count(*) as order_lines,
    sum("Profit") as profit,
    sum("Profit") / nullif(sum("Sales"), 0) as profit_margin,
    avg("Discount") as average_discount
from read_csv([{file_list}], header = true, delim = ',', quote = '"', auto_detect = false, filename = true,
              columns = {{{columns}}})
group by all
order by day
"""


def run_query(conn, files: list[str]) -> dict[str, dict[str, float]]:
    """{YYYY-MM-DD: {kpi: value}} of the files, on an open DuckDB connection."""
    rows = conn.execute(kpi_sql(files)).fetchall()
    return {row[0]: dict(zip(KPI_NAMES, row[1:], strict=True)) for row in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first", type=dt.date.fromisoformat, required=True, help="first day of the window")
    parser.add_argument("--days", type=int, required=True, help="number of days of the window")
    parser.add_argument("--out", type=Path, required=True, help="where to write the KPIs as JSON")
    args = parser.parse_args(argv)

    from dagster_project import duckdb_s3
    from dagster_project.settings import load_settings

    settings = load_settings()
    conn = duckdb_s3.connect(settings, database=":memory:")
    try:
        result = run_query(conn, batch_uris(settings.source_uri, args.first, args.days))
    finally:
        conn.close()
    args.out.write_text(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
