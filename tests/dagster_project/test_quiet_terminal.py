"""A clean terminal: the warnings of our own use of Dagster's APIs that we accept are filtered, nothing else is.

The filter is PYTHONWARNINGS in .env.example: make exports it to every recipe, Docker Compose passes it to the
containers, and every Python process they start (dagster dev's code servers, run workers, dbt) inherits it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dagster_project.settings import PROJECT_ROOT
from tests.support.terminal_output import accepted_warnings, warning_lines

# What a code server does with each code location: import it, build its repository and the snapshot it serves,
# and (make run) resolve the `--select group:retailer_kpis` of the CLI.
LOAD_BOTH_LOCATIONS = """
from dagster._core.definitions.asset_selection import AssetSelection
from dagster._core.remote_representation.external_data import RepositorySnap
import chapter_1, dagster_project.definitions
for defs in (chapter_1.defs, dagster_project.definitions.defs):
    RepositorySnap.from_def(defs.get_repository_def())
AssetSelection.from_string("group:retailer_kpis")
"""


def load_both_locations(pythonwarnings: str | None) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    if pythonwarnings is not None:
        env["PYTHONWARNINGS"] = pythonwarnings
    result = subprocess.run(
        [sys.executable, "-c", LOAD_BOTH_LOCATIONS], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_the_code_locations_load_without_a_warning_under_the_accepted_filter():
    # Without the filter: BetaWarnings for `backfill_policy`, `owners` and `include_sources`.
    assert warning_lines(load_both_locations(accepted_warnings())) == []


def test_the_filter_hides_only_the_accepted_warnings():
    script = "import warnings; warnings.warn('Parameter `something_else` of function `asset` is currently in beta')"
    env = {**os.environ, "PYTHONWARNINGS": accepted_warnings()}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert "something_else" in result.stderr
