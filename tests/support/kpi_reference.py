"""KPIs computed independently of dbt: plain Python over the CSV files, to check the pipeline against."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path


def daily_kpis(batches: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """{day: kpis} from {day (YYYY-MM-DD): CSV text}."""
    result = {}
    for day, text in batches.items():
        rows = list(csv.DictReader(io.StringIO(text)))
        revenue = math.fsum(float(row["Sales"]) for row in rows)
        units = sum(int(row["Quantity"]) for row in rows)
        profit = math.fsum(float(row["Profit"]) for row in rows)
        result[day] = {
            "revenue": revenue,
            "units_sold": units,
            "average_sales_price": revenue / units,
            "order_lines": len(rows),
            "profit": profit,
            "profit_margin": profit / revenue,
            "average_discount": math.fsum(float(row["Discount"]) for row in rows) / len(rows),
        }
    return result


def assert_kpis_match(actual: Mapping[str, Mapping], expected: Mapping[str, Mapping], rel=1e-9) -> None:
    assert sorted(actual) == sorted(expected), "the days differ"
    for day, kpis in expected.items():
        for name, value in kpis.items():
            got = actual[day][name]
            assert math.isclose(got, value, rel_tol=rel), f"{day} {name}: got {got}, expected {value}"


def rows_by_day(rows: Iterable[tuple], columns: list[str]) -> dict[str, dict]:
    """[(date, kpi...)] from DuckDB into {YYYY-MM-DD: {kpi: value}}."""
    return {str(row[0]): dict(zip(columns[1:], row[1:], strict=True)) for row in rows}


# What the hand-written delivery assets wrote before the IO managers (its "about" says from which batches): the
# contract the IO managers keep, byte for byte and row for row.
HAND_WRITTEN_DELIVERY = json.loads(Path(__file__).with_name("hand_written_delivery.json").read_text())
