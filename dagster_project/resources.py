"""Resources of Chapter 2, built from settings.py; secrets stay EnvVars so the UI and logs never show them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import Backoff, ConfigurableResource, EnvVar, Failure, RetryPolicy
from pydantic import Field

from dagster_project import kpis, warehouse_url
from dagster_project.constants import DUCKDB_POOL, KPIS_PREFIX
from dagster_project.dbt_overrides import RetailerDbtCliResource
from dagster_project.private_files import private_dir, private_file
from dagster_project.project import DBT_EXECUTABLE, retailer_dbt_project
from dagster_project.settings import DEFAULT_TIMEOUTS, Settings, load_settings, s3_client_config, s3_timeouts_text

# Transient faults (S3 or Postgres unreachable for a moment) get two more tries; permanent ones raise
# Failure(allow_retries=False) and stop at once.
TRANSIENT_RETRIES = RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL)


class RetailerS3Resource(ConfigurableResource):
    """The S3 client of the assets, the sensor and the IO manager, with where the batches are and the project's
    timeouts (S3_*_TIMEOUT, S3_MAX_ATTEMPTS): they get their S3 configuration from it, not from the environment.

    A plain resource over boto3, not dagster-aws's S3Resource: importing dagster-aws imports all its components
    (Athena, Secrets Manager, ...), a quarter of the code location's load, for a client this class builds anyway;
    and S3Resource sets only the attempts, while without timeouts a hung endpoint holds a step for minutes.
    """

    endpoint_url: str | None = Field(default=None, description="S3_ENDPOINT_URL; unset: AWS's own endpoint")
    region_name: str | None = Field(default=None, description="AWS_REGION")
    aws_access_key_id: str | None = Field(default=None, description="AWS_ACCESS_KEY_ID (unset: boto3's chain)")
    aws_secret_access_key: str | None = Field(default=None, description="AWS_SECRET_ACCESS_KEY")
    aws_session_token: str | None = Field(default=None, description="AWS_SESSION_TOKEN")
    bucket: str = Field(description="S3_BUCKET: the retailer's batches, the snapshots and the KPI documents")
    source_prefix: str = Field(description="OPERATIONAL_DATA_PREFIX: s3://<bucket>/<prefix>/YYYY-MM-DD/stock.csv")
    connect_timeout: int = Field(description="S3_CONNECT_TIMEOUT, seconds")
    read_timeout: int = Field(description="S3_READ_TIMEOUT, seconds")
    max_attempts: int = Field(description="S3_MAX_ATTEMPTS: tries of each call, the first included")
    max_batch_bytes: int = Field(description="MAX_BATCH_BYTES: the largest batch the audit reads")

    @property
    def source_uri(self) -> str:
        return f"s3://{self.bucket}/{self.source_prefix}"

    def timeouts(self) -> str:
        """What bounds each S3 call, for error messages."""
        return s3_timeouts_text(self.connect_timeout, self.read_timeout, self.max_attempts)

    def get_client(self):
        import boto3  # at run time only: the code location's load does not need it

        return boto3.session.Session().client(
            "s3",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            config=s3_client_config(self.connect_timeout, self.read_timeout, self.max_attempts),
        )


# How DuckDB's httpfs says it gave up on a request after its attempts (dbt's error, or a DuckDB read in Python).
DUCKDB_TIMEOUT = "Timeout was reached"


def is_s3_timeout(error: BaseException | None) -> bool:
    """boto3 or DuckDB's httpfs timed out on every attempt."""
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    if isinstance(error, duckdb.IOException):
        return DUCKDB_TIMEOUT in str(error)
    return isinstance(error, ConnectTimeoutError | ReadTimeoutError)


@contextmanager
def s3_timeouts_fail(what: str, s3: RetailerS3Resource) -> Iterator[None]:
    """An S3 call that timed out on every attempt fails the step at once, naming S3 and the settings.

    A step retry would wait the same timeouts again while holding the DuckDB pool; the client has retried already.
    Other errors pass through unchanged (a Failure raised from a timeout, by the audit's reads, is recognized too).
    """
    try:
        yield
    except Exception as error:
        timeout = next((e for e in (error, error.__cause__) if is_s3_timeout(e)), None)
        if timeout is None:
            raise
        raise Failure(
            description=f"S3 did not answer while {what}: {str(timeout).strip()} ({s3.timeouts()}). "
            "Nothing of this step was delivered. Check that S3 is up (S3_ENDPOINT_URL), then re-run the failed "
            "partitions.",
            allow_retries=False,
        ) from error


