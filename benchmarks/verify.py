"""Checks of the pipeline's output against anchor A: a fast wrong answer is not a result."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.config import BenchFailure
from dagster_project.constants import KPIS_PREFIX
from dagster_project.settings import Settings
from tooling import sample_data


def compare_kpis(actual: Mapping[str, Mapping], expected: Mapping[str, Mapping], rel: float = 1e-9) -> list[str]:
    """Every difference between two {day: {kpi: value}} tables (days, then values to `rel`); [] when equal."""
    problems = []
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"{len(missing)} day(s) missing: {', '.join(missing[:5])}")
    if extra:
        problems.append(f"{len(extra)} unexpected day(s): {', '.join(extra[:5])}")
    for day in sorted(set(expected) & set(actual)):
        for name, value in expected[day].items():
            got = actual[day].get(name)
            if got is None or not math.isclose(float(got), float(value), rel_tol=rel, abs_tol=1e-12):
                problems.append(f"{day} {name}: got {got}, expected {value}")
    return problems


def warehouse_kpis(duckdb_path: Path, first: dt.date, end: dt.date) -> tuple[dict, dict]:
    """({day: kpis} of kpi_daily, {day: lines} of fct_sales_lines) for [first, end), read-only."""
    import duckdb

    from dagster_project import kpis

    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        table = kpis.daily_kpis(conn, first, end)
        lines = kpis.rows_per_day(conn, "fct_sales_lines", "sales_date", first, end)
    return table, lines


def verify_warehouse(duckdb_path: Path, expected: Mapping[str, Mapping], rows_per_day: int, what: str) -> None:
    """kpi_daily equals anchor A's KPIs on the expected days, and fct_sales_lines holds each day exactly once."""
    days = sorted(expected)
    first, end = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1]) + dt.timedelta(days=1)
    table, lines = warehouse_kpis(duckdb_path, first, end)
    problems = compare_kpis({day: table[day] for day in table if day in expected}, expected)
    problems += [
        f"fct_sales_lines has {lines.get(day, 0)} lines for {day}, expected {rows_per_day}"
        for day in days
        if lines.get(day, 0) != rows_per_day
    ]
    if problems:
        raise BenchFailure(f"{what}: the warehouse is wrong:\n  " + "\n  ".join(problems[:20]))


def verify_json(settings: Settings, expected: Mapping[str, Mapping], total: int, what: str) -> None:
    """Exactly `total` KPI objects in the bucket, and each expected day's object equals anchor A's KPIs."""
    client = sample_data.s3_client(settings)
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket, Prefix=KPIS_PREFIX + "/"):
        keys += [item["Key"] for item in page.get("Contents", [])]
    problems = []
    if len(keys) != total:
        problems.append(f"{len(keys)} objects under s3://{settings.s3_bucket}/{KPIS_PREFIX}/, expected {total}")

    def fetch(day: str) -> dict | None:
        try:
            body = client.get_object(Bucket=settings.s3_bucket, Key=f"{KPIS_PREFIX}/{day}.json")["Body"].read()
        except client.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = dict(zip(expected, pool.map(fetch, expected), strict=True))
    delivered = {day: document for day, document in documents.items() if document is not None}
    problems += compare_kpis(delivered, expected)
    problems += [f"{day}.json says date {doc.get('date')}" for day, doc in delivered.items() if doc.get("date") != day]
    if problems:
        raise BenchFailure(f"{what}: the JSON delivery is wrong:\n  " + "\n  ".join(problems[:20]))


def verify_runs(dagster_home: Path, expected_runs: int, what: str) -> None:
    """The bench's Dagster instance holds exactly `expected_runs` runs, all successful."""
    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
    failed = [run.run_id for run in runs if run.status != DagsterRunStatus.SUCCESS]
    if len(runs) != expected_runs or failed:
        raise BenchFailure(f"{what}: {len(runs)} run(s) in {dagster_home} (expected {expected_runs}), failed: {failed}")
