"""Check of "Try it" 1.2 (make check ASSIGNMENT=ch1-2): an asset stock/monthly_stock built after weekly_stock."""

import json

from dagster import AssetKey, materialize

from chapter_1.assets import daily_stock, weekly_stock
from chapter_1.data_dir import LocalDataDir
from chapter_1.definitions import defs
from tooling.workshop import require

MONTHLY = AssetKey(["stock", "monthly_stock"])


def test_monthly_stock_depends_on_weekly_stock_and_quadruples_it(tmp_path):
    monthly_stock = require("chapter_1.assets", "monthly_stock")
    assert monthly_stock.key == MONTHLY, f"its key is {monthly_stock.key.to_user_string()}, not stock/monthly_stock"
    group = monthly_stock.group_names_by_key[MONTHLY]
    assert group == "stock_pipeline", f"its group is {group}, not stock_pipeline"
    graph = defs.resolve_asset_graph()
    assert MONTHLY in graph.get_all_asset_keys(), "stock/monthly_stock is not registered in chapter_1/definitions.py"
    parents = {key.to_user_string() for key in graph.get(MONTHLY).parent_keys}
    assert parents == {"stock/weekly_stock"}, f"its deps are {sorted(parents)}, not ['stock/weekly_stock']"

    result = materialize(
        [daily_stock, weekly_stock, monthly_stock], resources={"data_dir": LocalDataDir(base_dir=str(tmp_path))}
    )
    weekly = json.loads((tmp_path / "weekly_stock" / "weekly_stock.json").read_text())
    path = tmp_path / "monthly_stock" / "monthly_stock.json"
    assert path.exists(), "monthly_stock wrote no <data dir>/monthly_stock/monthly_stock.json"
    expected = {category: units * 4 for category, units in weekly.items()}
    assert json.loads(path.read_text()) == expected, f"monthly_stock.json holds {path.read_text()}, not {expected}"
    metadata = result.asset_materializations_for_node("stock__monthly_stock")[0].metadata
    assert "total_quantity" in metadata, "monthly_stock reports no total_quantity metadata"
    total = metadata["total_quantity"].value
    assert total == 4 * sum(weekly.values()), f"total_quantity is {total}, not {4 * sum(weekly.values())}"