def _secret(name: str, value: str | None) -> EnvVar | None:
    """A secret setting (read by settings.py) as an EnvVar, resolved at run time and masked in the UI, when set."""
    return EnvVar(name) if value else None


class PostgresWarehouse(ConfigurableResource):
    """The Postgres database that receives the KPI rows; unset `url` means the DuckDB file is the warehouse.

    Every statement is bounded: a server that does not answer, a statement that runs away or a lock held by
    another session fails the step after its timeout (seconds, from settings.py) instead of holding it.
    """

    url: str | None = None
    connect_timeout: int = DEFAULT_TIMEOUTS["WAREHOUSE_CONNECT_TIMEOUT"]
    statement_timeout: int = DEFAULT_TIMEOUTS["WAREHOUSE_STATEMENT_TIMEOUT"]
    lock_timeout: int = DEFAULT_TIMEOUTS["WAREHOUSE_LOCK_TIMEOUT"]

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @contextmanager
    def transaction(self):
        """One transaction with the timeouts set: committed on success, rolled back on any error."""
        import psycopg2

        try:
            conn = psycopg2.connect(self.url, connect_timeout=self.connect_timeout)
        except psycopg2.Error as error:
            raise self._connect_failure(error) from None  # the driver's error may quote the connection string
        try:
            with conn, conn.cursor() as cursor:  # commits, or rolls back on any error
                # For this transaction only (pgbouncer-safe); milliseconds.
                cursor.execute(
                    "select set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                    [str(self.statement_timeout * 1000), str(self.lock_timeout * 1000)],
                )
                yield cursor
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.QueryCanceled) as error:
            raise self._timeout_failure(error) from None
        finally:
            conn.close()

    def _connect_failure(self, error) -> Exception:
        message = warehouse_url.redact(str(error).strip(), self.url)
        if "authentication failed" in message or "does not exist" in message or "invalid dsn" in message:
            return Failure(
                description=f"Postgres refused {self.describe()}: {message}. "
                "Fix WAREHOUSE_URL (user, password, database), then re-run.",
                allow_retries=False,
            )
        if "timeout expired" in message:
            return Failure(
                description=f"The Postgres warehouse {self.describe()} did not answer within "
                f"WAREHOUSE_CONNECT_TIMEOUT={self.connect_timeout} s: {message}. Nothing was written. "
                "Check that the server is up, then re-run.",
                allow_retries=False,
            )
        # Refused or reset: the server may be restarting, a retry can help (the asset's RetryPolicy).
        return Failure(description=f"Could not connect to the Postgres warehouse {self.describe()}: {message}")

    def _timeout_failure(self, error) -> Failure:
        import psycopg2

        if isinstance(error, psycopg2.errors.LockNotAvailable):
            cause = (
                f"a lock held by another session was not released within WAREHOUSE_LOCK_TIMEOUT="
                f"{self.lock_timeout} s (see pg_locks / pg_stat_activity for who holds it)"
            )
        elif "statement timeout" in str(error):
            cause = f"a statement ran longer than WAREHOUSE_STATEMENT_TIMEOUT={self.statement_timeout} s"
        else:
            cause = "the statement was cancelled by the server"
        return Failure(
            description=f"The Postgres warehouse {self.describe()} timed out: {cause}. The transaction was rolled "
            "back, nothing was written. Re-run once the database is free. "
            f"({warehouse_url.redact(str(error).strip(), self.url)})",
            allow_retries=False,  # a retry would wait the same timeout while holding the DuckDB pool
        )

    def describe(self) -> str:
        """Where the rows go, without any secret, whatever the form of WAREHOUSE_URL (never raises)."""
        return warehouse_url.describe(self.url)


def warehouse_pool(settings: Settings | None = None) -> str | None:
    """The pool of the steps that open the warehouse dbt builds: DUCKDB_POOL on DuckDB (one writer, one run at a
    time), none on Postgres (DBT_TARGET=postgres): a server has many writers, runs of different days go at once."""
    return None if (settings or load_settings()).on_postgres else DUCKDB_POOL


