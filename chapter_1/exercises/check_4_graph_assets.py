"""Check of "Try it" 1.4 (make check ASSIGNMENT=ch1-4): the graph-backed asset ends with an op that sorts."""

import csv
import io

from dagster import materialize_to_memory

from chapter_1.graph_assets import SAMPLE_DAY, units_per_category
from tooling.sample_batches import batch_csv
from tooling.workshop import require


def test_units_per_category_is_sorted_by_units():
    require("chapter_1.graph_assets", "sort_by_units")
    ops = units_per_category.node_def.node_names()
    assert "sort_by_units" in ops, f"units_per_category runs {sorted(ops)}: sort_by_units is not one of them"
    value = materialize_to_memory([units_per_category]).asset_value(units_per_category.key)
    units = list(value.values())
    assert units == sorted(units, reverse=True), f"the asset's value {value} is not ordered by units, largest first"
    expected: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(batch_csv(SAMPLE_DAY, rows=20))):
        expected[row["Category"]] = expected.get(row["Category"], 0) + int(row["Quantity"])
    assert value == expected, f"the totals changed: {value}, expected {expected}"
