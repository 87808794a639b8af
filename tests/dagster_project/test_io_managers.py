"""The delivery IO managers against real S3 over HTTP and a real Postgres: what they store, byte for byte and row
for row as the hand-written delivery did, for a range of days in one output; what they load back; and that a
write failing in the middle leaves what was stored before exactly as it was.
"""

import duckdb
import psycopg2
import pytest
from dagster import DagsterInstance, asset, materialize

from dagster_project.kpis import KPI_COLUMNS
from dagster_project.partitions import daily_partitions
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.delivered_assets import delivered_asset, reader_asset
from tests.support.kpi_reference import HAND_WRITTEN_DELIVERY as BEFORE
from tests.support.refusing_s3 import refusing_puts
from tooling import sample_data

ROWS = BEFORE["kpi_daily_rows"]  # 2023-08-02...2023-08-06 and 2023-09-01 (null KPIs)
FIRST, LAST = min(ROWS), max(ROWS)
S3_JSON, POSTGRES = "s3_json_io_manager", "postgres_time_series_io_manager"


def run(assets, first: str, last: str, selection=None, resources=None):
    return materialize(
        assets,
        selection=selection,
        resources=resources or build_resources(),
        instance=DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )


def load(io_manager_key: str, first: str, last: str, allow_missing: bool = False):
    """(the run, what the downstream asset received) for the days first...last."""
    received: list = []
    result = run(
        [delivered_asset(io_manager_key, {}), reader_asset(received, allow_missing)], first, last, selection=["reader"]
    )
    return result, (received[0] if received else None)


def failure(result) -> str:
    event = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    data = event.step_failure_data
    return (data.user_failure_data.description if data.user_failure_data else None) or data.error.to_string()


def changed(rows: dict, days) -> dict:
    """`rows` with other revenues on `days`: a new delivery that differs from the stored one."""
    return {day: {**row, "revenue": row["revenue"] + 1000.5} if day in days else row for day, row in rows.items()}


def s3_objects(client, bucket: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix="kpis/").get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_s3_json_stores_a_range_in_one_output_with_the_hand_written_bytes_and_loads_it_back(pipeline_env):
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.ensure_bucket(client, settings.s3_bucket)

    # One run, one output for 31 days; six of them hold values (the others, like quarantined days, are not stored).
    result = run([delivered_asset(S3_JSON, ROWS)], FIRST, LAST)

    assert result.success
    assert s3_objects(client, settings.s3_bucket) == {
        f"kpis/{day}.json": document.encode() for day, document in BEFORE["json_documents"].items()
    }
    events = result.get_asset_materialization_events()
    assert len(events) == 31
    assert events[0].materialization.metadata["objects_written"].value == 6
    # Delivered again: the same bytes, so nothing is written.
    again = run([delivered_asset(S3_JSON, ROWS)], FIRST, LAST)
    assert again.get_asset_materialization_events()[0].materialization.metadata["objects_written"].value == 0

    # Loaded back for a downstream asset over the same range: the six stored days (the input allows missing ones).
    loaded, values = load(S3_JSON, FIRST, LAST, allow_missing=True)
    assert loaded.success
    assert values == ROWS


@pytest.mark.slow  # a few Dagster runs
def test_s3_json_loads_one_day_and_names_the_days_never_stored(pipeline_env):
    settings = load_settings()
    sample_data.ensure_bucket(sample_data.s3_client(settings), settings.s3_bucket)
    assert run([delivered_asset(S3_JSON, ROWS)], FIRST, LAST).success

    assert load(S3_JSON, "2023-09-01", "2023-09-01")[1] == {"2023-09-01": ROWS["2023-09-01"]}
    missing, _ = load(S3_JSON, "2023-08-06", "2023-08-07")
    assert not missing.success
    assert f"s3://{settings.s3_bucket}/kpis/ holds no delivered for 2023-08-07: materialize delivered" in failure(
        missing
    )
    assert load(S3_JSON, "2023-08-06", "2023-08-07", allow_missing=True)[1] == {"2023-08-06": ROWS["2023-08-06"]}


@pytest.mark.slow  # two Dagster runs through a proxy
def test_a_put_refused_in_the_middle_leaves_every_previous_document_as_it_was(pipeline_env, monkeypatch):
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.ensure_bucket(client, settings.s3_bucket)
    first_days = {day: ROWS[day] for day in ["2023-08-02", "2023-08-03", "2023-08-04", "2023-08-05"]}
    assert run([delivered_asset(S3_JSON, first_days)], "2023-08-02", "2023-08-05").success
    before = s3_objects(client, settings.s3_bucket)

    # Every day changes and 2023-08-06 is new; S3 refuses the PUT of 2023-08-04 only.
    refused = "kpis/2023-08-04.json"
    with refusing_puts(pipeline_env["S3_ENDPOINT_URL"], {refused}) as (endpoint, seen):
        monkeypatch.setenv("S3_ENDPOINT_URL", endpoint)
        result = run([delivered_asset(S3_JSON, changed(ROWS, ROWS))], "2023-08-02", "2023-08-06")

    assert not result.success
    assert f"S3 refused to access s3://{settings.s3_bucket}/{refused} (AccessDenied" in failure(result)
    assert s3_objects(client, settings.s3_bucket) == before  # 2023-08-06 included: it is not there
    restored = client.head_object(Bucket=settings.s3_bucket, Key="kpis/2023-08-02.json")
    assert restored["ContentType"] == "application/json"
    # The other documents were written, then put back (the new day deleted): the failure was in mid-write.
    writes = sorted((method, key) for method, key, status in seen if method in {"PUT", "DELETE"} and status < 300)
    assert writes == sorted(
        [("PUT", f"kpis/{day}.json") for day in ["2023-08-02", "2023-08-03", "2023-08-05"] for _ in range(2)]
        + [("PUT", "kpis/2023-08-06.json"), ("DELETE", "kpis/2023-08-06.json")]
    )


