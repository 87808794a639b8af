"""The Chapter 2 location is a `dg` project: Dagster's own CLI checks, lists and serves it from pyproject.toml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest

from dagster_project.settings import PROJECT_ROOT
from tests.support.dagster_server import VENV_BIN, load_workspace, tail, wait_until_ready
from tooling.processes import free_port, start_group, stop_group

LOCATION = "chapter-2-retailer_kpis"
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def dg_env() -> dict[str, str]:
    """The environment of a shell with the project's .venv activated (dg compares it with the project's .venv)."""
    return {**os.environ, "VIRTUAL_ENV": sys.prefix, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}


def dg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "dg"), *args],
        cwd=PROJECT_ROOT,
        env=dg_env(),
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard only: each call loads the definitions on a busy machine
        stdin=subprocess.DEVNULL,
    )


def test_dg_and_the_dagster_cli_load_the_same_code_location():
    """[tool.dg.project] and [tool.dagster] (read by a bare `dagster dev`) name the same module and location."""
    dg_project, dagster = PYPROJECT["tool"]["dg"]["project"], PYPROJECT["tool"]["dagster"]
    assert PYPROJECT["tool"]["dg"]["directory_type"] == "project"
    assert dg_project["root_module"] == "dagster_project"
    assert dg_project["code_location_target_module"] == dagster["module_name"] == "dagster_project.definitions"
    assert dg_project["code_location_name"] == dagster["code_location_name"] == LOCATION


@pytest.mark.slow
def test_dg_check_defs_and_dg_list_defs():
    checked = dg("check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr[-4000:]
    assert "All definitions loaded successfully" in checked.stdout

    listed = dg("list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-4000:]
    defs = json.loads(listed.stdout)
    groups = {asset["asset_key"]: asset.get("group_name") for asset in defs["assets"]}
    in_group = ["operational_data", "fct_sales_lines", "kpi_daily", "kpi_daily_breakdown"]
    assert [groups.get(asset) for asset in in_group] == ["retailer_kpis"] * 4
    assert {"kpis_json", "kpis_warehouse"} <= groups.keys()
    assert "not_null_kpi_daily_date" in {check["name"] for check in defs["asset_checks"]}
    assert [job["name"] for job in defs["jobs"]] == ["retailer_kpis_job"]
    assert [schedule["name"] for schedule in defs["schedules"]] == ["retailer_kpis_job_schedule"]
    assert [sensor["name"] for sensor in defs["sensors"]] == ["new_batch_sensor"]
    assert {resource["name"] for resource in defs["resources"]} == {
        "dbt",
        "duckdb",
        "s3",
        "warehouse",
        "s3_json_io_manager",
        "postgres_time_series_io_manager",
    }


@pytest.mark.services
def test_dg_dev_serves_the_chapter_2_location(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "dg_dev.log"
    env = {**dg_env(), "DAGSTER_HOME": str(tmp_path)}
    server = start_group([str(VENV_BIN / "dg"), "dev", "-h", "127.0.0.1", "-p", str(port)], env, log_path)
    try:
        wait_until_ready(url, server, timeout=600, details=lambda: tail(log_path))  # a hang guard: busy machine
        locations = load_workspace(url, timeout=600, details=lambda: tail(log_path))
    finally:
        stop_group(server)

    assert list(locations) == [LOCATION]  # the dg project alone (make start-local serves Chapter 1 beside it)
    assert ("kpi_daily",) in locations[LOCATION].asset_keys
    assert "retailer_kpis" in locations[LOCATION].asset_groups
