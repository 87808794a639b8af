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
from tooling import sample_data


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
