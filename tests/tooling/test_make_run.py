"""`make run`'s main job, as a user runs it: a fresh instance, the local S3, the KPI table printed."""

import datetime as dt
import os
import re
import stat
import subprocess
import sys

import pytest

from dagster_project.settings import PROJECT_ROOT
from tests.support.kpi_reference import daily_kpis
from tooling import run, sample_data


def run_main(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tooling.run", "--start", "2023-08-02", "--days", "3"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=lambda: os.umask(0o022),  # a usual shell's umask: files world-readable unless made private
    )


@pytest.mark.slow
def test_make_run_prints_the_kpis_and_where_they_are(pipeline_env, tmp_path):
    env = {**pipeline_env, "DAGSTER_HOME": str(tmp_path / "dagster_home")}

    first = run_main(env)

    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    expected = daily_kpis(
        {
            (dt.date(2023, 8, 2) + dt.timedelta(i)).isoformat(): sample_data.batch_csv(
                dt.date(2023, 8, 2) + dt.timedelta(i), 120
            )
            for i in range(3)
        }
    )
    for day, values in expected.items():
        line = next(line for line in first.stdout.splitlines() if line.startswith(day))
        assert f"{values['revenue']:,.2f}" in line
        assert f"{values['units_sold']:,}" in line
        assert f"{values['average_sales_price']:.2f}" in line
    assert f"s3://{env['S3_BUCKET']}/kpis/YYYY-MM-DD.json (3 objects)" in first.stdout
    assert env["DUCKDB_PATH"] in first.stdout
    assert (tmp_path / "dagster_home" / "last_run.log").exists()
    # Owner-only, whatever the umask of the shell: the instance (runs, logs) and the warehouse file.
    assert stat.S_IMODE((tmp_path / "dagster_home").stat().st_mode) == 0o700
    readable = [str(path) for path in (tmp_path / "dagster_home").rglob("*") if path.stat().st_mode & 0o077]
    assert not readable, f"readable by others: {readable}"
    assert stat.S_IMODE(os.stat(env["DUCKDB_PATH"]).st_mode) == 0o600

    # A second run gives the same table.
    second = run_main(env)
    assert second.returncode == 0
    table = [line for line in first.stdout.splitlines() if re.match(r"^\d{4}-\d{2}-\d{2} ", line)]
    assert table == [line for line in second.stdout.splitlines() if re.match(r"^\d{4}-\d{2}-\d{2} ", line)]


def test_make_run_defaults_to_the_sample_days_up_to_the_latest_partition(monkeypatch):
    """The window `make run` prepares and materializes (both stubbed: a unit test of its arguments)."""
    calls = []
    monkeypatch.setattr(run.local_stack, "prepare_data", lambda start, days: calls.append(("prepare", start, days)))
    monkeypatch.setattr(run, "materialize", lambda first, last, days: calls.append(("materialize", first, last)) or 0.0)
    monkeypatch.setattr(run, "print_report", lambda *args: None)
    yesterday = {(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date()}

    run.main([])
    yesterday.add((dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date())  # in case midnight passed meanwhile
    (_, start, days), (_, first, last) = calls
    assert days == sample_data.SAMPLE_DAYS == 39
    assert dt.date.fromisoformat(last) in yesterday
    assert dt.date.fromisoformat(last) - start == dt.timedelta(days=38) and first == start.isoformat()

    calls.clear()
    run.main(["--days", "7"])
    assert calls[1][2] == last and dt.date.fromisoformat(last) - calls[0][1] == dt.timedelta(days=6)

    calls.clear()
    run.main(["--start", "2023-08-02", "--days", "3"])  # a fixed window, as before
    assert calls == [("prepare", dt.date(2023, 8, 2), 3), ("materialize", "2023-08-02", "2023-08-04")]
