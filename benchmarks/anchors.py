"""The anchors of `make bench`: raw DuckDB on the batches in S3, the floors the pipeline is compared with.

Anchor A: the daily KPIs in one query. No Dagster, no dbt, no warehouse file: an in-memory DuckDB reads the
window's files (one key per day, typed columns, the same way the project's staging model reads them) and
aggregates them. The floor a pipeline of the same data cannot go below.

Anchor A' (`--store DUCKDB_FILE`): this design's storage work, raw: the window's files into a table shaped like
`fct_sales_lines` (renamed, typed, with the day and the source file) in a DuckDB file, then the daily KPI table
built from it, as dbt's models do, minus dbt, Dagster and the checks.

The bench runs each as its own process so its wall time includes Python's start-up, like the pipeline's runs.

    python -m benchmarks.anchors --first 2023-08-02 --days 39 --out kpis.json
    python -m benchmarks.anchors --first 2023-08-02 --days 39 --out kpis.json --store /tmp/anchor.duckdb

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


def _read_batches(files: list[str]) -> str:
    columns = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in BATCH_COLUMNS.items())
    file_list = ", ".join(_literal(path) for path in files)
    return (
        f"read_csv([{file_list}], header = true, delim = ',', quote = '\"', auto_detect = false, filename = true, "
        f"columns = {{{columns}}})"
    )


def store_sql(files: list[str]) -> list[str]:
    """Anchor A': the lines into a fct_sales_lines-shaped table, then kpi_daily from it."""
    if not files:
        raise ValueError("no file to read")
    renamed = ", ".join(f'"{name}" as {name.lower().replace(" ", "_").replace("-", "_")}' for name in BATCH_COLUMNS)
    return [
        "create or replace table fct_sales_lines as select "
        "cast(regexp_extract(filename, '/(\\d{4}-\\d{2}-\\d{2})/[^/]+$', 1) as date) as sales_date, "
        f"{renamed}, filename as source_file from {_read_batches(files)}",
        "create or replace table kpi_daily as select sales_date as date, sum(sales) as revenue, "
        "cast(sum(quantity) as bigint) as units_sold, sum(sales) / nullif(sum(quantity), 0) as average_sales_price, "
        "count(*) as order_lines, sum(profit) as profit, sum(profit) / nullif(sum(sales), 0) as profit_margin, "
        "avg(discount) as average_discount from fct_sales_lines group by sales_date",
    ]


def run_store(conn, files: list[str]) -> dict[str, dict[str, float]]:
    """{YYYY-MM-DD: {kpi: value}} read back from the kpi_daily table anchor A' builds on `conn`."""
    for statement in store_sql(files):
        conn.execute(statement)
    names = ", ".join(KPI_NAMES)
    rows = conn.execute(f"select strftime(date, '%Y-%m-%d'), {names} from kpi_daily order by date").fetchall()
    return {row[0]: dict(zip(KPI_NAMES, row[1:], strict=True)) for row in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first", type=dt.date.fromisoformat, required=True, help="first day of the window")
    parser.add_argument("--days", type=int, required=True, help="number of days of the window")
    parser.add_argument("--out", type=Path, required=True, help="where to write the KPIs as JSON")
    parser.add_argument("--store", type=Path, help="anchor A': build the tables in this (new) DuckDB file")
    args = parser.parse_args(argv)

    from dagster_project import duckdb_s3
    from dagster_project.settings import load_settings

    settings = load_settings()
    conn = duckdb_s3.connect(settings, database=str(args.store) if args.store else ":memory:")
    files = batch_uris(settings.source_uri, args.first, args.days)
    if args.store:  # the memory DuckDB gets when dbt builds (settings.py, DUCKDB_MEMORY_LIMIT)
        conn.execute("set memory_limit = ?", [settings.duckdb_memory_limit])
    try:
        result = run_store(conn, files) if args.store else run_query(conn, files)
    finally:
        conn.close()
    args.out.write_text(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
