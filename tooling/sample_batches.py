"""The retailer's daily batch, generated: deterministic in (day, rows, seed), no S3, no project settings.

The repository cannot ship third-party data, so both chapters run on these. Chapter 1 imports only this module;
tooling/sample_data.py writes the batches to folders or S3 for Chapter 2. The generator writes the retailer's
format on its own (HEADER): it stands in for the retailer, and Chapter 2's audit checks its output against the
agreed contract (dagster_project/batch_audit.py) like any other file (tests/tooling/test_sample_batches.py).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import numpy as np

# The first line of the retailer's export: its columns, in order.
HEADER = "Ship Mode,Segment,Country,City,State,Postal Code,Region,Category,Sub-Category,Sales,Quantity,Discount,Profit"
SHIP_MODES = (("Standard Class", 0.6), ("Second Class", 0.19), ("First Class", 0.16), ("Same Day", 0.05))
SEGMENTS = (("Consumer", 0.52), ("Corporate", 0.30), ("Home Office", 0.18))
# (city, state, postal code, region)
STORES = (
    ("New York City", "New York", "10035", "East"),
    ("Philadelphia", "Pennsylvania", "19140", "East"),
    ("Boston", "Massachusetts", "02215", "East"),
    ("Columbus", "Ohio", "43229", "East"),
    ("Los Angeles", "California", "90036", "West"),
    ("San Francisco", "California", "94109", "West"),
    ("Seattle", "Washington", "98105", "West"),
    ("Denver", "Colorado", "80219", "West"),
    ("Houston", "Texas", "77095", "Central"),
    ("Chicago", "Illinois", "60610", "Central"),
    ("Dallas", "Texas", "75217", "Central"),
    ("Detroit", "Michigan", "48227", "Central"),
    ("Jacksonville", "Florida", "32216", "South"),
    ("Atlanta", "Georgia", "30318", "South"),
    ("Louisville", "Kentucky", "40214", "South"),
)
# (category, sub-category, typical unit price, weight in the mix)
PRODUCTS = (
    ("Furniture", "Bookcases", 130.0, 0.02),
    ("Furniture", "Chairs", 150.0, 0.07),
    ("Furniture", "Furnishings", 30.0, 0.10),
    ("Furniture", "Tables", 170.0, 0.03),
    ("Office Supplies", "Appliances", 60.0, 0.05),
    ("Office Supplies", "Art", 8.0, 0.08),
    ("Office Supplies", "Binders", 25.0, 0.15),
    ("Office Supplies", "Envelopes", 15.0, 0.03),
    ("Office Supplies", "Fasteners", 4.0, 0.02),
    ("Office Supplies", "Labels", 4.0, 0.04),
    ("Office Supplies", "Paper", 14.0, 0.14),
    ("Office Supplies", "Storage", 60.0, 0.09),
    ("Office Supplies", "Supplies", 30.0, 0.02),
    ("Technology", "Accessories", 55.0, 0.08),
    ("Technology", "Copiers", 600.0, 0.01),
    ("Technology", "Machines", 250.0, 0.01),
    ("Technology", "Phones", 95.0, 0.06),
)
DISCOUNTS = ((0.0, 0.48), (0.1, 0.05), (0.2, 0.37), (0.3, 0.02), (0.4, 0.03), (0.5, 0.02), (0.7, 0.03))


def _weights(pairs) -> np.ndarray:
    weights = np.array([weight for *_, weight in pairs], dtype=float)
    return weights / weights.sum()


def batch_csv(day: dt.date, rows: int = 100, seed: int = 42) -> str:
    """One day's batch as CSV text (header + `rows` sales lines), deterministic in (day, rows, seed)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng([seed, day.toordinal()])
    ship = rng.choice(len(SHIP_MODES), rows, p=_weights(SHIP_MODES))
    segment = rng.choice(len(SEGMENTS), rows, p=_weights(SEGMENTS))
    store = rng.integers(0, len(STORES), rows)
    product = rng.choice(len(PRODUCTS), rows, p=_weights(PRODUCTS))
    discount = np.array([d for d, _ in DISCOUNTS])[rng.choice(len(DISCOUNTS), rows, p=_weights(DISCOUNTS))]
    quantity = rng.integers(1, 15, rows)
    unit_price = np.array([p[2] for p in PRODUCTS])[product] * rng.lognormal(0.0, 0.45, rows)
    sales = np.round(unit_price * quantity * (1 - discount), 2)
    sales = np.maximum(sales, 0.01)
    # Margins shrink with the discount and go negative past ~30 %, as in real retail data.
    margin = rng.normal(0.25, 0.08, rows) - 1.1 * discount
    profit = np.round(sales * margin, 4)

    out = io.StringIO()
    out.write(HEADER + "\n")
    for i in range(rows):
        city, state, postal_code, region = STORES[store[i]]
        category, sub_category, _, _ = PRODUCTS[product[i]]
        out.write(
            f"{SHIP_MODES[ship[i]][0]},{SEGMENTS[segment[i]][0]},United States,{city},{state},{postal_code},"
            f"{region},{category},{sub_category},{sales[i]:.2f},{quantity[i]},{discount[i]:g},{profit[i]:.4f}\n"
        )
    return out.getvalue()


def days(start: dt.date, count: int) -> Iterator[dt.date]:
    for offset in range(count):
        yield start + dt.timedelta(days=offset)
