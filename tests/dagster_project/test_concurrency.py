"""No collisions on DuckDB: many runs launched at once queue behind the `duckdb_warehouse` pool.

Proven from the instance's event log, not from messages: no step failed or retried, and the steps that open the
DuckDB file never ran at the same time, although the runs did.
"""

import datetime as dt
import shutil

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from dagster_project.definitions import defs
from dagster_project.settings import PROJECT_ROOT, load_settings
from tests.support.dagster_server import load_workspace, start_dagster_dev, tail, wait_until_ready
from tests.support.duckdb_steps import ops_touching_duckdb
from tests.support.queued_runs import launch_day_runs, overlaps, retries_or_failures, spans, wait_finished
from tooling import sample_data
from tooling.processes import free_port, stop_group

DAYS = [(dt.date(2023, 8, 2) + dt.timedelta(days=i)).isoformat() for i in range(10)]


@pytest.mark.services
def test_ten_runs_launched_at_once_all_succeed_and_never_share_the_duckdb_file(pipeline_env, tmp_path, monkeypatch):
    sample_data.upload(load_settings(), dt.date(2023, 8, 2), count=len(DAYS), rows=100)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # the real local config
    env = {**pipeline_env, "DAGSTER_HOME": str(home)}
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the storage's base_dir (dagster.yaml) for from_config below
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "dagster_dev.log"
    server = start_dagster_dev(port, env, log_path)
    try:
        wait_until_ready(url, server, timeout=600, details=lambda: tail(log_path))  # a hang guard: busy machine
        assert "chapter-2-retailer_kpis" in load_workspace(url)
        run_ids = launch_day_runs(url, DAYS)
        instance = DagsterInstance.from_config(str(home))
        runs = wait_finished(instance, run_ids, timeout=1800)  # a hang guard: 10 serialized runs, busy machine
    finally:
        stop_group(server)

    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS] * len(DAYS)
    events = [entry for run_id in run_ids for entry in instance.all_logs(run_id) if entry.is_dagster_event]
    # A lock collision that succeeded on retry still ends in SUCCESS: no step may have failed or retried.
    assert not retries_or_failures(events), retries_or_failures(events)
    # The steps that open the DuckDB file, derived from the definitions (not from their pool), never overlapped.
    # (The queue holds back runs whose pool is full, so runs rarely overlap either; without the pool they do, and
    # fail on the file lock: see the mutation check of issue #20.)
    duckdb_ops = set(ops_touching_duckdb(defs))
    step_spans = spans(
        [entry for entry in events if entry.step_key in duckdb_ops],
        DagsterEventType.STEP_START,
        {DagsterEventType.STEP_SUCCESS},
    )
    assert len(step_spans) == len(DAYS) * len(duckdb_ops), step_spans
    assert not overlaps(step_spans), f"steps holding the DuckDB file ran at the same time: {overlaps(step_spans)}"
    with duckdb.connect(pipeline_env["DUCKDB_PATH"], read_only=True) as conn:
        days = [str(row[0]) for row in conn.execute("select date from kpi_daily order by date").fetchall()]
    assert days == DAYS
