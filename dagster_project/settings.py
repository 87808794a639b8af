"""The one place where the project reads its configuration.

Every setting comes from an environment variable (documented in `.env.example`) with a default that works
on a laptop. Dagster resources, the dbt-duckdb plugin, the sample-data CLI, `make run` and the tests all read
it from here, so Docker, local mode and tests cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from dagster_project.constants import OPERATIONAL_DATA_PREFIX

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Dagster reads DAGSTER_EVENT_BATCH_SIZE itself, at each event it stores. The project's value (.env.example), which
# the tests and the bench give the processes they start: batched event writes (batched_sqlite_storage.py).
DAGSTER_EVENT_BATCH_SIZE = "1000"
# And DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS: a ranged run's plan as one event per asset (.env.example).
PLAN_AS_PARTITION_SUBSET = "true"
DEFAULT_MAX_BATCH_BYTES = 1024**3

# How long a dependency may take before the step fails (seconds), and how often S3 calls are tried.
# A hung S3 endpoint fails a step after about attempts x read timeout; a held Postgres lock after the lock timeout.
DEFAULT_TIMEOUTS = {
    "S3_CONNECT_TIMEOUT": 5,
    "S3_READ_TIMEOUT": 10,
    "S3_MAX_ATTEMPTS": 3,
    "WAREHOUSE_CONNECT_TIMEOUT": 10,
    "WAREHOUSE_STATEMENT_TIMEOUT": 60,
    "WAREHOUSE_LOCK_TIMEOUT": 10,
}
# Where dbt builds the models (DBT_TARGET, an output of dbt_project/profiles.yml): the DuckDB file, or the Postgres
# database of WAREHOUSE_URL, which cannot read S3 itself: operational_data lands each approved day there first.
DBT_TARGETS = ("duckdb", "postgres")
# The schema of dbt's tables, the audit's verdicts and the landed batches on Postgres: DuckDB's default schema, so
# the readers' SQL (main.kpi_daily, main.batch_audit) is the same on both targets.
POSTGRES_SCHEMA = "main"


@dataclass(frozen=True)
class Settings:
    s3_endpoint_url: str | None
    aws_access_key_id: str | None
    aws_secret_access_key: str | None = field(repr=False)  # secrets never in a repr (a log line, a traceback)
    aws_session_token: str | None = field(repr=False)
    aws_profile: str | None
    aws_region: str
    s3_bucket: str
    source_prefix: str
    duckdb_path: Path
    duckdb_memory_limit: str
    warehouse_url: str | None = field(repr=False)
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    s3_connect_timeout: int = DEFAULT_TIMEOUTS["S3_CONNECT_TIMEOUT"]
    s3_read_timeout: int = DEFAULT_TIMEOUTS["S3_READ_TIMEOUT"]
    s3_max_attempts: int = DEFAULT_TIMEOUTS["S3_MAX_ATTEMPTS"]
    warehouse_connect_timeout: int = DEFAULT_TIMEOUTS["WAREHOUSE_CONNECT_TIMEOUT"]
    warehouse_statement_timeout: int = DEFAULT_TIMEOUTS["WAREHOUSE_STATEMENT_TIMEOUT"]
    warehouse_lock_timeout: int = DEFAULT_TIMEOUTS["WAREHOUSE_LOCK_TIMEOUT"]
    dbt_target: str = "duckdb"

    @property
    def on_postgres(self) -> bool:
        """dbt builds in the Postgres warehouse (DBT_TARGET=postgres)."""
        return self.dbt_target == "postgres"

    def dbt_environment(self) -> dict[str, str]:
        """What every dbt the project starts gets in its environment.

        DBT_TARGET, always: dbt itself reads that variable as its `--target` flag, and its saved parse
        (partial_parse.msgpack, made by `make prepare`) is valid only for the same flag, so a prepare without the
        variable and a run with it (or the reverse) would parse the whole project again. With DBT_TARGET=postgres,
        the variables dbt's `postgres` output reads (dbt_project/profiles.yml), from WAREHOUSE_URL parsed by
        libpq's own parser (any form it accepts; dbt cannot parse a connection string), the password under
        DBT_ENV_SECRET_, so dbt scrubs it from its logs."""
        if not self.on_postgres:
            return {"DBT_TARGET": self.dbt_target}
        from psycopg2.extensions import parse_dsn

        parts = parse_dsn(self.warehouse_url or "")
        return {
            "DBT_TARGET": self.dbt_target,
            "DBT_WAREHOUSE_HOST": parts.get("host") or parts.get("hostaddr") or "127.0.0.1",
            "DBT_WAREHOUSE_PORT": parts.get("port") or "5432",
            "DBT_WAREHOUSE_USER": parts.get("user") or "postgres",
            "DBT_ENV_SECRET_WAREHOUSE_PASSWORD": parts.get("password") or "",
            "DBT_WAREHOUSE_DBNAME": parts.get("dbname") or parts.get("user") or "postgres",
            "DBT_WAREHOUSE_CONNECT_TIMEOUT": str(self.warehouse_connect_timeout),
        }

    @property
    def source_uri(self) -> str:
        """`s3://bucket/prefix`, the folder holding one sub-folder per day."""
        return f"s3://{self.s3_bucket}/{self.source_prefix}"

    @property
    def s3_endpoint(self) -> str | None:
        """`host:port` of the S3 endpoint for DuckDB, or None for AWS itself."""
        if not self.s3_endpoint_url:
            return None
        return urlparse(self.s3_endpoint_url).netloc

    @property
    def s3_use_ssl(self) -> bool:
        return not self.s3_endpoint_url or self.s3_endpoint_url.startswith("https://")

    @property
    def has_static_keys(self) -> bool:
        """Both keys set; otherwise boto3 and DuckDB use the AWS credential chain."""
        return bool(self.aws_access_key_id and self.aws_secret_access_key)

    def boto3_client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for `boto3.client("s3", ...)`; unset values fall back to boto3's own chain."""
        kwargs = {
            "endpoint_url": self.s3_endpoint_url,
            "region_name": self.aws_region,
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": self.aws_secret_access_key,
            "aws_session_token": self.aws_session_token,
        }
        return {key: value for key, value in kwargs.items() if value}

    def boto3_config(self):
        """The botocore Config of every S3 client of the project: timeouts and attempts (S3_*_TIMEOUT, S3_MAX_ATTEMPTS).

        boto3 retries timeouts, connection errors and throttling up to S3_MAX_ATTEMPTS in all (standard mode).
        """
        return s3_client_config(self.s3_connect_timeout, self.s3_read_timeout, self.s3_max_attempts)

    def s3_timeouts(self) -> str:
        """The settings that bound an S3 call, for error messages."""
        return s3_timeouts_text(self.s3_connect_timeout, self.s3_read_timeout, self.s3_max_attempts)


