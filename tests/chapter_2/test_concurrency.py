"""No collisions on DuckDB: many runs launched at once queue behind the `duckdb_warehouse` pool."""

import datetime as dt
import shutil
import time

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster_server import free_port, graphql, load_workspace, start_dagster_dev, stop_group, tail, wait_until_ready

from dagster_project import sample_data
from dagster_project.settings import PROJECT_ROOT, load_settings

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
DAYS = [(dt.date(2023, 8, 2) + dt.timedelta(days=i)).isoformat() for i in range(10)]


@pytest.mark.slow
def test_ten_runs_launched_at_once_all_succeed_without_lock_errors(pipeline_env, tmp_path, monkeypatch):
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
        wait_until_ready(url, server, details=lambda: tail(log_path))
        assert "chapter-2-retailer_kpis" in load_workspace(url)
        run_ids = []
        for day in DAYS:
            params = {
                "selector": {
                    "repositoryLocationName": "chapter-2-retailer_kpis",
                    "repositoryName": "__repository__",
                    "jobName": "retailer_kpis_job",
                },
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": day}]},
            }
            launched = graphql(url, LAUNCH, {"params": params})["launchRun"]
            assert launched["__typename"] == "LaunchRunSuccess", launched
            run_ids.append(launched["run"]["runId"])

        instance = DagsterInstance.from_config(str(home))
        deadline = time.monotonic() + 600
        while True:
            runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
            if all(run.is_finished for run in runs):
                break
            assert time.monotonic() < deadline, [run.status for run in runs]
            time.sleep(2)
    finally:
        stop_group(server)

    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS] * len(DAYS)
    for run_id in run_ids:
        messages = " ".join(entry.message or "" for entry in instance.all_logs(run_id))
        assert "Could not set lock" not in messages
    with duckdb.connect(pipeline_env["DUCKDB_PATH"], read_only=True) as conn:
        days = [str(row[0]) for row in conn.execute("select date from kpi_daily order by date").fetchall()]
    assert days == DAYS
