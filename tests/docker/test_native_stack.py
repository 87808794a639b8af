"""The native twin of `make start-dev`: what each container of docker-compose.yml runs, run here without Docker.

Commands, environment and files come from the compose file as the real Docker Compose resolves it:
- postgres: a real PostgreSQL from Debian's binaries, set up as the postgres image's entrypoint does (POSTGRES_USER
  with its password, POSTGRES_DB, then every file of docker/postgres/initdb.d run with psql);
- localstack: moto's S3 server in its place, and LocalStack's ready hook (docker/localstack/ready.d) run against it;
- seed, dagster_webserver, dagster_daemon: their compose `command` behind the image's entrypoint script, with the
  compose `environment` (same variable names; host names, ports and paths swapped for native ones), and
  docker/dagster/dagster.yaml as the instance.
Then a backfill of 5 partitions is launched through the webserver's GraphQL API, as the UI does, and its run is
followed into Postgres, S3 and the warehouse database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import boto3
import psutil
import psycopg2
import pytest
import yaml
from dagster import AssetKey, DagsterEventType

from dagster_project.settings import PROJECT_ROOT
from tests.support.dagster_backfill import RETAILER_KPIS_ASSETS, assert_one_successful_run, run_backfill
from tests.support.dagster_server import VENV_BIN, load_workspace, tail, wait_until_ready
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tests.support.prerequisites import missing
from tooling import sample_data
from tooling.local_postgres import find_bindir
from tooling.processes import free_port, start_group, stop_groups

# A real PostgreSQL and the Dagster services, as the containers run them.
pytestmark = [pytest.mark.postgres, pytest.mark.services]

ENTRYPOINT = PROJECT_ROOT / "docker" / "dagster" / "entrypoint.sh"
INSTANCE_YAML = PROJECT_ROOT / "docker" / "dagster" / "dagster.yaml"
LOCATION = "chapter-2-retailer_kpis"
GROUP = "retailer_kpis"
DAYS = ["2023-08-02", "2023-08-03", "2023-08-04", "2023-08-05", "2023-08-06"]
# The seed's defaults (python -m tooling.sample_data --s3): 39 days of 120 rows from 2023-08-02, seed 42.
SEED_DAYS, SEED_ROWS = 39, 120
STARTUP_TIMEOUT = 120
BACKFILL_TIMEOUT = 180


def mount_source(service: dict, target: str) -> Path:
    """The host path the compose file mounts at `target` in the service's container."""
    for volume in service.get("volumes", []):
        if volume["target"] == target:
            return Path(volume["source"])
    raise AssertionError(f"nothing is mounted at {target}")


