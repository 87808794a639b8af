"""Assets: data you want to exist, declared with a key, a group and what it depends on.

Three assets model a small stock pipeline: daily stock files -> a weekly total -> a forecast for the
next month. Each writes its own file, so downstream assets declare ``deps`` (an ordering and lineage
edge) instead of receiving a Python value: nothing is passed through an IO manager.
"""

import datetime as dt
import json
from collections import Counter

from dagster import AssetExecutionContext, MaterializeResult, asset

from chapter_1.data_dir import LocalDataDir, ensure_stock_file, read_stock_rows

# The first week of the workshop's data (partitions of later lessons start on the same day).
WEEK_START = dt.date(2023, 8, 2)
WEEK_DAYS = [WEEK_START + dt.timedelta(days=offset) for offset in range(7)]


@asset(
    # key_prefix turns the key into stock/daily_stock: a folder in the asset catalog.
    key_prefix="stock",
    # group_name collects related assets into one box of the lineage graph.
    group_name="stock_pipeline",
    kinds={"csv"},
    description="One stock CSV per day of the first week.",
)
def daily_stock(context: AssetExecutionContext, data_dir: LocalDataDir) -> MaterializeResult:
    folder = data_dir.folder("daily_stock")
    paths = [ensure_stock_file(folder, day) for day in WEEK_DAYS]
    context.log.info(f"{len(paths)} daily files in {folder}")
    return MaterializeResult(metadata={"file_count": len(paths), "folder": str(folder)})


@asset(
    key_prefix="stock",
    group_name="stock_pipeline",
    # deps: "run after stock/daily_stock and show the edge", without loading its value.
    deps=[daily_stock],
    kinds={"json"},
    description="Units sold per category over the week.",
)
def weekly_stock(data_dir: LocalDataDir) -> MaterializeResult:
    folder = data_dir.folder("daily_stock")
    totals: Counter[str] = Counter()
    for day in WEEK_DAYS:
        for row in read_stock_rows(folder / f"{day.isoformat()}.csv"):
            totals[row["Category"]] += int(row["Quantity"])
    path = data_dir.folder("weekly_stock") / "weekly_stock.json"
    path.write_text(json.dumps(dict(sorted(totals.items())), indent=2))
    return MaterializeResult(metadata={"total_quantity": sum(totals.values()), "path": str(path)})


@asset(
    key_prefix="forecast",
    group_name="stock_pipeline",
    deps=[weekly_stock],
    kinds={"json"},
    description="Naive forecast of next month's units: the weekly rate times 30/7.",
)
def next_month_forecast(data_dir: LocalDataDir) -> MaterializeResult:
    weekly = json.loads((data_dir.folder("weekly_stock") / "weekly_stock.json").read_text())
    forecast = {category: round(quantity * 30 / 7) for category, quantity in weekly.items()}
    path = data_dir.folder("forecast") / "next_month_forecast.json"
    path.write_text(json.dumps(forecast, indent=2))
    return MaterializeResult(metadata={"forecast_total": sum(forecast.values()), "path": str(path)})
