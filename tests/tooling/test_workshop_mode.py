"""Chapter 2's hands-on mode without dbt or Dagster: the solution regions of the reference code and their stubs, and
make workshop / make solution / make workshop-reset on a small git repository (nothing uncommitted is ever lost)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tooling import workshop_mode
from tooling.workshop import EXERCISES, failure_messages, select
from tooling.workshop_regions import STUBS_FOLDER, RegionError, marked_files, regions, with_reference, with_stubs

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE = """import os


def answer():
    # >>> workshop 1 (stub: tooling/workshop_stubs/1_answer.stub)
    return 42
    # <<< workshop 1


# >>> workshop 2 (stub: tooling/workshop_stubs/2_name.stub)
NAME = "reference"
# <<< workshop 2
"""
STUBS = {"1_answer.stub": "    # Assignment 1: return the answer.\n    return None\n", "2_name.stub": "NAME = None\n"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(tmp_path) -> Path:
    """A git repository shaped like the workshop: one marked file, its stubs, one commit on main."""
    root = tmp_path / "project"
    (root / "dagster_project").mkdir(parents=True)
    (root / "dagster_project" / "code.py").write_text(CODE)
    (root / STUBS_FOLDER).mkdir(parents=True)
    for name, text in STUBS.items():
        (root / STUBS_FOLDER / name).write_text(text)
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "reference")
    return root


def code(root: Path) -> str:
    return (root / "dagster_project" / "code.py").read_text()


def test_every_region_of_the_reference_has_its_stub_and_each_assignment_its_regions():
    marked = marked_files(REPO_ROOT)
    assignments = {region.assignment for found in marked.values() for region in found}
    assert assignments == {exercise.id for exercise in select("ch2")} == {"1", "2", "3", "4", "5", "6"}
    stubs = {region.stub for found in marked.values() for region in found}
    assert stubs == {path.relative_to(REPO_ROOT).as_posix() for path in (REPO_ROOT / STUBS_FOLDER).iterdir()}
    for path in marked:
        text = (REPO_ROOT / path).read_text()
        stubbed = with_stubs(text, path, REPO_ROOT)
        assert stubbed != text
        if path.endswith(".py"):
            compile(stubbed, path, "exec")  # the starting point still loads
        for assignment in {region.assignment for region in marked[path]}:  # each solution comes back exactly
            back = with_reference(stubbed, text, path, assignment)
            assert with_reference(back, text, path, assignment) == back
        restored = stubbed
        for assignment in {region.assignment for region in marked[path]}:
            restored = with_reference(restored, text, path, assignment)
        assert restored == text


def test_markers_that_do_not_pair_up_name_the_file_and_line():
    with pytest.raises(RegionError, match=r"a\.py:1: workshop region 1 is never closed"):
        regions("# >>> workshop 1 (stub: s.stub)\nx = 1\n", "a.py")
    with pytest.raises(RegionError, match=r"a\.py:2: `<<< workshop 2` closes no region"):
        regions("-- >>> workshop 1 (stub: s.stub)\n-- <<< workshop 2\n", "a.py")


def test_a_dirty_tree_is_refused_and_nothing_changes(project, capsys):
    (project / "dagster_project" / "code.py").write_text(CODE + "MINE = 1\n")

    assert workshop_mode.start(project) == 1

    assert "Not started, nothing changed: these files have uncommitted changes: dagster_project/code.py" in (
        capsys.readouterr().out
    )
    assert code(project) == CODE + "MINE = 1\n"
    assert git(project, "branch", "--list").split() == ["*", "main"]


def test_workshop_solution_and_reset_never_lose_work(project, capsys):
    assert workshop_mode.start(project) == 0
    stubbed = code(project)
    assert "# Assignment 1: return the answer.\n    return None\n" in stubbed and "NAME = None\n" in stubbed
    assert "return 42" not in stubbed and "# >>> workshop 1 (stub:" in stubbed  # the markers stay
    assert git(project, "branch", "--show-current").strip() == "workshop"
    assert git(project, "status", "--porcelain") == ""  # the starting point is a commit of its own
    # The attendee's work: an attempt in region 1 and a line elsewhere, not committed.
    attempt = stubbed.replace("return None", "return 41").replace("import os\n", "import os\nimport sys\n")
    (project / "dagster_project" / "code.py").write_text(attempt)

    assert workshop_mode.solve("1", project) == 0

    solved = code(project)
    assert "return 42" in solved and "import sys" in solved and "NAME = None" in solved
    [backup] = (project / ".local" / "workshop-backups").glob("1-*/dagster_project/code.py")
    assert backup.read_text() == attempt
    assert workshop_mode.solve("1", project) == 0
    assert "already in place" in capsys.readouterr().out.splitlines()[-1]

    assert workshop_mode.reset(project) == 1  # uncommitted work would not follow: refused, nothing changes
    assert "Not reset, nothing changed" in capsys.readouterr().out and code(project) == solved
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "my work")
    assert workshop_mode.reset(project) == 0
    assert code(project) == CODE and git(project, "branch", "--show-current").strip() == "main"

    assert workshop_mode.start(project) == 0  # again: the branch with the attendee's commit, not a new start
    assert code(project) == solved


def test_stubs_are_made_from_the_current_code(project):
    changed = CODE.replace("import os\n", "import os\nimport json\n")
    (project / "dagster_project" / "code.py").write_text(changed)
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "the reference moves on")

    assert workshop_mode.start(project) == 0

    assert code(project) == with_stubs(changed, "dagster_project/code.py", project)
    assert "import json" in code(project) and "return None" in code(project)
    assert workshop_mode.solve("2", project) == 0 and 'NAME = "reference"' in code(project)


def test_chapter_2_ids_are_plain_numbers_with_checks_in_the_tests_folder():
    for number in range(1, 7):
        exercise = EXERCISES[str(number)]
        assert exercise.solution is None
        assert all((REPO_ROOT / node_id).is_file() for node_id in exercise.checks)


def test_a_check_that_could_not_run_is_not_reported_as_passed(tmp_path):
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite><testcase classname="tests.workshop.check_6_postgres_io_manager" name="test_x">'
        '<skipped message="PostgreSQL server binaries not found" /></testcase></testsuite></testsuites>'
    )
    assert failure_messages(report) == {
        "tests.workshop.check_6_postgres_io_manager": [
            "could not check it on this machine: PostgreSQL server binaries not found"
        ]
    }
