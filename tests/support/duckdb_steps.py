"""Which steps of a code location open the DuckDB warehouse file: derived from the definitions, never listed."""

from __future__ import annotations

from dagster import Definitions
from dagster_dbt import DbtCliResource

from dagster_project.resources import DuckDBWarehouse

# dbt's profile opens DUCKDB_PATH: a step running the dbt CLI writes the file as much as one holding DuckDBWarehouse.
DUCKDB_RESOURCE_TYPES = (DuckDBWarehouse, DbtCliResource)


def duckdb_resource_keys(defs: Definitions) -> set[str]:
    return {key for key, resource in defs.resources.items() if isinstance(resource, DUCKDB_RESOURCE_TYPES)}


def declared_pools(defs: Definitions) -> set[str]:
    return {op.pool for job in defs.resolve_all_job_defs() for op in job.graph.iterate_op_defs() if op.pool}


def ops_touching_duckdb(defs: Definitions) -> dict[str, str | None]:
    """{op name: its pool} of every op, in any job of `defs` (assets included), that requires a DuckDB resource."""
    keys = duckdb_resource_keys(defs)
    return {
        op.name: op.pool
        for job in defs.resolve_all_job_defs()
        for op in job.graph.iterate_op_defs()
        if op.required_resource_keys & keys
    }
