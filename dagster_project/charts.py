"""A KPI trend chart as markdown metadata: the UI shows it on the asset's page, no BI tool needed."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
import matplotlib.pyplot as plt  # noqa: E402


def trend_png(rows: list[tuple]) -> bytes:
    """Revenue (bars) and average sales price (line) per day, from kpis.trend() rows."""
    dates = [row[0] for row in rows]
    fig, revenue_axis = plt.subplots(figsize=(8, 3), dpi=80)
    revenue_axis.bar(dates, [row[1] for row in rows], color="#4F43DD", label="revenue")
    revenue_axis.set_ylabel("revenue")
    price_axis = revenue_axis.twinx()
    price_axis.plot(dates, [row[3] for row in rows], color="#E8590C", marker=".", label="avg sales price")
    price_axis.set_ylabel("average sales price")
    revenue_axis.set_title("Daily revenue and average sales price")
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def as_markdown(png: bytes, title: str = "KPI trend") -> str:
    return f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"
