"""The asset operational_data: per day, the audit's verdict with num_records, the source URI and the checksum; a
snapshot of the rows loaded; the same audit from S3, an http(s) server or a local folder (run config
source_data_path); and downstream assets that re-run nothing upstream. Real S3 over HTTP (moto), real DuckDB."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import http.server
import threading

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.batch_sources import validate_source_data_path
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tooling import sample_data
from tooling.processes import free_port

ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]
START = dt.date(2023, 8, 2)
DAYS = ["2023-08-02", "2023-08-03", "2023-08-04"]
ROWS = 50


def run(days: list[str], selection, instance=None, source_data_path: str | None = None):
    config = {"ops": {"operational_data": {"config": {"source_data_path": source_data_path}}}}
    return materialize(
        ASSETS,
        selection=selection,
        resources=build_resources(),
        instance=instance or DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
        run_config=config if source_data_path else None,
        raise_on_error=False,
    )


def day_metadata(result) -> dict[str, dict]:
    """{partition: metadata values} of operational_data's materializations in a run."""
    return {
        event.partition: {name: value.value for name, value in event.metadata.items()}
        for event in result.asset_materializations_for_node("operational_data")
    }


def batch_bytes(day: str) -> bytes:
    return sample_data.batch_csv(dt.date.fromisoformat(day), ROWS).encode()


def failure_text(result) -> str:
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.step_failure_data.error.to_string()


def test_each_day_records_num_records_source_and_checksum_and_a_snapshot(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=3, rows=ROWS)
    client = sample_data.s3_client(settings)
    bad = DAYS[1]
    client.put_object(
        Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, dt.date.fromisoformat(bad)), Body=b"oops\n"
    )

    result = run(DAYS, [AssetKey("operational_data")])

    assert result.success
    metadata = day_metadata(result)
    assert sorted(metadata) == DAYS
    for day in (DAYS[0], DAYS[2]):
        sha256 = hashlib.sha256(batch_bytes(day)).hexdigest()
        assert metadata[day]["num_records"] == ROWS
        assert metadata[day]["source_uri"] == f"s3://{settings.s3_bucket}/operational_data/{day}/stock.csv"
        assert metadata[day]["sha256"] == sha256
        snapshot = f"s3://{settings.s3_bucket}/snapshots/operational_data/{day}/{sha256}.parquet"
        assert metadata[day]["snapshot_uri"] == snapshot
        assert client.head_object(Bucket=settings.s3_bucket, Key=snapshot.split("/", 3)[3])["ContentLength"] > 0
        assert "quarantined" not in metadata[day]
    # A quarantined day is materialized saying so, with the fix, and without records.
    assert "num_records" not in metadata[bad] and "snapshot_uri" not in metadata[bad]
    assert (
        f"{bad}: s3://{settings.s3_bucket}/operational_data/{bad}/stock.csv was quarantined"
        in (metadata[bad]["quarantined"])
    )
    assert f"then re-materialize partition {bad}" in metadata[bad]["quarantined"]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        verdicts = conn.execute(
            "select strftime(date, '%Y-%m-%d'), status, lines from batch_audit order by 1"
        ).fetchall()
    assert verdicts == [(DAYS[0], "ok", ROWS), (bad, "quarantined", 0), (DAYS[2], "ok", ROWS)]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test's output stays readable
        pass


