"""Check of assignment 3 (make check ASSIGNMENT=3): operational_data reads the run config's source_data_path, and
refuses a bad one naming it."""

import datetime as dt

import duckdb
from dagster import DagsterInvalidConfigError

from dagster_project.settings import load_settings
from tests.support.workshop_checks import DAYS, ROWS, run_days, why_it_failed
from tooling import sample_data


def with_source(path: str) -> dict:
    return {"ops": {"operational_data": {"config": {"source_data_path": path}}}}


def run_from(path: str):
    try:
        return run_days(DAYS, ["operational_data"], run_config=with_source(path))
    except DagsterInvalidConfigError as error:
        raise AssertionError(
            "operational_data takes no run config source_data_path yet (add the field to OperationalDataConfig): "
            + " ".join(str(error).split())[:300]
        ) from None


def test_a_run_reads_its_batches_from_source_data_path(pipeline_env, tmp_path):
    folder = tmp_path / "another_source"
    sample_data.write_folder(folder, dt.date.fromisoformat(DAYS[0]), count=len(DAYS), rows=ROWS)
    settings = load_settings()
    sample_data.ensure_bucket(sample_data.s3_client(settings), settings.s3_bucket)  # where the snapshots go; no batch

    result = run_from(str(folder))

    assert result.success, f"with source_data_path={folder}: {why_it_failed(result)}"
    with duckdb.connect(settings.duckdb_path.as_posix(), read_only=True) as conn:
        read = dict(conn.execute("select strftime(date, '%Y-%m-%d'), s3_uri from main.batch_audit").fetchall())
    for day in DAYS:
        assert read.get(day) == str(folder / day / "stock.csv"), (
            f"{day} was read from {read.get(day)}, not from source_data_path {folder}"
        )

    bad = "ftp://example.com/batches"
    try:
        refused = run_days(DAYS, ["operational_data"], run_config=with_source(bad))
        reason = why_it_failed(refused) if not refused.success else "the run succeeded"
    except DagsterInvalidConfigError as error:
        reason = str(error)
    assert bad in reason, f"source_data_path={bad} must be refused with a message naming it; got: {reason[:300]}"
