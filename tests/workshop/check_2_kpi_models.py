"""Check of assignment 2 (make check ASSIGNMENT=2): revenue, units_sold and average_sales_price, one dbt model and
one asset each, right for every day; and one of them materialized alone re-runs nothing upstream."""

import math

import duckdb
from dagster import AssetKey, DagsterInstance

from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.settings import load_settings
from tests.support.kpi_reference import daily_kpis
from tests.support.workshop_checks import DAYS, ROWS, START, batches, materialized, run_days, why_it_failed
from tooling import sample_data

KPIS = {
    "revenue": "the sum of Sales of the day's lines",
    "units_sold": "the sum of Quantity of the day's lines",
    "average_sales_price": "revenue / units_sold",
}
LINEAGE = {
    "revenue": {"fct_sales_lines"},
    "units_sold": {"fct_sales_lines"},
    "average_sales_price": set(KPIS) - {"average_sales_price"},
}
UPSTREAM = ["operational_data", "fct_sales_lines"]


def test_each_kpi_is_its_own_asset_right_for_every_day(pipeline_env):
    for model, parents in LINEAGE.items():
        found = {key.path[-1] for key in retailer_dbt_models.asset_deps.get(AssetKey(model), set())}
        assert found == parents, f"{model} reads {sorted(found) or 'nothing'}, not {sorted(parents)}: ref() them"
    settings = load_settings()
    sample_data.upload(settings, START, count=len(DAYS), rows=ROWS)
    instance = DagsterInstance.ephemeral()

    result = run_days(DAYS, [*UPSTREAM, *KPIS], instance=instance)

    expected = daily_kpis(batches())
    with duckdb.connect(settings.duckdb_path.as_posix(), read_only=True) as conn:
        for model, meaning in KPIS.items():
            try:
                rows = dict(conn.execute(f"select strftime(date, '%Y-%m-%d'), {model} from main.{model}").fetchall())
            except duckdb.Error:
                raise AssertionError(f"dbt did not build {model}: {why_it_failed(result)}") from None
            missing = [day for day in DAYS if day not in rows]
            assert not missing, f"{model} has no row for {', '.join(missing)}: one row per day, {meaning}"
            for day in DAYS:
                assert rows[day] is not None and math.isclose(rows[day], expected[day][model], rel_tol=1e-9), (
                    f"{model} of {day} is {rows[day]}, expected {expected[day][model]} ({meaning})"
                )
    assert result.success, f"materializing the KPIs for {DAYS[0]}...{DAYS[-1]}: {why_it_failed(result)}"

    # One KPI alone, for a day already loaded: nothing upstream runs again.
    before = {key: materialized(instance, key) for key in UPSTREAM}
    alone = run_days(DAYS[1:], ["average_sales_price"], instance=instance)
    assert alone.success, f"materializing average_sales_price alone for {DAYS[1]}: {why_it_failed(alone)}"
    again = [key for key in UPSTREAM if materialized(instance, key) != before[key]]
    assert not again, f"materializing average_sales_price alone also materialized {', '.join(again)}"
