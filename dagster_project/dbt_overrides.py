"""dagster-dbt's dbt CLI resource without two start-up costs this project does not need.

Before each invocation dagster-dbt 0.29 runs `dbt --version` in a subprocess (about 2 s) and opens a dbt adapter in
the run's own process, which only serves row-count and column-metadata fetching (not used here: the per-day
metadata is read from DuckDB once dbt has finished). Both hooks are private to dagster-dbt, so this module is
written against one release and refuses to load on any other (re-check the two hooks against the new release, then
run tests/dagster_project/test_dbt_overrides.py).
"""

from __future__ import annotations

from functools import cached_property

import dagster_dbt
from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project.release_guard import require_release

SUPPORTED_DAGSTER_DBT_VERSION = "0.29.27"
require_release(
    "dagster-dbt",
    dagster_dbt.__version__,
    SUPPORTED_DAGSTER_DBT_VERSION,
    module=__name__,
    overrides="DbtCliResource._cli_version and DbtCliResource._initialize_dbt_core_adapter",
    fallback=f"pin dagster-dbt=={SUPPORTED_DAGSTER_DBT_VERSION} back in pyproject.toml and constraints.txt",
)


class RetailerDbtCliResource(DbtCliResource):
    """DbtCliResource that knows dbt's version without a subprocess and opens no dbt adapter in the run's process."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dbt-core is pinned and installed beside Dagster: its version is the package's.
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):
        return None
