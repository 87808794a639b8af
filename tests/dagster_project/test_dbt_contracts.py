"""The dbt project's shape, read from its manifest: typed contracts on the marts, dbt's own incremental strategy."""

import json

from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.project import retailer_dbt_project
from dagster_project.settings import DBT_PROJECT_DIR

MARTS = {"fct_sales_lines", "revenue", "units_sold", "average_sales_price", "kpi_daily", "kpi_daily_breakdown"}


def models() -> dict[str, dict]:
    nodes = json.loads(retailer_dbt_project.manifest_path.read_text())["nodes"].values()
    return {node["name"]: node for node in nodes if node["resource_type"] == "model"}


def test_every_mart_has_an_enforced_contract_with_a_type_per_column():
    marts = {name: node for name, node in models().items() if node["config"]["materialized"] != "ephemeral"}
    assert set(marts) == MARTS
    for name, node in marts.items():
        assert node["config"]["contract"]["enforced"], name
        untyped = [column for column, info in node["columns"].items() if not info.get("data_type")]
        assert node["columns"] and not untyped, f"{name}: columns without data_type: {untyped}"


def column_schema(spec) -> list:
    """The columns of an asset spec's `dagster/column_schema` metadata (the standard key the UI reads)."""
    return spec.metadata["dagster/column_schema"].columns


def test_the_dagster_assets_carry_the_column_types():
    """What the UI's Columns table shows: dagster-dbt reads the types from the contract."""
    specs = {spec.key.path[-1]: spec for spec in retailer_dbt_models.specs}
    assert {column.name: column.type for column in column_schema(specs["kpi_daily"])} == {
        "date": "date",
        "revenue": "double",
        "units_sold": "bigint",
        "average_sales_price": "double",
        "order_lines": "bigint",
        "profit": "double",
        "profit_margin": "double",
        "average_discount": "double",
    }
    for kpi, data_type in (("revenue", "double"), ("units_sold", "bigint"), ("average_sales_price", "double")):
        columns = [(column.name, column.type) for column in column_schema(specs[kpi])]
        assert columns == [("date", "date"), (kpi, data_type)]


def test_the_marts_use_dbts_delete_insert_on_their_day_column():
    for name in MARTS:
        config = models()[name]["config"]
        assert config["incremental_strategy"] == "delete+insert", name
        assert config["unique_key"] == ("sales_date" if name == "fct_sales_lines" else "date"), name
    hand_written = [path for path in DBT_PROJECT_DIR.rglob("*.sql") if "delete from" in path.read_text().lower()]
    assert hand_written == [], "deletes belong to the incremental strategy, not to hooks"


def test_shared_column_texts_come_from_docs_blocks():
    nodes = models()
    assert (
        nodes["kpi_daily"]["columns"]["revenue"]["description"] == nodes["revenue"]["columns"]["revenue"]["description"]
    )
    assert nodes["kpi_daily"]["columns"]["revenue"]["description"].startswith("Revenue: the sum of Sales")
    for model in ("kpi_daily", "revenue", "fct_sales_lines", "stg_sales_lines"):
        assert (
            DBT_PROJECT_DIR / "models" / ("staging" if model.startswith("stg") else "marts") / f"{model}.yml"
        ).exists()