class ImagePostgres:
    """A PostgreSQL server set up the way the postgres image's entrypoint sets up an empty volume."""

    def __init__(self, environment: dict[str, str], initdb_dir: Path):
        bindir = find_bindir()
        if bindir is None:
            missing("PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)")
        self.bin = bindir
        self.user = environment["POSTGRES_USER"]
        self.password = environment["POSTGRES_PASSWORD"]
        self.database = environment["POSTGRES_DB"]
        self.initdb_dir = initdb_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pg-twin-"))
        self.data = self.root / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _as_server_user(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=120)

    def psql(self, *args: str, database: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
        """psql over the Unix socket, as the entrypoint's `docker_process_sql` runs it."""
        command = [str(self.bin / "psql"), "-v", "ON_ERROR_STOP=1", "--username", self.user, "--no-password"]
        command += ["--no-psqlrc", "--dbname", database or self.database, *args]
        env = {**os.environ, "PGHOST": str(self.root), "PGPORT": str(self.port)}
        result = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{shlex.join(command)}\n{result.stderr}"
        return result

    def start(self) -> ImagePostgres:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        if self.as_postgres:
            for path in (self.root, password_file):
                shutil.chown(path, "postgres", "postgres")
        # The image: initdb as POSTGRES_USER with POSTGRES_PASSWORD, trust on the socket, passwords over TCP.
        self._as_server_user(
            str(self.bin / "initdb"),
            *("-D", str(self.data), "-U", self.user, "--pwfile", str(password_file), "-E", "UTF8"),
            *("--auth-local", "trust", "--auth-host", "scram-sha-256"),
        )
        self._as_server_user(
            str(self.bin / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "start"),
            *("-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"),
        )
        # Then POSTGRES_DB, then the init scripts in order (.sql with psql; the image sources/executes .sh).
        if self.database != "postgres":
            # On stdin, as the entrypoint does: psql expands :"db" there, not in -c.
            self.psql("--set", f"db={self.database}", database="postgres", stdin='CREATE DATABASE :"db";')
        for script in sorted(self.initdb_dir.iterdir()):
            if script.suffix == ".sql":
                self.psql("-f", str(script))
            elif script.suffix == ".sh":
                env = {**os.environ, "PGHOST": str(self.root), "PGPORT": str(self.port)}
                env.update(POSTGRES_USER=self.user, POSTGRES_PASSWORD=self.password, POSTGRES_DB=self.database)
                subprocess.run(["bash", str(script)], env=env, check=True, timeout=60)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._as_server_user(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def native_environment(service: dict, replacements: dict[str, str]) -> dict[str, str]:
    """The service's compose environment with Docker-only values replaced: same names, native values."""
    compose_env = dict(service["environment"])
    unknown = set(replacements) - set(compose_env)
    assert not unknown, f"the compose file does not set {sorted(unknown)}: the twin would test other settings"
    env = {**compose_env, **replacements}
    # What the image adds (Dockerfile ENV), with this machine's paths.
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        HOME=os.environ.get("HOME", "/root"),
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONUNBUFFERED="1",
        DAGSTER_APP_DIR=str(PROJECT_ROOT),
    )
    return env


def with_flag(command: list[str], flag: str, value: str) -> list[str]:
    assert flag in command, f"{command} has no {flag}"
    position = command.index(flag) + 1
    return [*command[:position], value, *command[position + 1 :]]


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A Dagster service: its compose `command` behind the image's entrypoint script, in its own process group (the
    code servers and run workers it starts stop with it)."""
    return start_group(["bash", str(ENTRYPOINT), *command], env, log)


def processes_using(dagster_home: Path) -> list[psutil.Process]:
    """Every process whose DAGSTER_HOME is this test's: what is left of the webserver and the daemon."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("DAGSTER_HOME") == str(dagster_home):
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    postgres: ImagePostgres
    webserver_log: Path
    daemon_log: Path

    def logs(self) -> str:
        return f"--- webserver ---\n{tail(self.webserver_log)}\n--- daemon ---\n{tail(self.daemon_log)}"

    def s3(self):
        return boto3.client(
            "s3",
            endpoint_url=self.env["S3_ENDPOINT_URL"],
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )


