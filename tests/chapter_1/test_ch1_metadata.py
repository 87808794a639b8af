from dagster import MetadataValue, materialize

from chapter_1.assets import WEEK_START
from chapter_1.data_dir import LocalDataDir, read_stock_rows, rows_for_day
from chapter_1.metadata import sales_report


def test_materialization_metadata_values(tmp_path):
    result = materialize([sales_report], resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))})
    assert result.success
    metadata = result.asset_materializations_for_node("reports__sales_report")[0].metadata

    rows = read_stock_rows(tmp_path / "stock_files" / f"{WEEK_START.isoformat()}.csv")
    assert metadata["row_count"] == MetadataValue.int(rows_for_day(WEEK_START))
    assert metadata["total_sales"].value == round(sum(float(row["Sales"]) for row in rows), 2)

    table = metadata["summary"].value
    assert table.splitlines()[0] == "| Category | Units | Sales |"
    furniture_units = sum(int(row["Quantity"]) for row in rows if row["Category"] == "Furniture")
    assert f"| Furniture | {furniture_units} |" in table

    report = tmp_path / "reports" / "sales_report.md"
    assert metadata["report_path"] == MetadataValue.path(str(report))
    assert table in report.read_text()
    assert metadata["source"].value.startswith("https://")


def test_definition_metadata():
    spec_metadata = sales_report.specs_by_key[sales_report.key].metadata
    assert spec_metadata["owner_team"] == "retail-analytics"
    assert spec_metadata["docs"].value.startswith("https://docs.dagster.io/")
