"""Chapter 2 as a workshop to do, in a temporary clone as an attendee gets it: `make workshop` gives the starting
point, every assignment's check fails saying what is missing, and each reference solution, in the seed's order,
makes its check pass; with all six the code is the reference again, whose KPIs check 4 compares to kpi_reference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prerequisites import missing
from tooling.workshop import EXERCISES, select

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The venv is not in the clone: make gets its tools from this one, and takes the install as done.
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={BIN}"]
# What each check says on the starting point: the first thing its assignment lacks.
STARTING_POINT_PROBLEMS = {
    "1": "operational_data's partition 2023-08-02 has no metadata",
    "2": "revenue has no row for 2023-08-02, 2023-08-03",
    "3": "operational_data takes no run config source_data_path yet (add the field to OperationalDataConfig)",
    "4": "kpis_json, kpis_warehouse not partitioned by day",
    "5": "storing 2023-08-02...2023-08-04 through s3_json_io_manager: delivered failed: NotImplementedError: "
    "Assignment 5: S3JsonIOManager.handle_output",
    "6": "storing 2023-08-02...2023-08-04 through postgres_time_series_io_manager: delivered failed: "
    "NotImplementedError: Assignment 6: PostgresTimeSeriesIOManager.handle_output",
}


def _run(clone: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}
    env["DAGSTER_HOME"] = str(clone.parent / "dagster_home")
    return subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow  # one clone: make workshop, one run of the six checks, then six solutions and six checks
@pytest.mark.postgres  # check 6 starts a real PostgreSQL
def test_make_workshop_then_each_solution_in_order_passes_its_check(tmp_path):
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        missing("this is not a git checkout (make workshop keeps the starting point on a git branch)")
    clone = tmp_path / "workshop"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    (clone.parent / "dagster_home").mkdir()
    reference = _run(clone, "git", "rev-parse", "HEAD").stdout.strip()

    started = _run(clone, *MAKE, "workshop")
    assert started.returncode == 0, started.stdout + started.stderr
    assert _run(clone, "git", "branch", "--show-current").stdout.strip() == "workshop"
    # The starting point loads in Dagster: the attendee uses the UI while working.
    validated = _run(clone, str(BIN / "dagster"), "definitions", "validate", "-m", "dagster_project.definitions")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    starting = _run(clone, *MAKE, "check", "ASSIGNMENT=ch2")
    assert starting.returncode != 0
    assert "Traceback" not in starting.stdout + starting.stderr
    for exercise in select("ch2"):
        block = starting.stdout.split(f"NOT YET {exercise.id}: {exercise.title}\n")[1].split("NOT YET")[0]
        assert f"  - {STARTING_POINT_PROBLEMS[exercise.id]}" in block, starting.stdout
        assert f"  Task: {exercise.task}" in block

    for number in STARTING_POINT_PROBLEMS:
        applied = _run(clone, *MAKE, "solution", f"ASSIGNMENT={number}")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert f"Put the reference solution of assignment {number} in " in applied.stdout
        checked = _run(clone, *MAKE, "check", f"ASSIGNMENT={number}")
        assert checked.stdout == f"OK {number}: {EXERCISES[number].title}\n", checked.stdout + checked.stderr

    # Every solution back: the code is the reference's, byte for byte (check 4 compared its KPIs to kpi_reference).
    assert _run(clone, "git", "diff", "--stat", reference, "--", "dagster_project", "dbt_project").stdout == ""
