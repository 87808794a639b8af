"""Every well-formed CSV variation of the catalogue is accepted and computed exactly as the plain file."""

import csv
import datetime as dt
import io
import math

import pytest
from dagster import DagsterInstance, materialize

from dagster_project import kpis
from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.batch_audit import audit_batch, audit_lines, copy_checked
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.bad_batches import BAD_BATCHES
from tests.support.csv_variations import CSV_VARIATIONS
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tooling import sample_data

START = dt.date(2023, 8, 2)
ROWS = 80
ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]


@pytest.mark.parametrize("case", sorted(CSV_VARIATIONS))
def test_each_variation_passes_the_audit_with_the_plain_files_counts(case):
    plain = sample_data.batch_csv(START, ROWS).encode()
    make, _ = CSV_VARIATIONS[case]

    audit = audit_batch(START.isoformat(), "s3://b/p/stock.csv", make(plain))

    assert audit.ok, audit.message()
    assert (audit.lines, audit.duplicate_lines) == (ROWS, 0)


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_every_variation_end_to_end_gives_the_plain_files_kpis(pipeline_env):
    """One backfill, one variation a day (and a plain day): each day's KPIs and breakdown equal the plain file's."""
    settings = load_settings()
    client = sample_data.s3_client(settings)
    cases = sorted(CSV_VARIATIONS)
    days = [START + dt.timedelta(days=offset) for offset in range(len(cases) + 1)]
    sample_data.upload(settings, START, count=len(days), rows=ROWS)
    plain = {day.isoformat(): sample_data.batch_csv(day, ROWS) for day in days}
    for case, day in zip(cases, days, strict=False):
        body = CSV_VARIATIONS[case][0](plain[day.isoformat()].encode())
        client.put_object(Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, day), Body=body)

    result = materialize(
        ASSETS,
        selection=[key for asset in ASSETS for key in asset.keys],
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[-1].isoformat(),
        },
    )

    assert result.success
    end = days[-1] + dt.timedelta(days=1)
    with kpis.read_only(pipeline_env["DUCKDB_PATH"]) as conn:
        assert_kpis_match(kpis.daily_kpis(conn, START, end), daily_kpis(plain))
        statuses = conn.execute("select distinct status from batch_audit").fetchall()
        breakdown = conn.execute(
            "select strftime(date, '%Y-%m-%d'), region, category, segment, revenue, units_sold "
            "from kpi_daily_breakdown order by all"
        ).fetchall()
    assert statuses == [("ok",)]
    expected = plain_breakdown(plain)
    assert sorted(row[:4] for row in breakdown) == sorted(expected)
    for *key, revenue, units in breakdown:
        assert units == expected[tuple(key)][1], key
        assert math.isclose(revenue, expected[tuple(key)][0], rel_tol=1e-9), key


def plain_breakdown(plain: dict[str, str]) -> dict[tuple, tuple[float, int]]:
    """{(day, region, category, segment): (revenue, units)} in plain Python from the plain files."""
    groups: dict[tuple, list] = {}
    for day, text in plain.items():
        for row in csv.DictReader(io.StringIO(text)):
            group = groups.setdefault((day, row["Region"], row["Category"], row["Segment"]), [[], 0])
            group[0].append(float(row["Sales"]))
            group[1] += int(row["Quantity"])
    return {key: (math.fsum(sales), units) for key, (sales, units) in groups.items()}


def test_an_unclosed_quote_is_caught_in_the_middle_of_a_window(tmp_path):
    """DuckDB 1.5's multi-file scan stops silently at a quote left open at the end of a file (1 line kept)."""
    files, audits = {}, {}
    for offset in range(5):
        day = START + dt.timedelta(days=offset)
        body = sample_data.batch_csv(day, ROWS).encode()
        if offset == 2:
            body = BAD_BATCHES["unterminated_quote"][0](body)
        files[day.isoformat()] = tmp_path / f"{day}.csv"
        with files[day.isoformat()].open("wb") as out:
            audits[day.isoformat()] = copy_checked(day.isoformat(), "s3://b/p", [body], out, 2**30)

    audit_lines(audits, files)

    assert [audit.ok for audit in audits.values()] == [True, True, False, True, True]
    assert (
        "a quote opened on line 3 may never be closed" in audits[(START + dt.timedelta(days=2)).isoformat()].message()
    )
