"""`make dbt-docs` for real: dbt's docs site generated into LOCAL_STATE_DIR and served on 127.0.0.1.

A fresh clone's case: no warehouse yet, so the site has every model and description but an empty catalog.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from dagster_project.settings import DBT_PROJECT_DIR
from tests.support.dagster_server import tail
from tests.support.ui import MAKE, command_env, make_variables
from tooling.processes import free_port, start_group, stop_group, wait_until


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def answers(url: str) -> bool:
    try:
        fetch(url)
    except OSError:
        return False
    return True


@pytest.mark.services
def test_make_dbt_docs_serves_the_site_of_the_dbt_project(tmp_path):
    port = free_port()
    state_dir = tmp_path / "local_state"
    warehouse = tmp_path / "not-built-yet" / "warehouse.duckdb"
    target_before = sorted(path.name for path in (DBT_PROJECT_DIR / "target").iterdir())
    variables = {"LOCAL_STATE_DIR": str(state_dir), "DUCKDB_PATH": str(warehouse), "DBT_DOCS_PORT": str(port)}
    log_path = tmp_path / "dbt-docs.log"
    make = start_group([*MAKE, "dbt-docs", *make_variables(variables)], command_env(), log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: make.poll() is not None or answers(f"{url}/index.html"),
            timeout=300,
            what=f"{url}/index.html",
            details=lambda: tail(log_path),
        )
        assert make.poll() is None, tail(log_path)

        index = fetch(f"{url}/index.html").decode()
        manifest = json.loads(fetch(f"{url}/manifest.json"))
        catalog = json.loads(fetch(f"{url}/catalog.json"))
    finally:
        stop_group(make)

    assert "<title>dbt Docs</title>" in index
    kpi_daily = manifest["nodes"]["model.retailer_kpis.kpi_daily"]
    assert kpi_daily["description"]
    assert {"revenue", "units_sold", "average_sales_price"} <= set(kpi_daily["columns"])
    assert catalog["nodes"] == {}  # no warehouse yet: no column types, and the output says so
    output = log_path.read_text()
    assert f"No warehouse at {warehouse} yet" in output
    assert f"dbt docs: {url}" in output
    # Generated into LOCAL_STATE_DIR; the dbt project and the real warehouse are untouched.
    assert (state_dir / "dbt-docs" / "index.html").exists()
    assert not warehouse.exists()
    assert sorted(path.name for path in (DBT_PROJECT_DIR / "target").iterdir()) == target_before
