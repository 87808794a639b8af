"""DuckDB connections that read the daily batches from S3, offline.

DuckDB cannot download its extensions here (nor in many locked-down deployments), so `httpfs` (S3) and, without
static keys, `aws` (the AWS credential chain) are loaded straight from their pinned `duckdb-extension-*` wheels.
Used by the dbt-duckdb plugin (for `dbt build`) and by every Python reader of the warehouse, so both see S3 the
same way.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import duckdb

from dagster_project.private_files import private_dir, private_file
from dagster_project.settings import Settings, env_file


def extension_file(conn: duckdb.DuckDBPyConnection, name: str) -> str:
    """DuckDB's extension `name` inside its pinned `duckdb-extension-<name>` wheel, for this DuckDB version."""
    version = conn.execute("PRAGMA version").fetchone()[0]
    root = importlib.resources.files(f"duckdb_extension_{name}")
    return str(root / "extensions" / version / f"{name}.duckdb_extension")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def s3_secret_sql(settings: Settings) -> str:
    """`CREATE SECRET` for the configured S3; an emulator needs path-style URLs, plain HTTP and a region."""
    options = ["TYPE s3", f"REGION {_quote(settings.aws_region)}"]
    if settings.has_static_keys:
        options += [
            f"KEY_ID {_quote(settings.aws_access_key_id)}",
            f"SECRET {_quote(settings.aws_secret_access_key)}",
        ]
        if settings.aws_session_token:
            options.append(f"SESSION_TOKEN {_quote(settings.aws_session_token)}")
    else:
        options.append("PROVIDER credential_chain")
    if settings.s3_endpoint:
        options += [
            f"ENDPOINT {_quote(settings.s3_endpoint)}",
            "URL_STYLE 'path'",
            f"USE_SSL {'true' if settings.s3_use_ssl else 'false'}",
        ]
    return f"CREATE OR REPLACE TEMPORARY SECRET retailer_s3 ({', '.join(options)})"


class MissingS3Credentials(RuntimeError):
    """Neither static keys nor the AWS credential chain give S3 credentials.

    A RuntimeError, so that dbt-duckdb reports it as a connection error (one message, no traceback).
    """


def register_s3_secret(conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The S3 secret, from the static keys or else from the AWS credential chain (DuckDB's `aws` extension)."""
    if settings.has_static_keys:
        conn.execute(s3_secret_sql(settings))
        return
    # Profiles, SSO, web identity, instance and task roles: the AWS SDK's default chain, which reads AWS_PROFILE,
    # AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE itself, like boto3, once per process (dbt: once per run).
    conn.execute(f"LOAD {_quote(extension_file(conn, 'aws'))}")
    try:
        conn.execute(s3_secret_sql(settings))
    except duckdb.Error as error:
        # DuckDB checks when the secret is created that the chain found credentials.
        if "Secret Validation Failure" not in str(error):
            raise
        raise MissingS3Credentials(missing_credentials_message(settings)) from error


def missing_credentials_message(settings: Settings) -> str:
    """One line: which variables are missing and how to load the project's."""
    if settings.aws_access_key_id or settings.aws_secret_access_key:
        unset = "AWS_SECRET_ACCESS_KEY" if settings.aws_access_key_id else "AWS_ACCESS_KEY_ID"
        problem = f"{unset} is not set (both keys are needed)"
    else:
        problem = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
    if settings.aws_profile:
        chain = f"the AWS credential chain found none for AWS_PROFILE={settings.aws_profile}"
    else:
        chain = "the AWS credential chain found none (no AWS_PROFILE, credentials file, SSO or instance role)"
    endpoint = "" if settings.s3_endpoint_url else "; S3_ENDPOINT_URL is not set either, which means AWS itself"
    return (
        f"No S3 credentials: {problem} and {chain}{endpoint}. "
        f"Load the project's variables first: set -a; source {env_file()}; set +a"
    )


def configure_s3(conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Load httpfs from the wheel and register the S3 secret on an open connection."""
    conn.execute("SET autoinstall_known_extensions = false")
    conn.execute(f"LOAD {_quote(extension_file(conn, 'httpfs'))}")
    # Transient S3 faults (connection resets, 5xx) are retried with exponential backoff before a run fails;
    # a hung endpoint times out (http_timeout bounds connect and read) instead of holding the run. GLOBAL: dbt-duckdb
    # runs models on cursors, new connections that do not inherit this connection's own settings.
    conn.execute(f"SET GLOBAL http_timeout = {max(settings.s3_connect_timeout, settings.s3_read_timeout)}")
    conn.execute(f"SET GLOBAL http_retries = {settings.s3_max_attempts - 1}")
    conn.execute("SET GLOBAL http_retry_wait_ms = 200")
    conn.execute("SET GLOBAL http_retry_backoff = 2")
    register_s3_secret(conn, settings)


def connect(settings: Settings, *, read_only: bool = False, database: str | None = None):
    """A connection to the warehouse file (or `database`), ready to read S3."""
    path = database if database is not None else str(settings.duckdb_path)
    if path != ":memory:" and not read_only:
        private_dir(Path(path).parent)
    conn = duckdb.connect(path, read_only=read_only, config={"autoinstall_known_extensions": False})
    if path != ":memory:" and not read_only:
        private_file(Path(path))
    configure_s3(conn, settings)
    return conn
