import csv
import io
import json
import pickle

from dagster import AssetKey, FilesystemIOManager, materialize

from chapter_1.assets import WEEK_START
from chapter_1.data_dir import LocalDataDir, rows_for_day
from chapter_1.definitions import defs
from chapter_1.io_managers import JsonFileIOManager, category_totals, top_category
from tooling.sample_batches import batch_csv


def units_per_category(text: str) -> dict[str, int]:
    """Computed here from the CSV text, independently of the asset."""
    totals: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        totals[row["Category"]] = totals.get(row["Category"], 0) + int(row["Quantity"])
    return totals


def _materialize(tmp_path):
    return materialize(
        [category_totals, top_category],
        resources={
            "io_manager": FilesystemIOManager(base_dir=str(tmp_path / "storage")),
            "json_io_manager": JsonFileIOManager(base_dir=str(tmp_path / "json")),
            "data_dir": LocalDataDir(base_dir=str(tmp_path / "data")),
        },
    )


def test_json_and_pickle_files_are_written_and_read_back(tmp_path):
    result = _materialize(tmp_path)
    assert result.success

    # JsonFileIOManager: <base_dir>/reports/category_totals.json, holding the units per category of the day's file
    json_file = tmp_path / "json" / "reports" / "category_totals.json"
    totals = json.loads(json_file.read_text())
    expected = units_per_category(batch_csv(WEEK_START, rows=rows_for_day(WEEK_START)))
    assert totals == expected

    # FilesystemIOManager: <base_dir>/reports/top_category (a pickle)
    with (tmp_path / "storage" / "reports" / "top_category").open("rb") as handle:
        top = pickle.load(handle)
    best = max(expected, key=lambda category: expected[category])
    assert top == {"category": best, "units": expected[best]}

    metadata = result.asset_materializations_for_node("reports__category_totals")[0].metadata
    assert metadata["path"].value == str(json_file)
    assert metadata["bytes"].value == json_file.stat().st_size


def test_downstream_input_is_loaded_by_the_json_io_manager(tmp_path):
    _materialize(tmp_path)
    # Rewrite the stored JSON: a new run of top_category alone must read this file, not recompute.
    json_file = tmp_path / "json" / "reports" / "category_totals.json"
    json_file.write_text(json.dumps({"Furniture": 1, "Technology": 99}))
    result = materialize(
        [category_totals, top_category],
        selection=[top_category],
        resources={
            "io_manager": FilesystemIOManager(base_dir=str(tmp_path / "storage")),
            "json_io_manager": JsonFileIOManager(base_dir=str(tmp_path / "json")),
            "data_dir": LocalDataDir(base_dir=str(tmp_path / "data")),
        },
    )
    assert result.output_for_node("reports__top_category") == {"category": "Technology", "units": 99}


def test_definitions_io_managers():
    assert isinstance(defs.resources["io_manager"], FilesystemIOManager)
    assert isinstance(defs.resources["json_io_manager"], JsonFileIOManager)
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey(["reports", "top_category"])).parent_keys == {category_totals.key}