class QmarkCursor:
    """A psycopg2 cursor behind DuckDB's `execute(sql, [params]).fetchall()`, so the readers' and the audit's SQL
    (`?` placeholders, no `%`) runs unchanged on both targets."""

    def __init__(self, cursor):
        self.cursor = cursor

    def execute(self, sql: str, params=()):
        self.cursor.execute(sql.replace("?", "%s"), list(params) or None)
        return self.cursor

    def executemany(self, sql: str, rows) -> None:
        self.cursor.executemany(sql.replace("?", "%s"), rows)


class DuckDBWarehouse(ConfigurableResource):
    """The warehouse dbt builds: the DuckDB file, whose Python readers open it read-only so they never block dbt's
    writer; or, with DBT_TARGET=postgres, the Postgres database `postgres` (WAREHOUSE_URL), schema main."""

    path: str
    postgres: PostgresWarehouse | None = None

    @contextmanager
    def reader(self) -> Iterator:
        """dbt's tables, read-only, wherever DBT_TARGET builds them: a DuckDB connection or a QmarkCursor."""
        if self.postgres is None:
            with self.read_only() as conn:
                yield conn
            return
        with self.postgres.transaction() as cursor:
            cursor.execute("set transaction read only")
            yield QmarkCursor(cursor)

    def read_only(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection (closed by `with`), the same way every reader outside Dagster opens it."""
        return kpis.read_only(self.path)

    def writer(self) -> duckdb.DuckDBPyConnection:
        """For the few writes outside dbt (the batch audit); assets holding it are in the DuckDB pool."""
        private_dir(Path(self.path).parent)
        conn = duckdb.connect(self.path)
        private_file(Path(self.path))
        return conn


def postgres_warehouse(settings: Settings, url: str | EnvVar | None) -> PostgresWarehouse:
    """The Postgres warehouse with the configured timeouts: `url` an EnvVar in Dagster (masked), the plain
    WAREHOUSE_URL in the tooling."""
    return PostgresWarehouse(
        url=url,
        connect_timeout=settings.warehouse_connect_timeout,
        statement_timeout=settings.warehouse_statement_timeout,
        lock_timeout=settings.warehouse_lock_timeout,
    )


def dbt_tables(settings: Settings) -> DuckDBWarehouse:
    """Where the tooling reads dbt's tables (make run's KPI table): the DuckDB file, or Postgres with DBT_TARGET."""
    postgres = postgres_warehouse(settings, settings.warehouse_url) if settings.on_postgres else None
    return DuckDBWarehouse(path=str(settings.duckdb_path), postgres=postgres)


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or load_settings()
    warehouse = postgres_warehouse(settings, _secret("WAREHOUSE_URL", settings.warehouse_url))
    resources = {
        "dbt": RetailerDbtCliResource(
            project_dir=retailer_dbt_project,
            dbt_executable=DBT_EXECUTABLE,
        ),
        "s3": RetailerS3Resource(
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.aws_region,
            aws_access_key_id=_secret("AWS_ACCESS_KEY_ID", settings.aws_access_key_id),
            aws_secret_access_key=_secret("AWS_SECRET_ACCESS_KEY", settings.aws_secret_access_key),
            aws_session_token=_secret("AWS_SESSION_TOKEN", settings.aws_session_token),
            bucket=settings.s3_bucket,
            source_prefix=settings.source_prefix,
            connect_timeout=settings.s3_connect_timeout,
            read_timeout=settings.s3_read_timeout,
            max_attempts=settings.s3_max_attempts,
            max_batch_bytes=settings.max_batch_bytes,
        ),
        "warehouse": warehouse,
        # With DBT_TARGET=postgres, dbt builds in the warehouse database: the readers of its tables go there.
        "duckdb": DuckDBWarehouse(path=str(settings.duckdb_path), postgres=warehouse if settings.on_postgres else None),
    }
    return {**resources, **_io_managers(resources, settings)}


def _io_managers(resources: dict, settings: Settings) -> dict:
    """Where kpis_json and kpis_warehouse store the values they return (workshop assignments 5 and 6)."""
    from dagster_project.io_managers import PostgresTimeSeriesIOManager, S3JsonIOManager  # they use this module

    return {
        "s3_json_io_manager": S3JsonIOManager(s3=resources["s3"], bucket=settings.s3_bucket, prefix=KPIS_PREFIX),
        "postgres_time_series_io_manager": PostgresTimeSeriesIOManager(
            warehouse=resources["warehouse"],
            duckdb=resources["duckdb"],
            table="kpi_daily",
            columns=kpis.KPI_WAREHOUSE_TYPES,
        ),
    }