@pytest.fixture(scope="module")
def stack(compose_config, s3_endpoint, tmp_path_factory):
    """The five services of docker-compose.yml, natively, for the module."""
    services = compose_config["services"]
    root = tmp_path_factory.mktemp("native_stack")
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    # The compose file mounts docker/dagster/dagster.yaml as $DAGSTER_HOME/dagster.yaml.
    instance_yaml = mount_source(services["dagster_webserver"], "/opt/dagster/dagster_home/dagster.yaml")
    shutil.copy(instance_yaml, dagster_home / "dagster.yaml")

    postgres = ImagePostgres(
        services["postgres"]["environment"],
        mount_source(services["postgres"], "/docker-entrypoint-initdb.d"),
    ).start()
    processes: list[subprocess.Popen] = []
    try:
        bucket = f"twin-{uuid.uuid4().hex[:12]}"
        compose_warehouse = urlparse(services["dagster_webserver"]["environment"]["WAREHOUSE_URL"])
        env = native_environment(
            services["dagster_webserver"],
            {
                "S3_ENDPOINT_URL": s3_endpoint,
                "S3_BUCKET": bucket,
                "DAGSTER_HOME": str(dagster_home),
                "DAGSTER_POSTGRES_HOST": "127.0.0.1",
                "DAGSTER_POSTGRES_PORT": str(postgres.port),
                "WAREHOUSE_URL": urlunparse(
                    compose_warehouse._replace(netloc=f"{postgres.user}:{postgres.password}@127.0.0.1:{postgres.port}")
                ),
                "DUCKDB_PATH": str(root / "warehouse.duckdb"),
            },
        )
        for name in ("seed", "dagster_daemon"):
            assert services[name]["environment"] == services["dagster_webserver"]["environment"], name

        # localstack: its ready hook, with the environment compose gives the LocalStack container.
        hook_env = {**os.environ, **services["localstack"]["environment"]}
        hook_env.update(S3_BUCKET=bucket, S3_ENDPOINT_URL=s3_endpoint)
        for hook in sorted(mount_source(services["localstack"], "/etc/localstack/init/ready.d").iterdir()):
            runner = [sys.executable] if hook.suffix == ".py" else ["bash"]
            subprocess.run([*runner, str(hook)], env=hook_env, check=True, timeout=60)

        # seed: the one-shot service, to completion, before the others start (service_completed_successfully).
        seed_env = dict(env)
        subprocess.run(
            ["bash", str(ENTRYPOINT), *services["seed"]["command"]],
            cwd=PROJECT_ROOT,
            env=seed_env,
            check=True,
            timeout=300,
        )

        # dagster_webserver and dagster_daemon. dbt's per-run target folders go to the tmp dir (test-only setting).
        run_env = {**env, "DBT_TARGET_PATH": str(root / "dbt_target")}
        port = free_port()
        webserver_command = with_flag(services["dagster_webserver"]["command"], "-h", "127.0.0.1")
        webserver_command = with_flag(webserver_command, "-p", str(port))
        webserver_log, daemon_log = root / "webserver.log", root / "daemon.log"
        webserver = start_process(webserver_command, run_env, webserver_log)
        processes.append(webserver)
        processes.append(start_process(services["dagster_daemon"]["command"], run_env, daemon_log))
        stack = Stack(f"http://127.0.0.1:{port}", env, postgres, webserver_log, daemon_log)

        wait_until_ready(stack.url, webserver, STARTUP_TIMEOUT, details=stack.logs)
        load_workspace(stack.url, STARTUP_TIMEOUT, details=stack.logs)
        yield stack
    finally:
        stop_groups(processes)
        try:
            leftovers = processes_using(dagster_home)
            for process in leftovers:
                process.kill()
            assert not leftovers, f"processes left running: {[p.cmdline() for p in leftovers]}"
        finally:
            postgres.stop()


def test_the_ui_answers_server_info(stack):
    import dagster

    with urllib.request.urlopen(f"{stack.url}/server_info", timeout=10) as response:
        info = json.loads(response.read())
    assert info["dagster_webserver_version"] == dagster.__version__


def test_both_code_locations_load_from_the_docker_workspace(stack):
    # load_workspace fails unless every location loaded as a RepositoryLocation.
    assert set(load_workspace(stack.url)) == {"chapter-1-dagster_basics", LOCATION}


def test_the_instance_is_the_postgres_one_with_the_queue_and_the_duckdb_pool(stack):
    script = (
        "from dagster import DagsterInstance\n"
        "instance = DagsterInstance.get()\n"
        "config = instance.get_concurrency_config()\n"
        "print(type(instance.run_storage).__name__, type(instance.event_log_storage).__name__,\n"
        "      type(instance.schedule_storage).__name__, type(instance.run_coordinator).__name__,\n"
        "      config.pool_config.pool_granularity.value, config.pool_config.default_pool_limit,\n"
        "      instance.run_monitoring_enabled)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=stack.env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == [
        "PostgresRunStorage",
        "PostgresEventLogStorage",
        "PostgresScheduleStorage",
        "QueuedRunCoordinator",
        yaml.safe_load(INSTANCE_YAML.read_text())["concurrency"]["pools"]["granularity"],
        "1",
        "True",
    ]


