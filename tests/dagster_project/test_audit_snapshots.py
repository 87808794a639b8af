"""What the audit approves is what dbt loads (snapshots), source paths are checked first, batches have a size limit,
and a reversed partition range fails at once: real S3 over HTTP (moto), real DuckDB, real dbt."""

import datetime as dt
import hashlib

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from dagster_project import quarantine
from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.batch_audit import EXPECTED_COLUMNS
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.dbt_cli import assert_ok, dbt_build, isolated, warehouse_kpis
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tooling import sample_data

START = dt.date(2023, 8, 2)
DAYS = [START.isoformat(), (START + dt.timedelta(days=1)).isoformat()]
ROWS = 80
ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]


def audit(settings, source_uri: str, days: list[str]):
    """The audit as Dagster runs it, outside Dagster: fetch, check, snapshot, record."""
    client = sample_data.s3_client(settings)
    audits = quarantine.fetch_and_audit(client, settings.s3_bucket, settings.max_batch_bytes, source_uri, days)
    with duckdb.connect(str(settings.duckdb_path)) as conn:
        quarantine.record(conn, audits)
    return audits


def evil(plain: str) -> bytes:
    """The same file with every sale a billion: a different file at the same key, valid for any reader."""
    lines = plain.splitlines(keepends=True)
    sales = EXPECTED_COLUMNS.index("Sales")
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.rstrip("\n").split(",")
        fields[sales] = "999999999.99"
        out.append(",".join(fields) + "\n")
    return "".join(out).encode()


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_dbt_loads_what_the_audit_approved_even_if_the_file_changes_after(pipeline_env, tmp_path):
    settings = load_settings()
    sample_data.upload(settings, START, count=2, rows=ROWS)
    client = sample_data.s3_client(settings)
    plain = {day: sample_data.batch_csv(dt.date.fromisoformat(day), ROWS) for day in DAYS}

    audits = audit(settings, settings.source_uri, DAYS)
    assert [a.ok for a in audits] == [True, True]
    # The retailer overwrites a file between the audit and the load.
    key = sample_data.batch_key(settings, START)
    client.put_object(Bucket=settings.s3_bucket, Key=key, Body=evil(plain[DAYS[0]]))

    assert_ok(dbt_build(isolated(pipeline_env, tmp_path), DAYS[0], "2023-08-04"))

    assert_kpis_match(warehouse_kpis(pipeline_env), daily_kpis(plain))
    # The verdict records the checksum of the bytes audited and the snapshot dbt read.
    with duckdb.connect(pipeline_env["DUCKDB_PATH"], read_only=True) as conn:
        recorded = conn.execute(
            "select strftime(date, '%Y-%m-%d'), sha256, bytes, snapshot_uri, lines from batch_audit order by 1"
        ).fetchall()
        sources = {r[0] for r in conn.execute("select distinct source_file from fct_sales_lines").fetchall()}
    for (day, sha256, size, snapshot_uri, lines), text in zip(recorded, plain.values(), strict=True):
        assert sha256 == hashlib.sha256(text.encode()).hexdigest()
        assert size == len(text.encode()) and lines == ROWS
        assert snapshot_uri == f"s3://{settings.s3_bucket}/snapshots/operational_data/{day}/{sha256}.parquet"
    assert sources == {row[3] for row in recorded}
    # The snapshot is typed Parquet holding exactly the approved rows.
    snapshot_key = recorded[0][3].removeprefix(f"s3://{settings.s3_bucket}/")
    client.download_file(settings.s3_bucket, snapshot_key, str(tmp_path / "snapshot.parquet"))
    with duckdb.connect() as conn:
        schema = conn.execute("describe select * from read_parquet(?)", [str(tmp_path / "snapshot.parquet")]).fetchall()
        count = conn.execute("select count(*) from read_parquet(?)", [str(tmp_path / "snapshot.parquet")]).fetchone()
    assert [(name, kind) for name, kind, *_ in schema][9:] == [
        ("Sales", "DOUBLE"),
        ("Quantity", "INTEGER"),
        ("Discount", "DOUBLE"),
        ("Profit", "DOUBLE"),
    ]
    assert [name for name, *_ in schema] == list(EXPECTED_COLUMNS) and count == (ROWS,)


def test_a_dot_segment_cannot_make_the_audit_and_the_load_read_different_files(pipeline_env):
    """The reported bypass: boto3 reads `./evil/D/stock.csv` literally, DuckDB's httpfs reads `evil/D/stock.csv`."""
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.ensure_bucket(client, settings.s3_bucket)
    plain = sample_data.batch_csv(START, ROWS)
    client.put_object(Bucket=settings.s3_bucket, Key=f"./evil/{DAYS[0]}/stock.csv", Body=plain.encode())
    client.put_object(Bucket=settings.s3_bucket, Key=f"evil/{DAYS[0]}/stock.csv", Body=evil(plain))

    with pytest.raises(ValueError, match=r"'\.' or '\.\.' segments"):
        audit(settings, f"s3://{settings.s3_bucket}/./evil", DAYS[:1])

    # Through Dagster: the run config is refused before anything runs.
    result = materialize(
        ASSETS,
        selection=[key for asset in ASSETS for key in asset.keys],
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        partition_key=DAYS[0],
        run_config={"ops": {"operational_data": {"config": {"source_data_path": f"s3://{settings.s3_bucket}/./evil"}}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "'.' or '..' segments" in failure.step_failure_data.error.to_string()
    assert not settings.duckdb_path.exists()  # nothing was audited, recorded or loaded


def test_a_batch_above_the_size_limit_is_quarantined_without_being_read(pipeline_env, monkeypatch):
    monkeypatch.setenv("MAX_BATCH_BYTES", "4000")
    settings = load_settings()
    sample_data.upload(settings, START, count=2, rows=ROWS)  # about 9 KB each
    client = sample_data.s3_client(settings)
    small = sample_data.batch_csv(START, 30)
    client.put_object(Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, START), Body=small.encode())

    first, second = audit(settings, settings.source_uri, DAYS)

    assert first.ok, first.message()
    assert not second.ok
    size = len(sample_data.batch_csv(START + dt.timedelta(days=1), ROWS).encode())
    assert f"the file is {size:,} bytes, above the maximum batch size of 4,000 bytes (MAX_BATCH_BYTES)" in (
        second.message()
    )
    assert second.snapshot_uri is None


def test_a_reversed_partition_range_fails_at_once_naming_the_range(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=2, rows=ROWS)

    result = materialize(
        ASSETS,
        selection=[key for asset in ASSETS for key in asset.keys],
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": DAYS[1], "dagster/asset_partition_range_end": DAYS[0]},
        raise_on_error=False,
    )

    assert not result.success
    events = [event.event_type_value for event in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    description = failure.step_failure_data.user_failure_data.description
    assert f"The partition range {DAYS[1]}...{DAYS[0]} is reversed" in description
    assert not (settings.duckdb_path).exists()  # nothing touched DuckDB
