"""Every third-party package the repository's Python imports is declared in pyproject.toml and pinned in
constraints.txt: an import that works only because another package happens to pull it in breaks on the day that
package stops doing so."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dagster_project.settings import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
# Where a test's or a doc tool's imports may come from the test extra as well.
TEST_FOLDERS = ("tests/", "docs/")


def python_files() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [PROJECT_ROOT / path for path in tracked]


def imported_top_levels(path: Path) -> set[str]:
    """Top-level names of the absolute imports anywhere in the file (in functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def is_local(name: str, path: Path) -> bool:
    """A module of the repository: beside the file, at the root, or on pytest's pythonpath."""
    folders = [
        path.parent,
        PROJECT_ROOT,
        *(PROJECT_ROOT / p for p in PYPROJECT["tool"]["pytest"]["ini_options"]["pythonpath"]),
    ]
    return any((folder / f"{name}.py").exists() or (folder / name).is_dir() for folder in folders)


def declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def third_party_imports() -> dict[str, set[str]]:
    """{top-level module: files importing it} for every import that is neither the standard library nor local."""
    found: dict[str, set[str]] = {}
    for path in python_files():
        for name in imported_top_levels(path):
            if name != "__future__" and name not in sys.stdlib_module_names and not is_local(name, path):
                found.setdefault(name, set()).add(str(path.relative_to(PROJECT_ROOT)))
    return found


def test_every_imported_package_is_declared():
    runtime = declared(PYPROJECT["project"]["dependencies"])
    test_extra = runtime | declared(PYPROJECT["project"]["optional-dependencies"]["test"])
    distributions = importlib.metadata.packages_distributions()
    undeclared = []
    for module, files in sorted(third_party_imports().items()):
        # A namespace package (dbt) may come from several distributions: one of them declared is enough.
        provided_by = {canonicalize_name(name) for name in distributions.get(module, [])}
        wrong = sorted(f for f in files if not provided_by & (test_extra if f.startswith(TEST_FOLDERS) else runtime))
        if wrong:
            undeclared.append(f"{module} (distribution {sorted(provided_by) or 'not installed'}): {', '.join(wrong)}")
    assert not undeclared, "imported but not declared in pyproject.toml (a test file may use the test extra):\n" + (
        "\n".join(undeclared)
    )


def test_the_imports_found_include_the_known_ones():
    """The scan itself works: it finds imports in functions, and the sibling-module rule leaves these third-party."""
    found = third_party_imports()
    assert "dagster_project/resources.py" in found["psycopg2"]  # imported inside a method
    assert {"numpy", "duckdb", "dagster", "dbt", "yaml", "pytest"} <= found.keys()
    assert "dagster_project" not in found and "dagster_server" not in found


def test_every_declared_package_is_pinned_in_constraints():
    pins = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[canonicalize_name(name)] = pinned.strip()
    requirements = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["test"]]
    unpinned = []
    for line in requirements:
        requirement = Requirement(line)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            unpinned.append(f"{line} (constraints.txt: {pinned})")
    assert not unpinned, f"pin these in constraints.txt with a version pyproject.toml allows: {unpinned}"