def s3_client_config(connect_timeout: int, read_timeout: int, max_attempts: int):
    """botocore's Config for these timeouts (seconds) and attempts (the first try included, standard mode)."""
    from botocore.config import Config

    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
    )


def s3_timeouts_text(connect_timeout: int, read_timeout: int, max_attempts: int) -> str:
    """The settings that bound an S3 call, named as in .env.example, for error messages."""
    return f"S3_CONNECT_TIMEOUT={connect_timeout} s, S3_READ_TIMEOUT={read_timeout} s, S3_MAX_ATTEMPTS={max_attempts}"


def dagster_home() -> Path:
    """The local Dagster instance folder (DAGSTER_HOME, relative paths against the project root)."""
    path = Path(_env("DAGSTER_HOME", "dagster_home"))
    return path if path.is_absolute() else PROJECT_ROOT / path


def local_state_dir() -> Path:
    """Pid files and logs of the local stack and its S3 (LOCAL_STATE_DIR, relative paths against the project root)."""
    path = Path(_env("LOCAL_STATE_DIR", ".local"))
    return path if path.is_absolute() else PROJECT_ROOT / path


def env_file() -> Path:
    """The file of the project's variables, as make reads it: .env when it exists, else .env.example."""
    local = PROJECT_ROOT / ".env"
    return local if local.exists() else PROJECT_ROOT / ".env.example"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def load_settings() -> Settings:
    """Read the settings from the environment now (not at import time, so tests can change it)."""
    duckdb_path = Path(_env("DUCKDB_PATH", str(PROJECT_ROOT / "data" / "warehouse.duckdb")))
    if not duckdb_path.is_absolute():
        # Relative paths are relative to the project root, wherever the command runs from.
        duckdb_path = PROJECT_ROOT / duckdb_path
    return Settings(
        s3_endpoint_url=_env("S3_ENDPOINT_URL"),
        aws_access_key_id=_env("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=_env("AWS_SECRET_ACCESS_KEY"),
        # With temporary keys (STS, SSO, `aws configure export-credentials`): only valid with its token.
        aws_session_token=_env("AWS_SESSION_TOKEN"),
        # Read by boto3 and DuckDB's credential chain themselves; here only to name it in error messages.
        aws_profile=_env("AWS_PROFILE"),
        aws_region=_env("AWS_REGION", "us-east-1"),
        s3_bucket=_env("S3_BUCKET", "dagster"),
        source_prefix=_env("OPERATIONAL_DATA_PREFIX", OPERATIONAL_DATA_PREFIX).strip("/"),
        duckdb_path=duckdb_path,
        duckdb_memory_limit=_env("DUCKDB_MEMORY_LIMIT", "1GB"),
        warehouse_url=_env("WAREHOUSE_URL"),
        max_batch_bytes=_positive_int("MAX_BATCH_BYTES", DEFAULT_MAX_BATCH_BYTES),
        **{name.lower(): _positive_int(name, default) for name, default in DEFAULT_TIMEOUTS.items()},
        dbt_target=_dbt_target(),
    )


def _dbt_target() -> str:
    """DBT_TARGET, checked with the setting it needs: a message naming the variable and the fix, else the target."""
    target = (_env("DBT_TARGET", "duckdb") or "").lower()
    if target not in DBT_TARGETS:
        raise ValueError(f"DBT_TARGET must be one of {', '.join(DBT_TARGETS)} (default duckdb), got {target!r}")
    if target == "postgres" and not _env("WAREHOUSE_URL"):
        raise ValueError(
            "DBT_TARGET=postgres builds the models in the Postgres warehouse: set WAREHOUSE_URL to its database"
        )
    if target == "postgres":
        from psycopg2.extensions import parse_dsn

        try:
            parse_dsn(_env("WAREHOUSE_URL"))
        except Exception:  # noqa: BLE001 - libpq's message may quote the secret: never echo it
            raise ValueError("DBT_TARGET=postgres: WAREHOUSE_URL is not a connection string libpq can parse") from None
    return target


def _positive_int(name: str, default: int) -> int:
    """A positive whole number from the environment (bytes, seconds, attempts), or a message naming the variable."""
    value = _env(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) == 0:
        raise ValueError(f"{name} must be a positive whole number (default {default}), got {value!r}")
    return int(value)
