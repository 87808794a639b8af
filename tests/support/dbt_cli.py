"""dbt as a user runs it outside Dagster: audit the window first (dbt reads only audited snapshots), then build."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb

from dagster_project import kpis
from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.support.kpi_reference import rows_by_day

KPI_COLUMNS = ["date", *kpis.KPI_COLUMNS]
DBT = str(Path(sys.executable).parent / "dbt")


def audit(env: dict, min_date: str, max_date: str) -> subprocess.CompletedProcess:
    """`python -m tooling.audit` for [min_date, max_date): snapshots written, verdicts recorded."""
    days = (dt.date.fromisoformat(max_date) - dt.date.fromisoformat(min_date)).days
    return subprocess.run(
        [sys.executable, "-m", "tooling.audit", "--start", min_date, "--days", str(days)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def isolated(env: dict, folder: Path) -> dict:
    """`env` with dbt's artifacts and logs in `folder`: a test's dbt never writes into dbt_project/."""
    return {**env, "DBT_TARGET_PATH": str(folder / "target"), "DBT_LOG_PATH": str(folder / "logs")}


def dbt_build(env: dict, min_date: str, max_date: str, *args: str) -> subprocess.CompletedProcess:
    """`cd dbt_project && dbt build` as a user runs it, with only the documented environment (made `isolated`)."""
    assert "DBT_TARGET_PATH" in env and "DBT_LOG_PATH" in env, "pass isolated(env, tmp_path): not dbt_project/target"
    vars_ = json.dumps({"min_date": min_date, "max_date": max_date})
    return subprocess.run(
        [DBT, "build", "--vars", vars_, *args],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def audit_and_build(env: dict, min_date: str, max_date: str) -> subprocess.CompletedProcess:
    assert_ok(audit(env, min_date, max_date))
    return dbt_build(env, min_date, max_date)


def warehouse_kpis(env: dict) -> dict[str, dict]:
    with duckdb.connect(env["DUCKDB_PATH"], read_only=True) as conn:
        rows = conn.execute(f"select {', '.join(KPI_COLUMNS)} from main.kpi_daily order by date").fetchall()
    return rows_by_day(rows, KPI_COLUMNS)


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
