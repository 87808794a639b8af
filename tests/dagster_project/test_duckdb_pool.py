"""DuckDB allows one writer: every step that opens the warehouse file must queue behind the one pool."""

from dagster_project.constants import DUCKDB_POOL
from dagster_project.definitions import defs
from tests.support.duckdb_steps import duckdb_resource_keys, ops_touching_duckdb


def test_every_step_touching_the_duckdb_file_declares_the_pool():
    # Not vacuous: the derivation finds dbt's CLI and DuckDBWarehouse, and the steps using them.
    assert duckdb_resource_keys(defs) >= {"dbt", "duckdb"}
    touching = ops_touching_duckdb(defs)
    assert {"retailer_dbt_models", "kpis_json", "kpis_warehouse"} <= set(touching), touching
    outside = {op: pool for op, pool in touching.items() if pool != DUCKDB_POOL}
    assert not outside, f"steps that open the DuckDB file outside the pool {DUCKDB_POOL!r}: {outside}"