@pytest.fixture
def http_folder(tmp_path):
    """A local HTTP server over a temporary folder: the batches as a web server would serve them."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", free_port()), functools.partial(QuietHandler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["s3", "http", "local_folder"])
def test_source_data_path_reads_each_kind_of_source_with_the_same_audit(kind, pipeline_env, http_folder, tmp_path):
    settings = load_settings()
    served, base_url = http_folder
    if kind == "s3":  # another bucket and prefix than the default
        client = sample_data.s3_client(settings)
        other = settings.s3_bucket + "-other"
        sample_data.ensure_bucket(client, other)
        for day in DAYS:
            client.put_object(Bucket=other, Key=f"drops/{day}/stock.csv", Body=batch_bytes(day))
        path, uri = f"s3://{other}/drops/", f"s3://{other}/drops/{{day}}/stock.csv"
    elif kind == "http":
        sample_data.write_folder(served, START, count=3, rows=ROWS)
        path, uri = base_url + "/", base_url + "/{day}/stock.csv"
    else:
        folder = tmp_path / "stock-data"
        sample_data.write_folder(folder, START, count=3, rows=ROWS)
        path, uri = str(folder), str(folder / "{day}" / "stock.csv")
    sample_data.ensure_bucket(sample_data.s3_client(settings), settings.s3_bucket)  # where the snapshots go

    result = run(DAYS, [AssetKey("operational_data")], source_data_path=path)

    assert result.success, failure_text(result)
    metadata = day_metadata(result)
    for day in DAYS:
        sha256 = hashlib.sha256(batch_bytes(day)).hexdigest()
        assert metadata[day]["source_uri"] == uri.format(day=day)
        assert (metadata[day]["num_records"], metadata[day]["sha256"]) == (ROWS, sha256)
        assert metadata[day]["snapshot_uri"] == (
            f"s3://{settings.s3_bucket}/snapshots/operational_data/{day}/{sha256}.parquet"
        )


def test_a_missing_day_of_an_http_source_is_a_missing_batch(pipeline_env, http_folder):
    served, base_url = http_folder
    sample_data.write_folder(served, START, count=1, rows=ROWS)
    sample_data.ensure_bucket(sample_data.s3_client(load_settings()), load_settings().s3_bucket)

    result = run(DAYS[:2], [AssetKey("operational_data")], source_data_path=base_url)

    assert result.success
    metadata = day_metadata(result)
    assert metadata[DAYS[0]]["num_records"] == ROWS
    assert f"{base_url}/{DAYS[1]}/stock.csv was quarantined" in metadata[DAYS[1]]["quarantined"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/no/such/folder", "does not exist"),
        ("ftp://example.com/batches", "has an unknown scheme"),
        ("s3://Bad_Bucket/prefix", "the bucket name must be"),
        ("s3://bucket/./evil", "'.' or '..' segments"),
        ("https://user:secret@example.com/batches", "holds credentials"),
        ("https://example.com/a/../b", "'.' or '..' segments"),
        ("https:///batches", "has no host"),
    ],
)
def test_a_bad_source_data_path_is_refused_naming_it(path, reason):
    with pytest.raises(ValueError, match="source_data_path") as error:
        validate_source_data_path(path)
    assert reason in str(error.value)
    assert repr(path) in str(error.value)


def test_a_bad_source_data_path_fails_the_run_before_anything_is_read(pipeline_env):
    result = run(DAYS[:1], [AssetKey("operational_data")], source_data_path="/no/such/folder")

    assert not result.success
    assert "source_data_path '/no/such/folder' (/no/such/folder) does not exist" in failure_text(result)
    assert not load_settings().duckdb_path.exists()  # nothing was audited or recorded
    # A wrong path is no transient fault: the step fails at once, without the retries S3 hiccups get.
    assert not [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"]


def test_a_model_whose_upstream_is_missing_fails_naming_the_days_and_the_asset(pipeline_env):
    settings = load_settings()
    sample_data.upload(settings, START, count=3, rows=ROWS)
    instance = DagsterInstance.ephemeral()
    assert run(DAYS[:1], [AssetKey("operational_data")], instance=instance).success

    result = run(DAYS, [AssetKey("fct_sales_lines")], instance=instance)

    assert not result.success
    text = failure_text(result)
    assert "operational_data has never been materialized for 2023-08-03...2023-08-04" in text
    assert "Materialize operational_data for those partitions first" in text
    events = [event.event_type_value for event in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events
    assert instance.get_materialized_partitions(AssetKey("fct_sales_lines")) == set()
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        tables = {row[0] for row in conn.execute("select table_name from information_schema.tables").fetchall()}
    assert "fct_sales_lines" not in tables  # dbt never ran


@pytest.mark.slow  # 39 real batches uploaded, audited and snapshotted
def test_the_real_batches_give_num_records_and_a_snapshot_per_day(pipeline_env, real_batches_dir, tmp_path):
    settings = load_settings()
    sample_data.upload_folder(settings, real_batches_dir)
    files = {path.parent.name: path for path in sorted(real_batches_dir.glob("*/stock.csv"))}
    days = sorted(files)

    result = run(days, [AssetKey("operational_data")])

    assert result.success
    metadata = day_metadata(result)
    assert sorted(metadata) == days
    client = sample_data.s3_client(settings)
    for day, path in files.items():
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = sum(1 for _ in csv.reader(handle)) - 1  # the sales lines, without the header
        assert metadata[day]["num_records"] == lines, day
        assert metadata[day]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        snapshot = tmp_path / f"{day}.parquet"
        client.download_file(settings.s3_bucket, metadata[day]["snapshot_uri"].split("/", 3)[3], str(snapshot))
        with duckdb.connect() as conn:
            assert conn.execute("select count(*) from read_parquet(?)", [str(snapshot)]).fetchone() == (lines,)
