"""Check of "Try it" 1.13 (make check ASSIGNMENT=ch1-13): a numeric metadata value, plotted over runs."""

from dagster import materialize

from chapter_1.assets import WEEK_START
from chapter_1.data_dir import LocalDataDir, read_stock_rows
from chapter_1.metadata import sales_report


def test_sales_report_reports_the_average_sale(tmp_path):
    result = materialize([sales_report], resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))})
    metadata = result.asset_materializations_for_node("reports__sales_report")[0].metadata
    assert "average_sale" in metadata, "sales_report reports no average_sale metadata yet"
    rows = read_stock_rows(tmp_path / "stock_files" / f"{WEEK_START.isoformat()}.csv")
    expected = round(sum(float(row["Sales"]) for row in rows) / len(rows), 2)
    found = metadata["average_sale"].value
    assert isinstance(found, int | float), f"average_sale is {found!r}: a number is plotted, text is not"
    assert found == expected, f"average_sale is {found}, not {expected}"
