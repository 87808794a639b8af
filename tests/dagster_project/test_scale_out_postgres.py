"""The dbt models on a real PostgreSQL (DBT_TARGET=postgres, issue #16): the same KPIs as the DuckDB target on the 39
real batches, and runs of different days proceeding at once, with no pool and no lock error."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from dagster_project import kpis
from dagster_project.postgres_landing import record_and_land
from dagster_project.quarantine import fetch_and_audit, record
from dagster_project.resources import DuckDBWarehouse, PostgresWarehouse
from dagster_project.settings import PROJECT_ROOT, load_settings
from tests.support.dagster_server import load_workspace, start_dagster_dev, tail, wait_until_ready
from tests.support.dbt_cli import assert_ok, dbt_build, isolated
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tests.support.queued_runs import launch_day_runs, overlaps, retries_or_failures, spans, wait_finished
from tooling import sample_data
from tooling.processes import free_port, stop_group
from tooling.sample_batches import batch_csv

DBT_STEP = "retailer_dbt_models"


def _postgres_target(postgres_server, monkeypatch) -> str:
    """A fresh warehouse database, selected as dbt's target in this process's environment; its URL."""
    url = postgres_server.create_database(f"scale_out_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DBT_TARGET", "postgres")
    monkeypatch.setenv("WAREHOUSE_URL", url)
    return url


def _postgres_readers(url: str) -> DuckDBWarehouse:
    """The readers' resource as Definitions builds it with DBT_TARGET=postgres."""
    return DuckDBWarehouse(path="unused.duckdb", postgres=PostgresWarehouse(url=url))


@pytest.mark.scale_out
@pytest.mark.slow
def test_the_postgres_target_gives_the_duckdb_targets_kpis_on_the_real_batches(
    pipeline_env, postgres_server, real_batches_dir, tmp_path, monkeypatch
):
    settings = load_settings()
    sample_data.upload_folder(settings, real_batches_dir)
    days = sorted(path.parent.name for path in real_batches_dir.glob("*/stock.csv"))
    assert len(days) == 39
    start, end = days[0], (dt.date.fromisoformat(days[-1]) + dt.timedelta(days=1)).isoformat()
    # One audit; its verdicts recorded for each target as its asset does: in the DuckDB file, and in Postgres with
    # the approved snapshots landed.
    client = sample_data.s3_client(settings)
    audits = fetch_and_audit(client, settings.s3_bucket, settings.max_batch_bytes, settings.source_uri, days)
    assert all(audit.ok for audit in audits)
    with DuckDBWarehouse(path=str(settings.duckdb_path)).writer() as conn:
        record(conn, audits)
    duckdb_env = isolated(pipeline_env, tmp_path / "duckdb")
    url = _postgres_target(postgres_server, monkeypatch)
    landed = record_and_land(PostgresWarehouse(url=url), client, audits)
    assert landed == {audit.day: audit.lines for audit in audits}
    postgres_env = {**isolated(pipeline_env, tmp_path / "postgres"), "DBT_TARGET": "postgres", "WAREHOUSE_URL": url}
    postgres_env.update(load_settings().dbt_environment())

    # One dbt build of the 39 days per target.
    assert_ok(dbt_build(duckdb_env, start, end))
    built = dbt_build(postgres_env, start, end)
    assert_ok(built)
    assert "ERROR=0" in built.stdout and "SKIP=0" in built.stdout  # every model and dbt test ran on Postgres

    duckdb_readers, postgres_readers = DuckDBWarehouse(path=str(settings.duckdb_path)), _postgres_readers(url)
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    with duckdb_readers.reader() as on_duckdb, postgres_readers.reader() as on_postgres:
        duckdb_kpis, postgres_kpis = kpis.daily_kpis(on_duckdb, first, last), kpis.daily_kpis(on_postgres, first, last)
        for model in kpis.KPI_MODELS:
            assert_kpis_match(
                {day: {model: value} for day, value in kpis.model_kpi(on_postgres, model, first, last).items()},
                {day: {model: value} for day, value in kpis.model_kpi(on_duckdb, model, first, last).items()},
            )
        for table, column in (("fct_sales_lines", "sales_date"), ("kpi_daily_breakdown", "date")):
            assert kpis.rows_per_day(on_postgres, table, column, first, last) == kpis.rows_per_day(
                on_duckdb, table, column, first, last
            )
    expected = daily_kpis({path.parent.name: path.read_text() for path in real_batches_dir.glob("*/stock.csv")})
    assert_kpis_match(postgres_kpis, expected)  # 1e-9 per day and KPI
    assert_kpis_match(postgres_kpis, duckdb_kpis)
    assert postgres_kpis["2023-08-02"]["order_lines"] == 80 and postgres_kpis["2023-08-02"]["units_sold"] == 296


@pytest.mark.scale_out
@pytest.mark.services
@pytest.mark.slow
def test_runs_of_different_days_on_postgres_proceed_at_once_with_no_lock_error(
    pipeline_env, postgres_server, tmp_path, monkeypatch
):
    first_day = dt.date(2023, 8, 2)
    days = [(first_day + dt.timedelta(days=i)).isoformat() for i in range(6)]
    sample_data.upload(load_settings(), first_day, count=len(days), rows=40)
    url = _postgres_target(postgres_server, monkeypatch)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # the real local config
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    env = {**pipeline_env, "DBT_TARGET": "postgres", "WAREHOUSE_URL": url, "DAGSTER_HOME": str(home)}
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "dagster_dev.log"
    server = start_dagster_dev(port, env, log_path)
    try:
        wait_until_ready(base_url, server, timeout=600, details=lambda: tail(log_path))  # a hang guard: busy machine
        assert "chapter-2-retailer_kpis" in load_workspace(base_url)
        instance = DagsterInstance.from_config(str(home))
        # The first run of a fresh warehouse creates its tables (docs/reliability.md); then five days at once.
        first = wait_finished(instance, launch_day_runs(base_url, days[:1]), timeout=900)
        assert first[0].status == DagsterRunStatus.SUCCESS, tail(log_path)
        run_ids = launch_day_runs(base_url, days[1:])
        runs = wait_finished(instance, run_ids, timeout=1800)  # a hang guard only
    finally:
        stop_group(server)

    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS] * 5
    events = [entry for run_id in run_ids for entry in instance.all_logs(run_id) if entry.is_dagster_event]
    assert not retries_or_failures(events), retries_or_failures(events)
    # Concurrency from the event log: the dbt builds of different days ran at the same time.
    dbt_spans = spans(
        [entry for entry in events if entry.step_key == DBT_STEP],
        DagsterEventType.STEP_START,
        {DagsterEventType.STEP_SUCCESS},
    )
    assert len(dbt_spans) == 5
    assert overlaps(dbt_spans), f"the dbt steps of the five runs never overlapped: {sorted(dbt_spans.values())}"
    # Nothing opened the DuckDB file, so nothing could wait on its lock; every day is in Postgres, with its KPIs.
    assert not Path(pipeline_env["DUCKDB_PATH"]).exists()
    with _postgres_readers(url).reader() as conn:
        built = kpis.daily_kpis(conn, first_day, first_day + dt.timedelta(days=len(days)))
    assert_kpis_match(built, daily_kpis({day: batch_csv(dt.date.fromisoformat(day), 40) for day in days}))
