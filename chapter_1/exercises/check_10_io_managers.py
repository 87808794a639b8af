"""Check of "Try it" 1.10 (make check ASSIGNMENT=ch1-10): an IO manager that stores CSV files."""

import csv

from dagster import FilesystemIOManager, materialize

from chapter_1.assets import WEEK_START
from chapter_1.data_dir import LocalDataDir, read_stock_rows
from chapter_1.io_managers import category_totals, top_category
from tooling.workshop import require


def test_csv_io_manager_writes_and_reads_back(tmp_path):
    csv_io_manager = require("chapter_1.io_managers", "CsvFileIOManager")
    result = materialize(
        [category_totals, top_category],
        resources={
            "io_manager": FilesystemIOManager(base_dir=str(tmp_path / "storage")),
            # category_totals' io_manager_key, given the CSV one instead of the JSON one.
            "json_io_manager": csv_io_manager(base_dir=str(tmp_path / "csv")),
            "data_dir": LocalDataDir(base_dir=str(tmp_path / "data")),
        },
    )
    path = tmp_path / "csv" / "reports" / "category_totals.csv"
    assert path.exists(), "CsvFileIOManager wrote no <base_dir>/reports/category_totals.csv"
    with path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == ["key", "value"], f"the CSV's header is {header}, not ['key', 'value']"
    expected: dict[str, int] = {}
    for row in read_stock_rows(tmp_path / "data" / "stock_files" / f"{WEEK_START.isoformat()}.csv"):
        expected[row["Category"]] = expected.get(row["Category"], 0) + int(row["Quantity"])
    stored = {key: int(value) for key, value in rows}
    assert stored == expected, f"the CSV holds {stored}, not {expected}"
    best = max(expected, key=lambda category: expected[category])
    top = result.output_for_node("reports__top_category")
    assert top == {"category": best, "units": expected[best]}, f"top_category read back {top}: load_input is wrong"
