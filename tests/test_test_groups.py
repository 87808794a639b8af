"""The suite's own rules: `pytest tests` leaves out every slow group, and a missing prerequisite fails under CI."""

import os
import re
import shlex
import subprocess
import sys
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


PLAIN_TESTS = """
import os
import pytest


def record(name):
    with open(os.path.join(os.environ["WORKERS_SEEN"], os.environ["PYTEST_XDIST_WORKER"]), "a") as out:
        out.write(name + "\\n")


@pytest.mark.parametrize("n", range(4))
def test_plain(n):
    record(f"plain-{n}")
"""
PODMAN_TESTS = PLAIN_TESTS.replace("def test_plain", "@pytest.mark.podman\ndef test_in_podman").replace(
    "plain-", "podman-"
)


def test_make_test_spreads_the_suite_keeping_modules_whole_and_starts_the_podman_ones(tmp_path):
    """The real pytest-xdist of `make test` over a throwaway suite that uses this conftest's collection hook."""
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe and "-n $(TEST_WORKERS) --dist loadfile" in recipe.group(1)
    suite, seen = tmp_path / "suite", tmp_path / "seen"
    suite.mkdir(), seen.mkdir()
    (suite / "conftest.py").write_text("from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n")
    for name in ("a", "b", "c"):  # collected before the Podman module
        (suite / f"test_{name}_plain.py").write_text(PLAIN_TESTS.replace("plain-", f"{name}-"))
    (suite / "test_z_podman.py").write_text(PODMAN_TESTS)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "WORKERS_SEEN": str(seen)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"]
    run = subprocess.run([*command, "--rootdir", str(suite), str(suite)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    order = {path.name: path.read_text().split() for path in seen.iterdir()}
    assert sorted(name for names in order.values() for name in names) == sorted(
        f"{module}-{n}" for module in ("a", "b", "c", "podman") for n in range(4)
    )
    [podman_worker] = [worker for worker, names in order.items() if "podman-0" in names]
    assert order[podman_worker][:4] == [f"podman-{n}" for n in range(4)], order  # first, and all on one process


def test_the_dev_stack_module_starts_first_and_the_prod_one_halfway_at_a_module_boundary():
    from types import SimpleNamespace

    from tests.conftest import podman_modules_spread

    def module(name, count, *markers):
        return [SimpleNamespace(path=name, keywords=set(markers), name=f"{name}{n}") for n in range(count)]

    items = module("prod", 2, "podman", "scale_out") + module("a", 3) + module("dev", 2, "podman") + module("b", 3)
    items += module("c", 3) + module("d", 3)
    order = [item.name for item in podman_modules_spread(items)]
    expected = [*("dev0", "dev1", "a0", "a1", "a2", "b0", "b1", "b2"), *("prod0", "prod1", "c0", "c1", "c2")]
    assert order == [*expected, "d0", "d1", "d2"]
    plain = module("a", 2) + module("b", 2)
    assert podman_modules_spread(plain) == plain
