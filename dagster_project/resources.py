"""Resources of Chapter 2, built from settings.py; secrets stay EnvVars so the UI and logs never show them."""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import duckdb
from dagster import Backoff, ConfigurableResource, EnvVar, Failure, RetryPolicy
from dagster_aws.s3 import S3Resource
from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project import kpis
from dagster_project.project import DBT_EXECUTABLE, retailer_dbt_project
from dagster_project.settings import Settings, load_settings

# Transient faults (S3 or Postgres unreachable for a moment) get two more tries; permanent ones raise
# Failure(allow_retries=False) and stop at once.
TRANSIENT_RETRIES = RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL)


def _secret(name: str) -> EnvVar | None:
    """The variable as an EnvVar (resolved at run time, masked in the UI) when it is set."""
    return EnvVar(name) if os.environ.get(name, "").strip() else None


class DuckDBWarehouse(ConfigurableResource):
    """The DuckDB file dbt builds. Python readers open it read-only, so they never block dbt's writer."""

    path: str

    def read_only(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection (closed by `with`), the same way every reader outside Dagster opens it."""
        return kpis.read_only(self.path)

    def writer(self) -> duckdb.DuckDBPyConnection:
        """For the few writes outside dbt (the batch audit); assets holding it are in the DuckDB pool."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(self.path)


class PostgresWarehouse(ConfigurableResource):
    """The Postgres database that receives the KPI rows; unset `url` means the DuckDB file is the warehouse."""

    url: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @contextmanager
    def transaction(self):
        """One transaction: committed on success, rolled back on any error."""
        import psycopg2

        try:
            conn = psycopg2.connect(self.url, connect_timeout=10)
        except psycopg2.OperationalError as error:
            if "authentication failed" in str(error) or "does not exist" in str(error):
                raise Failure(
                    description=f"Postgres refused {self.describe()}: {str(error).strip()}. "
                    "Fix WAREHOUSE_URL (user, password, database), then re-run.",
                    allow_retries=False,
                ) from error
            raise
        try:
            with conn, conn.cursor() as cursor:  # commits, or rolls back on any error
                yield cursor
        finally:
            conn.close()

    def describe(self) -> str:
        """Where the rows go, without the password."""
        if not self.url:
            return "DuckDB file (WAREHOUSE_URL is not set)"
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)


class RetailerDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two start-up costs this project does not need.

    Before each invocation dagster-dbt runs `dbt --version` in a subprocess (about 2 s) and opens a dbt adapter in
    the run's own process, which only serves row-count and column-metadata fetching (not used here: the per-day
    metadata is read from DuckDB once dbt has finished). The installed dbt-core is pinned, so its version is
    known without a subprocess. Both hooks are private to dagster-dbt 0.29 and covered by the pipeline tests.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):
        return None


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or load_settings()
    return {
        "dbt": RetailerDbtCliResource(
            project_dir=retailer_dbt_project,
            dbt_executable=DBT_EXECUTABLE,
        ),
        "s3": S3Resource(
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.aws_region,
            aws_access_key_id=_secret("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=_secret("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=_secret("AWS_SESSION_TOKEN"),
            max_attempts=5,
        ),
        "duckdb": DuckDBWarehouse(path=str(settings.duckdb_path)),
        "warehouse": PostgresWarehouse(url=_secret("WAREHOUSE_URL")),
    }
