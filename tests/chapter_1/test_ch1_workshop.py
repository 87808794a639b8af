"""Chapter 1's hands-on mode: each "Try it" check fails on the starting code and passes with its solution."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.guides import chapter_1_guide
from tests.support.prerequisites import missing
from tooling.workshop import EXERCISES, patched_files, select

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAPTER_1 = [exercise for exercise in EXERCISES.values() if exercise.id.startswith("ch1-")]
README = chapter_1_guide()
# The venv is not in the clone: make gets its tools from this one, and takes the install as done.
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={Path(sys.executable).parent}"]


def _make(clone: Path, target: str, assignment: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}
    return subprocess.run(
        [*MAKE, target, f"ASSIGNMENT={assignment}"], cwd=clone, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def clone(tmp_path) -> Path:
    """A git clone of this checkout's HEAD: the starting code, as an attendee gets it."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        missing("this is not a git checkout (make solution applies its patches with git)")
    target = tmp_path / "workshop"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(target)], check=True)
    return target


def test_every_section_has_an_exercise_named_after_it():
    assert [exercise.id for exercise in CHAPTER_1] == [f"ch1-{section}" for section in range(1, 16)]
    # Plain numbers are Chapter 2's assignments.
    assert set(EXERCISES) - {exercise.id for exercise in CHAPTER_1} == {str(number) for number in range(1, 7)}
    assert select("ch1") == CHAPTER_1
    for exercise in CHAPTER_1:
        assert all((REPO_ROOT / node_id.split("::")[0]).is_file() for node_id in exercise.checks), exercise.id
        assert (REPO_ROOT / exercise.solution).is_file(), exercise.id


def test_the_guide_gives_each_section_a_try_it_with_its_commands():
    sections = README.split("\n## ")[1:]
    numbered = [section for section in sections if section[:2].rstrip(".").isdigit()]
    assert len(numbered) == 15
    for number, section in enumerate(numbered, start=1):
        assert "**Try it**" in section, f"section {number} has no Try it"
        assert f"make check ASSIGNMENT=ch1-{number}" in section, f"section {number} does not name its check"
        assert f"make solution ASSIGNMENT=ch1-{number}" in section, f"section {number} does not name its solution"


def test_every_solution_applies_to_the_starting_code():
    for exercise in CHAPTER_1:
        proc = subprocess.run(
            ["git", "apply", "--check", exercise.solution], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0, f"{exercise.solution} no longer fits the code: {proc.stderr}"
        assert patched_files(REPO_ROOT / exercise.solution, REPO_ROOT)


def test_solution_keeps_uncommitted_edits_or_changes_nothing(clone):
    ops = clone / "chapter_1" / "ops_and_jobs.py"
    # An edit the solution does not touch: kept, and a copy from before is in .local/workshop-backups/.
    ops.write_text(ops.read_text() + "\nMY_NOTE = 1\n")
    before = ops.read_text()
    applied = _make(clone, "solution", "ch1-1")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "MY_NOTE = 1" in ops.read_text() and "def report_result" in ops.read_text()
    [backup] = (clone / ".local" / "workshop-backups").glob("ch1-1-*/chapter_1/ops_and_jobs.py")
    assert backup.read_text() == before
    assert ".local/workshop-backups/ch1-1-" in applied.stdout
    assert "again" not in _make(clone, "solution", "ch1-1").stdout.lower()  # already in place: says so, exit 0

    # An edit on the lines the solution changes: refused, nothing written.
    graph = clone / "chapter_1" / "graph_assets.py"
    edited = graph.read_text().replace("fetch_sample_csv())", "fetch_sample_csv())  # mine")
    graph.write_text(edited)
    refused = _make(clone, "solution", "ch1-4")
    assert refused.returncode != 0
    assert "Not applied, nothing changed" in refused.stdout and "git stash" in refused.stdout
    assert graph.read_text() == edited


@pytest.mark.slow  # two pytest runs of the 15 checks in a clone, 15 make solution: about half a minute
def test_each_check_fails_on_the_starting_code_and_passes_with_its_solution(clone):
    starting = _make(clone, "check", "ch1")
    assert starting.returncode != 0
    for exercise in CHAPTER_1:
        assert f"NOT YET {exercise.id}: " in starting.stdout
        assert f"  Task: {exercise.task}" in starting.stdout
    assert "Traceback" not in starting.stdout + starting.stderr
    # Each problem line is a plain sentence: the check's message, e.g. what the file lacks.
    assert "  - chapter_1/ops_and_jobs.py has no report_result yet" in starting.stdout
    assert "  - the last partition is 2023-09-09, not 2023-08-31 (end_date is exclusive)" in starting.stdout

    one = _make(clone, "check", "ch1-8")
    assert one.returncode != 0 and one.stdout.startswith("NOT YET ch1-8: ")

    for exercise in CHAPTER_1:
        applied = _make(clone, "solution", exercise.id)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert f"Applied the solution of {exercise.id}" in applied.stdout

    solved = _make(clone, "check", "ch1")
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert solved.stdout.splitlines() == [f"OK {exercise.id}: {exercise.title}" for exercise in CHAPTER_1]
    one = _make(clone, "check", "ch1-8")
    assert one.returncode == 0 and one.stdout == f"OK ch1-8: {EXERCISES['ch1-8'].title}\n"