def warehouse_rows(url: str) -> dict:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"select date::text, {', '.join(KPI_COLUMNS)}, loaded_at from kpi_daily order by date")
        return {row[0]: list(row[1:]) for row in cursor.fetchall()}


def test_postgres_stores_a_range_in_one_transaction_as_the_hand_written_table_and_loads_it_back(
    pipeline_env, postgres_server, monkeypatch
):
    url = postgres_server.create_database("io_manager_rows")
    monkeypatch.setenv("WAREHOUSE_URL", url)

    result = run([delivered_asset(POSTGRES, ROWS)], FIRST, LAST)

    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["rows_upserted"].value == 6
    assert metadata["warehouse"].value.startswith("postgresql://postgres@127.0.0.1:")
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select column_name, data_type, is_nullable, column_default from information_schema.columns "
            "where table_name = 'kpi_daily' order by ordinal_position"
        )
        assert [list(row) for row in cursor.fetchall()] == BEFORE["postgres_columns"]
        cursor.execute("select indexdef from pg_indexes where tablename = 'kpi_daily'")
        assert [row[0] for row in cursor.fetchall()] == BEFORE["postgres_indexes"]
    stored = warehouse_rows(url)
    assert {day: row[:-1] for day, row in stored.items()} == BEFORE["postgres_rows"]
    assert len({row[-1] for row in stored.values()}) == 1  # one transaction: one now() for every row

    assert load(POSTGRES, "2023-08-02", "2023-08-06")[1] == {day: ROWS[day] for day in sorted(ROWS)[:5]}
    assert load(POSTGRES, "2023-09-01", "2023-09-01")[1] == {"2023-09-01": ROWS["2023-09-01"]}
    missing, _ = load(POSTGRES, "2023-08-06", "2023-08-07")
    assert "holds no delivered for 2023-08-07: materialize delivered" in failure(missing)


def test_a_row_failing_in_the_middle_leaves_every_previous_row_as_it_was(pipeline_env, postgres_server, monkeypatch):
    url = postgres_server.create_database("io_manager_rollback")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    first_days = {day: ROWS[day] for day in ["2023-08-02", "2023-08-03", "2023-08-04", "2023-08-05"]}
    assert run([delivered_asset(POSTGRES, first_days)], "2023-08-02", "2023-08-05").success
    before = warehouse_rows(url)
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:  # the database refuses one day's row, mid-statement
        cursor.execute(
            "create function refuse() returns trigger language plpgsql as $$ begin "
            "if new.date = '2023-08-04' then raise exception 'refused %', new.date; end if; return new; end $$"
        )
        cursor.execute(
            "create trigger refuse before insert or update on kpi_daily for each row execute function refuse()"
        )

    result = run([delivered_asset(POSTGRES, changed(ROWS, ROWS))], "2023-08-02", "2023-08-06")

    assert not result.success
    assert "refused 2023-08-04" in failure(result)
    assert warehouse_rows(url) == before  # loaded_at included, and no 2023-08-06


def test_values_that_are_not_a_numeric_time_series_are_refused_before_the_database(
    pipeline_env, postgres_server, monkeypatch
):
    url = postgres_server.create_database("io_manager_refused")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    bad = {**ROWS, "2023-08-04": {**ROWS["2023-08-04"], "units_sold": "891"}}

    result = run([delivered_asset(POSTGRES, bad)], FIRST, LAST)

    assert "2023-08-04: units_sold='891' is not a number" in failure(result)
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("select to_regclass('kpi_daily')")
        assert cursor.fetchone() == (None,)  # not even created


def test_without_warehouse_url_nothing_is_written_and_inputs_come_from_the_duckdb_file(pipeline_env):
    with duckdb.connect(pipeline_env["DUCKDB_PATH"]) as conn:
        conn.execute(f"create table kpi_daily (date date, {', '.join(f'{c} double' for c in KPI_COLUMNS)})")
        conn.executemany(
            f"insert into kpi_daily values (?, {', '.join('?' for _ in KPI_COLUMNS)})",
            [(day, *(row[c] for c in KPI_COLUMNS)) for day, row in ROWS.items()],
        )

    result = run([delivered_asset(POSTGRES, ROWS)], FIRST, LAST)

    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["warehouse"].value == "DuckDB file (WAREHOUSE_URL is not set)"
    assert load(POSTGRES, "2023-08-02", "2023-08-03")[1] == {day: ROWS[day] for day in ["2023-08-02", "2023-08-03"]}


@pytest.mark.parametrize("returned", [["2023-08-02"], {"2023-08-09": ROWS["2023-08-02"]}])
def test_an_output_that_is_not_the_runs_days_is_refused_before_anything_is_written(pipeline_env, returned):
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.ensure_bucket(client, settings.s3_bucket)

    @asset(name="delivered", partitions_def=daily_partitions, io_manager_key=S3_JSON, dagster_type=object)
    def delivered():
        return returned

    result = run([delivered], "2023-08-02", "2023-08-02")

    assert "expects {YYYY-MM-DD: {name: value}}" in failure(result) or "outside the run's partitions" in failure(result)
    assert s3_objects(client, settings.s3_bucket) == {}
