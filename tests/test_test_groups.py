"""The suite's own rules: `pytest tests` leaves out every slow group, and a missing prerequisite fails under CI."""

import re
import shlex
import tomllib

import pytest

from dagster_project.settings import PROJECT_ROOT
from tests.support.prerequisites import missing

PYTEST_OPTIONS = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
BARE_SKIP = re.compile(r"pytest\.(skip|importorskip|mark\.skip)\(")


def test_the_default_run_leaves_out_every_registered_group():
    groups = {line.split(":")[0] for line in PYTEST_OPTIONS["markers"]}
    args = shlex.split(PYTEST_OPTIONS["addopts"])
    expression = args[args.index("-m") + 1]
    assert expression.startswith("not (")
    assert set(re.findall(r"\w+", expression)) - {"not", "or"} == groups


def test_make_test_replaces_the_filter_to_run_every_group():
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe and '$(BIN)/pytest -m ""' in recipe.group(1)


def test_a_missing_prerequisite_skips_here_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is absent"):
        missing("chromium is absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true, but chromium is absent"):
        missing("chromium is absent")


def test_every_skip_goes_through_the_prerequisites_helper():
    bare = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in sorted((PROJECT_ROOT / "tests").rglob("*.py"))
        if path.name != "prerequisites.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BARE_SKIP.search(line)
    ]
    assert not bare, "skip through prerequisites.missing(what), which fails under CI:\n" + "\n".join(bare)


class _Item:
    """What pytest_collection_modifyitems reads of a collected test: its fixtures, markers, and add_marker."""

    def __init__(self, *markers: str):
        self.fixturenames: list[str] = []
        self.keywords = dict.fromkeys(markers, True)
        self.added: list[pytest.Mark] = []

    def add_marker(self, marker) -> None:
        self.added.append(marker.mark)


def test_make_test_spreads_the_suite_and_keeps_the_podman_tests_on_one_process():
    from tests.conftest import pytest_collection_modifyitems

    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe and "-n $(TEST_WORKERS) --dist loadgroup" in recipe.group(1)
    podman, quick = _Item("podman", "slow"), _Item()
    pytest_collection_modifyitems(None, [podman, quick])
    assert [(mark.name, mark.args) for mark in podman.added] == [("xdist_group", ("podman",))]
    assert quick.added == []
