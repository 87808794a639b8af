"""A run's window reaches dbt without invalidating the prepared partial parse (`make prepare`).

dbt parses the whole project again whenever --vars change (~1.3 s on a quiet machine, more than the models of a
day take); the window comes in the environment instead, read only while executing.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from dagster_project import dbt_args
from dagster_project.project import PARTIAL_PARSE_FILE, retailer_dbt_project, target_dir
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.support.dbt_cli import assert_ok, audit, warehouse_kpis
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tooling import sample_data

START = dt.date(2023, 8, 2)
ROWS = 50
FULL_REPARSE = "Unable to do partial parsing"
NOTHING_REPARSED = "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed"


def build_window(first: dt.date, days: int, target: Path) -> str:
    """`dbt build` of [first, first + days) as the dbt asset invokes it; dbt's log."""
    dbt = build_resources()["dbt"]
    invocation = dbt.cli(
        dbt_args.build_args(), env=dbt_args.window_env(first, first + dt.timedelta(days=days)), target_path=target
    ).wait()
    log = (target / "dbt.log").read_text()
    assert invocation.is_successful(), log[-4000:]
    return log


@pytest.mark.slow  # two dbt builds, ~10 s on a quiet machine
def test_two_windows_reuse_the_prepared_parse_and_build_exactly_their_days(pipeline_env, tmp_path, monkeypatch):
    assert (target_dir(retailer_dbt_project) / PARTIAL_PARSE_FILE).exists(), "make prepare keeps dbt's saved parse"
    sample_data.upload(load_settings(), START, count=3, rows=ROWS)
    assert_ok(audit(pipeline_env, START.isoformat(), (START + dt.timedelta(days=3)).isoformat()))

    # dbt reads DBT_TARGET as its --target flag: whether the caller's environment sets it or not, the dbt the
    # project starts gets it, so the parse prepared in either case stays valid.
    monkeypatch.delenv("DBT_TARGET", raising=False)
    first = build_window(START, 1, tmp_path / "first")
    monkeypatch.setenv("DBT_TARGET", "DuckDB")
    logs = [first, build_window(START + dt.timedelta(days=1), 2, tmp_path / "next")]

    for log in logs:
        assert FULL_REPARSE not in log
        assert NOTHING_REPARSED in log
    # Each run built its own window, nothing else, with the same KPIs as an independent computation.
    expected = daily_kpis(
        {(START + dt.timedelta(i)).isoformat(): sample_data.batch_csv(START + dt.timedelta(i), ROWS) for i in range(3)}
    )
    assert_kpis_match(warehouse_kpis(pipeline_env), expected)
    # Set for each dbt process only: nothing is left in this one.
    assert dbt_args.WINDOW_ENV not in os.environ
