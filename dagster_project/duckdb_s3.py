"""DuckDB connections that read the daily batches from S3, offline.

DuckDB cannot download its `httpfs` extension here (nor in many locked-down deployments), so the extension
is loaded straight from the pinned `duckdb-extension-httpfs` wheel. Used by the dbt-duckdb plugin (for
`dbt build`) and by every Python reader of the warehouse, so both see S3 the same way.
"""

from __future__ import annotations

import importlib.resources

import duckdb

from dagster_project.settings import Settings

# The DuckDB variable the staging model reads the batch location from (see stg_sales_lines.sql).
SOURCE_URI_VARIABLE = "operational_data_uri"


def httpfs_extension_file(conn: duckdb.DuckDBPyConnection) -> str:
    version = conn.execute("PRAGMA version").fetchone()[0]
    root = importlib.resources.files("duckdb_extension_httpfs")
    return str(root / "extensions" / version / "httpfs.duckdb_extension")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def s3_secret_sql(settings: Settings) -> str:
    """`CREATE SECRET` for the configured S3; an emulator needs path-style URLs, plain HTTP and a region."""
    options = ["TYPE s3", f"REGION {_quote(settings.aws_region)}"]
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        options += [
            f"KEY_ID {_quote(settings.aws_access_key_id)}",
            f"SECRET {_quote(settings.aws_secret_access_key)}",
        ]
    else:
        options.append("PROVIDER credential_chain")
    if settings.s3_endpoint:
        options += [
            f"ENDPOINT {_quote(settings.s3_endpoint)}",
            "URL_STYLE 'path'",
            f"USE_SSL {'true' if settings.s3_use_ssl else 'false'}",
        ]
    return f"CREATE OR REPLACE TEMPORARY SECRET retailer_s3 ({', '.join(options)})"


def configure_s3(conn: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Load httpfs from the wheel and register the S3 secret on an open connection."""
    conn.execute("SET autoinstall_known_extensions = false")
    conn.execute(f"LOAD {_quote(httpfs_extension_file(conn))}")
    # Transient S3 faults (connection resets, 5xx) are retried with exponential backoff before a run fails.
    conn.execute("SET http_retries = 5")
    conn.execute("SET http_retry_wait_ms = 200")
    conn.execute("SET http_retry_backoff = 2")
    conn.execute(s3_secret_sql(settings))
    set_source_uri(conn, settings.source_uri)


def set_source_uri(conn: duckdb.DuckDBPyConnection, source_uri: str) -> None:
    conn.execute(f"SET VARIABLE {SOURCE_URI_VARIABLE} = {_quote(source_uri)}")


def connect(settings: Settings, *, read_only: bool = False, database: str | None = None):
    """A connection to the warehouse file (or `database`), ready to read S3."""
    path = database if database is not None else str(settings.duckdb_path)
    if path != ":memory:" and not read_only:
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(path, read_only=read_only, config={"autoinstall_known_extensions": False})
    configure_s3(conn, settings)
    return conn
