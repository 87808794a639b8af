"""The raw landing on a real PostgreSQL (DBT_TARGET=postgres): approved days replaced atomically with their verdicts,
quarantined days untouched, and nothing half-written when the landing fails."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import uuid

import pytest

from dagster_project.postgres_landing import RAW_TABLE, record_and_land
from dagster_project.quarantine import fetch_and_audit
from dagster_project.resources import PostgresWarehouse
from dagster_project.settings import load_settings
from tooling import sample_data
from tooling.sample_batches import batch_csv

DAYS = ["2024-02-01", "2024-02-02", "2024-02-03"]


@pytest.fixture
def postgres_env(pipeline_env, postgres_server, monkeypatch) -> PostgresWarehouse:
    url = postgres_server.create_database(f"landing_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DBT_TARGET", "postgres")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    return PostgresWarehouse(url=url)


def _audit(settings, days):
    client = sample_data.s3_client(settings)
    return client, fetch_and_audit(client, settings.s3_bucket, settings.max_batch_bytes, settings.source_uri, days)


def _landed(warehouse) -> dict[str, tuple]:
    """{day: (rows, distinct snapshots, the snapshot, sum of Sales)} of the raw table, and the verdicts."""
    with warehouse.transaction() as cursor:
        cursor.execute(
            f'select batch_date::text, count(*), count(distinct filename), min(filename), sum("Sales") '
            f"from {RAW_TABLE} group by 1 order by 1"
        )
        # The sum rounded: Postgres adds in heap order, which a delete+insert elsewhere may change.
        rows = {
            day: (count, snapshots, uri, round(sales, 6)) for day, count, snapshots, uri, sales in cursor.fetchall()
        }
        cursor.execute("select date::text, status, snapshot_uri from main.batch_audit order by 1")
        verdicts = {day: (status, uri) for day, status, uri in cursor.fetchall()}
    return rows, verdicts


def test_approved_days_replace_their_rows_quarantined_days_stay_and_a_failure_writes_nothing(postgres_env):
    settings = load_settings()
    start = dt.date.fromisoformat(DAYS[0])
    sample_data.upload(settings, start, count=3, rows=20, seed=1)
    client, audits = _audit(settings, DAYS)

    assert record_and_land(postgres_env, client, audits) == dict.fromkeys(DAYS, 20)
    rows, verdicts = _landed(postgres_env)
    for audit in audits:
        count, snapshots, uri, sales = rows[audit.day]
        assert (count, snapshots, uri) == (20, 1, audit.snapshot_uri)
        assert verdicts[audit.day] == ("ok", audit.snapshot_uri)
        lines = csv.DictReader(io.StringIO(batch_csv(dt.date.fromisoformat(audit.day), 20, 1)))
        assert math.isclose(sales, math.fsum(float(line["Sales"]) for line in lines), rel_tol=1e-9)

    # Day 1 corrected (another batch), day 2 broken: day 1 is replaced, day 2 keeps what was landed before.
    client.put_object(
        Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, start), Body=batch_csv(start, 30, 2).encode()
    )
    client.put_object(
        Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, start + dt.timedelta(1)), Body=b"not;a;batch\n"
    )
    _, again = _audit(settings, DAYS[:2])
    assert [audit.ok for audit in again] == [True, False]
    assert record_and_land(postgres_env, client, again) == {DAYS[0]: 30}
    after, verdicts = _landed(postgres_env)
    assert after[DAYS[0]][:3] == (30, 1, again[0].snapshot_uri) != rows[DAYS[0]][:3]
    assert after[DAYS[1]] == rows[DAYS[1]]
    assert verdicts[DAYS[1]][0] == "quarantined"
    assert after[DAYS[2]] == rows[DAYS[2]]

    # A landing that fails half-way (the third day's snapshot is gone) rolls back every day and every verdict.
    _, third = _audit(settings, [DAYS[0], DAYS[2]])
    bucket, _, key = third[1].snapshot_uri.removeprefix("s3://").partition("/")
    client.delete_object(Bucket=bucket, Key=key)
    client.put_object(
        Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, start), Body=batch_csv(start, 40, 3).encode()
    )
    _, third[:1] = _audit(settings, [DAYS[0]])
    with pytest.raises(RuntimeError, match=f"{DAYS[2]}: the snapshot .* is gone from S3"):
        record_and_land(postgres_env, client, third)
    assert _landed(postgres_env) == (after, verdicts)
