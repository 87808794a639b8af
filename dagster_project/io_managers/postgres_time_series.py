"""Workshop assignment 6: a partitioned numeric time series in the Postgres warehouse, through an IO manager."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from numbers import Real

import duckdb
from dagster import (
    ConfigurableIOManager,
    Failure,
    InputContext,
    MetadataValue,
    OutputContext,
)

from dagster_project.io_managers.daily_values import DailyValues, complete, days_to_load, days_to_store
from dagster_project.resources import DuckDBWarehouse, PostgresWarehouse

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_SQL_TYPE = re.compile(r"[a-z][a-z ]*")  # e.g. "double precision not null": words only, nothing to inject


class PostgresTimeSeriesIOManager(ConfigurableIOManager):
    """Each day partition as one row of `table`: `date` (primary key), one numeric column per value, `loaded_at`.

    The run's days (one, or a whole single-run backfill) are upserted in ONE transaction, with parameterized
    `INSERT ... ON CONFLICT (date) DO UPDATE`: every day or none. The table is created when it does not exist.
    Without WAREHOUSE_URL the DuckDB file is the warehouse: nothing is written, and inputs are read from its
    table of the same name (so a downstream asset reading it then opens the DuckDB file: give it the DuckDB pool).
    """

    warehouse: PostgresWarehouse
    duckdb: DuckDBWarehouse
    table: str
    columns: dict[str, str]  # value column -> its Postgres type and constraint, in table order

    def ddl(self):
        from psycopg2 import sql

        columns = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in self._columns()]
        return sql.SQL(
            "create table if not exists {} (date date primary key, {}, loaded_at timestamptz not null default now())"
        ).format(sql.Identifier(self.table), sql.SQL(", ").join(columns))

    # >>> workshop 6 (stub: tooling/workshop_stubs/6_postgres_handle_output.stub)
    def handle_output(self, context: OutputContext, obj: DailyValues) -> None:
        rows = [(day, *self._row(day, obj[day])) for day in days_to_store(context, obj)]
        # Everything the step reports is rendered before the write: nothing can fail once the rows are committed.
        where = self.warehouse.describe()
        if not self.warehouse.enabled:
            context.log.info(f"WAREHOUSE_URL is not set: {self.table} in the DuckDB file is the warehouse.")
            context.add_output_metadata({"warehouse": where, "duckdb_path": MetadataValue.path(self.duckdb.path)})
            return
        from psycopg2.extras import execute_values

        context.add_output_metadata({"warehouse": where, "rows_upserted": len(rows)})
        with self.warehouse.transaction() as cursor:
            cursor.execute(self.ddl())
            if rows:
                execute_values(cursor, self._upsert(), rows)
        context.log.info(f"Upserted {len(rows)} day(s) into {self.table} at {where}.")

    # <<< workshop 6

    # >>> workshop 6 (stub: tooling/workshop_stubs/6_postgres_load_input.stub)
    def load_input(self, context: InputContext) -> DailyValues:
        days = days_to_load(context)
        if not days:
            return {}
        names = [name for name, _ in self._columns()]
        if not self.warehouse.enabled:
            return complete(context, self._read_duckdb(days, names), f"{self.table} in {self.duckdb.path}")
        from psycopg2 import sql

        query = sql.SQL("select date::text, {} from {} where date = any(%s::date[])").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(self.table)
        )
        with self.warehouse.transaction() as cursor:
            cursor.execute("select to_regclass(%s)", [self.table])
            rows = []
            if cursor.fetchone()[0] is not None:
                cursor.execute(query, [days])
                rows = cursor.fetchall()
        loaded = {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}
        return complete(context, loaded, f"{self.table} at {self.warehouse.describe()}")

    # <<< workshop 6

    def _columns(self) -> list[tuple[str, str]]:
        bad = [name for name, kind in self.columns.items() if not (_NAME.fullmatch(name) and _SQL_TYPE.fullmatch(kind))]
        if bad or not _NAME.fullmatch(self.table):
            raise Failure(
                description=f"The IO manager of table {self.table!r} is misconfigured: table and column names are "
                f"lowercase identifiers and types are words (e.g. 'double precision not null'); see {bad}.",
                allow_retries=False,
            )
        return list(self.columns.items())

    def _row(self, day: str, values: Mapping[str, object]) -> list:
        """The day's values in column order; anything but numbers (or None) fails before the database is touched."""
        names = [name for name, _ in self._columns()]
        wrong = set(values) ^ set(names)
        if wrong:
            raise Failure(
                description=f"{day}: the values for {self.table} must have exactly the columns {', '.join(names)}; "
                f"differs in {', '.join(sorted(wrong))}. Nothing was written.",
                allow_retries=False,
            )
        not_numbers = [name for name in names if not _is_number_or_none(values[name])]
        if not_numbers:
            raise Failure(
                description=f"{day}: {', '.join(f'{n}={values[n]!r}' for n in not_numbers)} is not a number "
                f"({self.table} is a numeric time series). Nothing was written.",
                allow_retries=False,
            )
        return [values[name] for name in names]

    def _upsert(self):
        from psycopg2 import sql

        names = [name for name, _ in self._columns()]
        return sql.SQL(
            "insert into {table} (date, {columns}) values %s "
            "on conflict (date) do update set {updates}, loaded_at = now()"
        ).format(
            table=sql.Identifier(self.table),
            columns=sql.SQL(", ").join(map(sql.Identifier, names)),
            updates=sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(name)) for name in names),
        )

    def _read_duckdb(self, days: list[str], names: list[str]) -> DailyValues:
        columns = ", ".join(f'"{name}"' for name in names)
        try:
            with self.duckdb.read_only() as conn:
                rows = conn.execute(
                    f"select strftime(date, '%Y-%m-%d'), {columns} from main.\"{self.table}\" "
                    "where date >= ? and date <= ?",
                    [dt.date.fromisoformat(min(days)), dt.date.fromisoformat(max(days))],
                ).fetchall()
        except (duckdb.CatalogException, duckdb.IOException):  # no table, or no file yet: nothing stored
            return {}
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows if row[0] in days}


def _is_number_or_none(value: object) -> bool:
    return value is None or (isinstance(value, Real) and not isinstance(value, bool))
