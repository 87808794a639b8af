"""The results: ratios, targets (PASS / MISS), the JSON document and the printed tables."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RESULTS_SCHEMA = 2


@dataclass(frozen=True)
class Target:
    """One target (issues #7, #14): `metric` of `size` (None: measured once, not per size) `op` `limit`."""

    size: str | None
    metric: str
    op: str  # "<=" or ">="
    limit: float
    label: str


TARGETS = (
    Target("year", "ratio_project_to_anchor_a", "<=", 8, "backfill (SQLite instance) / anchor A"),
    Target("year", "ratio_project_postgres_to_anchor_a", "<=", 8, "backfill (Postgres instance) / anchor A"),
    Target("year", "ratio_anchor_b_to_project", ">=", 100, "anchor B (one run a day) / backfill"),
    Target("year", "ratio_daily_to_dbt_floor", "<=", 2, "daily run / bare dbt build (dbt's floor)"),
    Target("10m", "ratio_project_to_anchor_a_store", "<=", 3, "backfill (SQLite instance) / anchor A'"),
    Target("10m", "project_peak_rss_mb", "<=", 1536, "peak RSS of the backfill's process tree, MiB (1.5 GiB)"),
    Target("10m", "ratio_daily_to_dbt_floor", "<=", 2, "daily run / bare dbt build (dbt's floor)"),
    Target(None, "code_location_load_s", "<=", 2, "chapter-2 code location load (import + Definitions), s"),
    Target(None, "ui_ready_s", "<=", 5, "local UI answers /server_info, s"),
)

# Keys every results file has, checked before the file is written (None when a figure could not be measured).
REQUIRED_SIZE_KEYS = (
    "rows",
    "anchor_a_s",
    "anchor_a_store_s",
    "anchor_b_extrapolated_s",
    "project_backfill_s",
    "project_backfill_postgres_s",
    "project_peak_rss_mb",
    "daily_run_s",
    "dbt_floor_s",
)
REQUIRED_TOP_KEYS = ("machine", "sizes", "code_location_load_s", "ui_ready_s", "targets")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def size_ratios(result: Mapping) -> dict[str, float | None]:
    """The ratios of one size's figures that the targets and the table use."""
    backfill = result.get("project_backfill_s")
    return {
        "ratio_project_to_anchor_a": ratio(backfill, result.get("anchor_a_s")),
        "ratio_project_postgres_to_anchor_a": ratio(
            result.get("project_backfill_postgres_s"), result.get("anchor_a_s")
        ),
        "ratio_project_to_anchor_a_store": ratio(backfill, result.get("anchor_a_store_s")),
        "ratio_anchor_b_to_project": ratio(result.get("anchor_b_extrapolated_s"), backfill),
        "ratio_daily_to_dbt_floor": ratio(result.get("daily_run_s"), result.get("dbt_floor_s")),
    }


def evaluate_targets(sizes: Mapping[str, Mapping], startup: Mapping, targets: Sequence[Target] = TARGETS) -> list:
    """One row per target: its value and PASS / MISS, or NOT MEASURED when its size was not run."""
    rows = []
    for target in targets:
        source = startup if target.size is None else sizes.get(target.size)
        value = None if source is None else source.get(target.metric)
        if value is None:
            status = "NOT MEASURED"
        else:
            ok = value <= target.limit if target.op == "<=" else value >= target.limit
            status = "PASS" if ok else "MISS"
        rows.append(
            {
                "size": target.size or "-",
                "metric": target.metric,
                "label": target.label,
                "op": target.op,
                "limit": target.limit,
                "value": value,
                "status": status,
            }
        )
    return rows


def build_results(
    machine: Mapping, sizes: Mapping[str, Mapping], startup: Mapping, command: Sequence[str], started: str
) -> dict:
    """The results document: machine, per-size figures (with their ratios), start-up figures, targets."""
    sizes = {name: {**figures, **size_ratios(figures)} for name, figures in sizes.items()}
    return {
        "schema": RESULTS_SCHEMA,
        "started_utc": started,
        "command": list(command),
        "machine": dict(machine),
        "sizes": sizes,
        **startup,
        "targets": evaluate_targets(sizes, startup),
    }


def missing_keys(document: Mapping) -> list[str]:
    """Required keys absent from a results document (top level, then `sizes.<name>.<key>`)."""
    missing = [key for key in REQUIRED_TOP_KEYS if key not in document]
    for name, figures in document.get("sizes", {}).items():
        missing += [f"sizes.{name}.{key}" for key in REQUIRED_SIZE_KEYS if key not in figures]
    if not document.get("sizes"):
        missing.append("sizes.<at least one size>")
    return missing


def results_file_name(sizes: Sequence[str], when: dt.datetime) -> str:
    return f"{'+'.join(sizes)}-{when.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"


def _fmt(value, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def format_table(sizes: Mapping[str, Mapping]) -> str:
    """The per-size table: times in seconds, ratios, peak memory of the backfill and its throughput."""
    columns = (
        ("size", lambda name, r: name),
        ("rows", lambda name, r: f"{r['rows']:,}"),
        ("anchor A s", lambda name, r: _fmt(r.get("anchor_a_s"), 2)),
        ("backfill s", lambda name, r: _fmt(r.get("project_backfill_s"), 1)),
        ("anchor A' s", lambda name, r: _fmt(r.get("anchor_a_store_s"), 2)),
        ("backfill/A", lambda name, r: _fmt(r.get("ratio_project_to_anchor_a"), 1, "x")),
        ("backfill/A'", lambda name, r: _fmt(r.get("ratio_project_to_anchor_a_store"), 1, "x")),
        ("Postgres s", lambda name, r: _fmt(r.get("project_backfill_postgres_s"), 1)),
        ("Postgres/A", lambda name, r: _fmt(r.get("ratio_project_postgres_to_anchor_a"), 1, "x")),
        ("anchor B s", lambda name, r: _fmt(r.get("anchor_b_extrapolated_s"), 0)),
        ("B/backfill", lambda name, r: _fmt(r.get("ratio_anchor_b_to_project"), 1, "x")),
        ("daily s", lambda name, r: _fmt(r.get("daily_run_s"), 1)),
        ("dbt floor s", lambda name, r: _fmt(r.get("dbt_floor_s"), 1)),
        ("daily/dbt", lambda name, r: _fmt(r.get("ratio_daily_to_dbt_floor"), 2, "x")),
        ("peak MiB", lambda name, r: _fmt(r.get("project_peak_rss_mb"), 0)),
        ("rows/s", lambda name, r: _fmt(r.get("project_rows_per_s"), 0)),
        ("A rows/s", lambda name, r: _fmt(r.get("anchor_a_rows_per_s"), 0)),
    )
    body = [[header for header, _ in columns]]
    for name, result in sizes.items():
        figures = {**result, **size_ratios(result)}
        body.append([cell(name, figures) for _, cell in columns])
    widths = [max(len(row[i]) for row in body) for i in range(len(columns))]
    lines = ["  ".join(_align(row, widths)) for row in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _align(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    """The first cell left-aligned, the numbers right-aligned."""
    return [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]


def format_targets(rows: Sequence[Mapping]) -> str:
    lines = []
    for row in rows:
        value = "-" if row["value"] is None else f"{row['value']:,.2f}"
        lines.append(
            f"  {row['status']:<12} {row['size']:<5} {row['label']:<56} {value:>10} {row['op']} {row['limit']:g}"
        )
    return "\n".join(lines)
