"""A graph-backed asset: one asset whose computation is split into several ops.

Useful when a single asset needs steps you want to see, retry or reuse separately. The asset graph
shows one node; open it to see the ops inside.
"""

import csv
import datetime as dt
import io

from dagster import OpExecutionContext, graph_asset, op

from tooling.sample_batches import batch_csv

SAMPLE_DAY = dt.date(2023, 8, 2)


@op
def fetch_sample_csv() -> str:
    # 20 deterministic rows: small enough to read in the logs.
    return batch_csv(SAMPLE_DAY, rows=20)


@op
def count_units_per_category(context: OpExecutionContext, csv_text: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(csv_text)):
        totals[row["Category"]] = totals.get(row["Category"], 0) + int(row["Quantity"])
    context.log.info(f"units per category: {totals}")
    return totals


@graph_asset(key_prefix="stock", group_name="graph_assets")
def units_per_category() -> dict[str, int]:
    """Units sold per category on the sample day, computed by two ops."""
    # As in any graph, this body only wires ops; the last op's output becomes the asset's value.
    return count_units_per_category(fetch_sample_csv())
