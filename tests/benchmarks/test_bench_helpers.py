"""The pure helpers of `make bench` (the benchmarks package): no timing is asserted here."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import pytest

from benchmarks import config, measure, report, verify
from tooling import run as project_run


def full_size_figures(**overrides) -> dict:
    figures = {
        "rows": 365_000,
        "anchor_a_s": 2.0,
        "anchor_a_store_s": 4.0,
        "anchor_b_extrapolated_s": 4_000.0,
        "project_backfill_s": 10.0,
        "project_backfill_postgres_s": 20.0,
        "project_peak_rss_mb": 700.0,
        "daily_run_s": 9.0,
        "dbt_floor_s": 4.0,
    }
    return {**figures, **overrides}


STARTUP = {"code_location_load_s": 2.0, "ui_ready_s": 5.0}


def test_sizes_are_parsed_in_order_without_repeats():
    assert config.parse_sizes("small") == ["small"]
    assert config.parse_sizes("year, small,year") == ["year", "small"]
    with pytest.raises(ValueError, match="unknown size"):
        config.parse_sizes("huge")
    with pytest.raises(ValueError):
        config.parse_sizes(" , ")


def test_the_sizes():
    assert (config.SIZES["small"].days, config.SIZES["small"].rows_per_day) == (39, 120)
    assert config.SIZES["year"].rows == 365_000
    assert config.SIZES["10m"].rows == 365 * 27_400
    assert config.SIZES["small"].first == dt.date(2023, 8, 2)
    assert config.SIZES["small"].last == dt.date(2023, 9, 9)


def test_ratio_is_none_without_both_figures():
    assert report.ratio(10, 4) == 2.5
    assert report.ratio(None, 4) is None
    assert report.ratio(10, 0) is None
    assert report.ratio(10, None) is None


def test_anchor_b_days_are_spread_over_the_range():
    first = dt.date(2023, 8, 2)
    days = config.spread_days(first, 39, 5)
    assert len(set(days)) == 5
    assert days == sorted(days)
    assert days[0] == first
    assert days[-1] == first + dt.timedelta(days=38)
    assert config.spread_days(first, 3, 5) == [first, first + dt.timedelta(days=1), first + dt.timedelta(days=2)]
    assert config.spread_days(first, 10, 1) == [first]


def test_a_single_partition_run_is_the_project_command_with_one_partition():
    command = config.single_partition_command(dt.date(2024, 8, 1))
    backfill = project_run.materialize_command("2024-08-01", "2024-08-01")
    assert "--partition-range" not in command
    assert command[command.index("--partition") + 1] == "2024-08-01"
    assert command[: command.index("--partition")] == backfill[: backfill.index("--partition-range")]


def test_the_bench_environment_points_at_its_own_resources(tmp_path):
    base = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "S3_BUCKET": "dagster",
        "WAREHOUSE_URL": "postgresql://prod/db",
        "DBT_TARGET_PATH": "/elsewhere",
        "DAGSTER_HOME": "/work/main/dagster_home",
    }
    env = config.bench_env(
        base,
        endpoint="http://127.0.0.1:5555",
        bucket="bench-small",
        duckdb_path=tmp_path / "w.duckdb",
        dagster_home=tmp_path / "home",
    )
    assert env["S3_ENDPOINT_URL"] == "http://127.0.0.1:5555"
    assert env["S3_BUCKET"] == "bench-small"
    assert env["DUCKDB_PATH"] == str(tmp_path / "w.duckdb")
    assert env["DAGSTER_HOME"] == str(tmp_path / "home")
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("test", "test")
    assert "WAREHOUSE_URL" not in env and "DBT_TARGET_PATH" not in env
    assert env["DAGSTER_EVENT_BATCH_SIZE"] == "1000"  # batched event writes, as .env.example sets them
    assert env["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] == "true"  # a ranged run's plan, the same
    assert env["HOME"] == "/root"
    assert env["PATH"].split(os.pathsep) == [str(config.BIN_DIR), "/usr/bin"]
    assert base["S3_BUCKET"] == "dagster"  # the caller's mapping is left alone
    settings = config.settings_for(env)
    assert (settings.s3_bucket, settings.duckdb_path, settings.warehouse_url) == (
        "bench-small",
        tmp_path / "w.duckdb",
        None,
    )


def test_compare_kpis_reports_every_difference():
    expected = {"2023-08-02": {"revenue": 10.0, "order_lines": 3}, "2023-08-03": {"revenue": 5.0, "order_lines": 1}}
    assert verify.compare_kpis(expected, expected) == []
    assert verify.compare_kpis({day: dict(v) for day, v in expected.items()}, expected, rel=0) == []
    wrong = {"2023-08-02": {"revenue": 10.1, "order_lines": 3}, "2023-08-04": {"revenue": 1.0, "order_lines": 1}}
    problems = verify.compare_kpis(wrong, expected)
    assert any("missing" in p and "2023-08-03" in p for p in problems)
    assert any("unexpected" in p and "2023-08-04" in p for p in problems)
    assert any(p.startswith("2023-08-02 revenue") for p in problems)


def test_targets_pass_miss_or_not_measured():
    sizes = {"year": full_size_figures(), "10m": full_size_figures(project_peak_rss_mb=2_000.0)}
    sizes = {name: {**figures, **report.size_ratios(figures)} for name, figures in sizes.items()}
    rows = report.evaluate_targets(sizes, STARTUP)
    by_key = {(row["size"], row["metric"]): row for row in rows}
    assert by_key[("year", "ratio_project_to_anchor_a")]["value"] == 5.0
    assert by_key[("year", "ratio_project_to_anchor_a")]["status"] == "PASS"  # 5x <= 8x
    assert by_key[("year", "ratio_project_postgres_to_anchor_a")]["status"] == "MISS"  # 10x > 8x
    assert by_key[("10m", "ratio_project_to_anchor_a_store")]["value"] == 2.5
    assert by_key[("10m", "ratio_project_to_anchor_a_store")]["status"] == "PASS"  # 2.5x <= 3x anchor A'
    assert by_key[("year", "ratio_anchor_b_to_project")]["status"] == "PASS"  # 400x >= 100x
    assert by_key[("10m", "project_peak_rss_mb")]["status"] == "MISS"
    assert by_key[("year", "ratio_daily_to_dbt_floor")]["status"] == "MISS"  # 2.25x > 2x
    assert by_key[("-", "code_location_load_s")]["status"] == "PASS"  # 2 s <= 2 s
    assert by_key[("-", "ui_ready_s")]["status"] == "PASS"  # 5 s <= 5 s

    only_small = report.evaluate_targets(
        {"small": full_size_figures()}, {"code_location_load_s": 2.5, "ui_ready_s": 6.0}
    )
    statuses = {row["status"] for row in only_small if row["size"] != "-"}
    assert statuses == {"NOT MEASURED"}
    assert [row["status"] for row in only_small if row["size"] == "-"] == ["MISS", "MISS"]
    # The Postgres backfill not measured (no server binaries): its target says so.
    no_postgres = {"year": full_size_figures(project_backfill_postgres_s=None)}
    no_postgres = {name: {**f, **report.size_ratios(f)} for name, f in no_postgres.items()}
    rows = {row["metric"]: row for row in report.evaluate_targets(no_postgres, STARTUP) if row["size"] == "year"}
    assert rows["ratio_project_postgres_to_anchor_a"]["status"] == "NOT MEASURED"


def test_the_results_document_has_every_required_key():
    machine = {"logical_cores": 2, "memory_total_mb": 24_000, "versions": {"dagster": "1.13.27"}}
    document = report.build_results(
        machine, {"small": full_size_figures(rows=4_680)}, STARTUP, ["bench.py"], "2026-01-01T00:00:00+00:00"
    )
    assert report.missing_keys(document) == []
    assert document["sizes"]["small"]["ratio_project_to_anchor_a"] == 5.0
    assert document["code_location_load_s"] == 2.0
    assert json.loads(json.dumps(document)) == document  # plain JSON

    assert document["sizes"]["small"]["ratio_project_to_anchor_a_store"] == 2.5
    assert document["sizes"]["small"]["ratio_project_postgres_to_anchor_a"] == 10.0

    del document["sizes"]["small"]["dbt_floor_s"]
    del document["sizes"]["small"]["anchor_a_store_s"]
    del document["ui_ready_s"]
    assert report.missing_keys(document) == [
        "ui_ready_s",
        "sizes.small.anchor_a_store_s",
        "sizes.small.dbt_floor_s",
    ]
    assert "sizes.<at least one size>" in report.missing_keys({**document, "sizes": {}})


def test_the_results_file_is_named_by_size_and_utc_time():
    when = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert report.results_file_name(["small"], when) == "small-20260304T050607Z.json"
    assert report.results_file_name(["year", "10m"], when) == "year+10m-20260304T050607Z.json"


def test_the_tables_print_missing_figures_as_dashes():
    sizes = {"small": full_size_figures(rows=4_680, anchor_b_extrapolated_s=None), "year": full_size_figures()}
    table = report.format_table(sizes)
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["size", "rows"]
    assert lines[2].startswith("small") and lines[3].startswith("year")
    assert len({len(line) for line in lines}) == 1  # aligned
    assert " - " in lines[2] + " "
    targets = report.format_targets(report.evaluate_targets({}, STARTUP))
    assert "NOT MEASURED" in targets and "PASS" in targets


def test_the_tree_sampler_sees_a_child_process(tmp_path):
    script = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(1)'])"
    measured = measure.run_measured([sys.executable, "-c", script], os.environ, tmp_path, tmp_path / "log.txt")
    assert measured.returncode == 0
    assert measured.peak_rss_mb > 0
    assert measured.peak_processes == 2
    assert measured.log.exists()