def test_the_seed_uploaded_the_sample_batches_to_the_hook_s_bucket(stack):
    listing = stack.s3().list_objects_v2(Bucket=stack.env["S3_BUCKET"], Prefix="operational_data/")
    keys = sorted(obj["Key"] for obj in listing.get("Contents", []))
    assert len(keys) == SEED_DAYS
    assert keys[0] == "operational_data/2023-08-02/stock.csv"


@pytest.fixture(scope="module")
def backfill(stack) -> dict:
    """A backfill of the chapter's group for 5 days, launched as the UI launches it, followed until it ends."""
    found = run_backfill(stack.url, LOCATION, GROUP, DAYS, BACKFILL_TIMEOUT, details=stack.logs)
    assert {tuple(key["path"]) for key in found["selection"]} == RETAILER_KPIS_ASSETS
    return found


def test_the_backfill_of_five_days_is_one_successful_run(backfill, stack):
    # Single-run backfill policy: the five days in one run, one dbt build over the window.
    assert_one_successful_run(backfill, DAYS, stack.logs())


def test_the_run_s_events_are_in_the_postgres_storage(backfill, stack):
    [run] = backfill["runs"]
    with psycopg2.connect(stack.postgres.url("dagster_metadata")) as conn, conn.cursor() as cursor:
        cursor.execute(
            "select dagster_event_type, asset_key, partition from event_logs where run_id = %s", (run["runId"],)
        )
        events = cursor.fetchall()
    types = [event_type for event_type, _, _ in events]
    # Stored under their historical names (PIPELINE_SUCCESS, ...).
    assert types.count(DagsterEventType.RUN_SUCCESS.value) == 1
    assert DagsterEventType.RUN_FAILURE.value not in types and DagsterEventType.STEP_FAILURE.value not in types
    materialized: dict[str, set[str]] = {}
    for event_type, asset_key, partition in events:
        if event_type == DagsterEventType.ASSET_MATERIALIZATION.value:
            materialized.setdefault(AssetKey.from_db_string(asset_key).path[-1], set()).add(partition)
    assert materialized == {key["path"][-1]: set(DAYS) for key in backfill["selection"]}


def expected_kpis() -> dict:
    return daily_kpis({day: sample_data.batch_csv(dt.date.fromisoformat(day), SEED_ROWS) for day in DAYS})


def test_the_kpis_are_in_s3(backfill, stack):
    client, expected = stack.s3(), expected_kpis()
    listing = client.list_objects_v2(Bucket=stack.env["S3_BUCKET"], Prefix="kpis/")
    assert sorted(obj["Key"] for obj in listing.get("Contents", [])) == [f"kpis/{day}.json" for day in DAYS]
    for day in DAYS:
        document = json.loads(client.get_object(Bucket=stack.env["S3_BUCKET"], Key=f"kpis/{day}.json")["Body"].read())
        assert document["date"] == day
        assert_kpis_match({day: document}, {day: expected[day]})


def test_the_kpis_are_in_the_warehouse_database(backfill, stack):
    with psycopg2.connect(stack.postgres.url("workshop_assets")) as conn, conn.cursor() as cursor:
        cursor.execute("select date::text, revenue, units_sold, average_sales_price from kpi_daily order by date")
        rows = cursor.fetchall()
    expected = expected_kpis()
    assert [row[0] for row in rows] == DAYS
    for day, revenue, units_sold, average_sales_price in rows:
        assert revenue == pytest.approx(expected[day]["revenue"], rel=1e-9)
        assert units_sold == expected[day]["units_sold"]
        assert average_sales_price == pytest.approx(expected[day]["average_sales_price"], rel=1e-9)


def test_the_daemon_healthcheck_of_the_compose_file_passes(compose_config, stack):
    test = compose_config["services"]["dagster_daemon"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    result = subprocess.run(test[1:], env=stack.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
