"""dagster-dbt's dbt CLI resource without two start-up costs this project does not need, and with an environment
per invocation.

Before each invocation dagster-dbt 0.29 runs `dbt --version` in a subprocess (about 2 s) and opens a dbt adapter in
the run's own process, which only serves row-count and column-metadata fetching (not used here: the per-day
metadata is read from DuckDB once dbt has finished). Both hooks are private to dagster-dbt, so this module is
written against one release and refuses to load on any other (re-check the two hooks against the new release, then
run tests/dagster_project/test_dbt_overrides.py).

`cli()` passes the dbt process this process's environment and takes no other: `cli(env=...)` adds variables for
one invocation (the run's window, dagster_project/dbt_args.py) by setting them while dagster-dbt starts the process;
every invocation also gets the Postgres target's connection variables (dbt_project/profiles.yml).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property

import dagster_dbt
from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging import version

from dagster_project.release_guard import require_release
from dagster_project.settings import load_settings

SUPPORTED_DAGSTER_DBT_VERSION = "0.29.27"
require_release(
    "dagster-dbt",
    dagster_dbt.__version__,
    SUPPORTED_DAGSTER_DBT_VERSION,
    module=__name__,
    overrides="DbtCliResource._cli_version, _initialize_dbt_core_adapter and cli (the process started in it)",
    fallback=f"pin dagster-dbt=={SUPPORTED_DAGSTER_DBT_VERSION} back in pyproject.toml and constraints.txt",
)


class RetailerDbtCliResource(DbtCliResource):
    """DbtCliResource that knows dbt's version without a subprocess, opens no dbt adapter in the run's process, and
    takes environment variables for one invocation."""

    def cli(self, args, *, env: Mapping[str, str] | None = None, **kwargs) -> DbtCliInvocation:
        """dagster-dbt's `cli()`, with `env` added to the dbt process's environment, and the Postgres target's
        connection variables (DBT_TARGET=postgres: settings.py derives them from WAREHOUSE_URL)."""
        with _process_environment({**load_settings().dbt_environment(), **(env or {})}):
            return super().cli(args, **kwargs)

    @cached_property
    def _cli_version(self) -> version.Version:
        # dbt-core is pinned and installed beside Dagster: its version is the package's.
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):
        return None


# One invocation at a time changes this process's environment, so two threads never see each other's variables.
_ENVIRONMENT_LOCK = threading.Lock()


@contextmanager
def _process_environment(env: Mapping[str, str]) -> Iterator[None]:
    """`env` set in os.environ while dagster-dbt copies it into the dbt process (it starts it before returning),
    then every variable put back as it was."""
    if not env:
        yield
        return
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
