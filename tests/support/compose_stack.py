"""The Docker stack of a checkout, driven the way an attendee drives it: `make start-dev`, `make stop-dev`, ...

A copy of the project (what git tracks, as a fresh clone has it) in a temp folder, owned by whom the test says; make
runs there with DOCKER_HOST at podman's Docker API, a Compose project name of its own and the published ports moved
to free ones, so nothing clashes with another stack on the machine. The settings go on make's command line, which
the Makefile exports to Compose like those of .env: a .env in the checkout would also be read by Dagster's CLI in
the containers (it loads the .env of its working directory, the mounted checkout, over the container environment).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import pytest

from dagster_project.settings import PROJECT_ROOT
from tests.support.dagster_backfill import RETAILER_KPIS_ASSETS, run_backfill
from tests.support.dagster_server import load_workspace
from tests.support.kpi_reference import assert_kpis_match, daily_kpis
from tooling import sample_data
from tooling.processes import free_port

VENV_BIN = Path(sys.executable).parent
SERVICES = ("postgres", "localstack", "seed", "dagster_webserver", "dagster_daemon")
LONG_RUNNING = ("postgres", "localstack", "dagster_webserver", "dagster_daemon")
# The backfill the stack tests run: the first 3 days of the sample batches the seed uploads.
BACKFILL_DAYS = [(sample_data.SAMPLE_START + dt.timedelta(days=i)).isoformat() for i in range(3)]
MAKE_TIMEOUT = 1500  # start-dev waits up to 600 s for health, after a build of a few minutes on a busy machine


def copy_checkout(destination: Path, owner: int | None = None) -> Path:
    """The project's files as a clone has them (tracked, plus new files not ignored), owned by `owner`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    if owner is not None:
        for path in [destination, *destination.rglob("*")]:
            os.lchown(path, owner, owner)
    return destination


def docker_cli_dir(folder: Path) -> Path:
    """A folder for PATH holding a `docker` CLI: the real one when installed, else podman's remote client."""
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("docker") is None:
        shim = folder / "docker"
        shim.write_text('#!/bin/sh\nexec podman --remote --url "$DOCKER_HOST" "$@"\n')
        shim.chmod(0o755)
    return folder


@dataclass
class ComposeStack:
    checkout: Path
    project: str
    env: dict[str, str]
    logs_dir: Path
    settings: dict[str, str]

    @classmethod
    def create(
        cls,
        folder: Path,
        engine_env: dict[str, str],
        project: str,
        owner: int | None = None,
        compose_file: str = "docker-compose.yml",
    ):
        """`compose_file`: the stack `compose()` (ps, logs, down) talks to; make's targets name their own."""
        checkout = copy_checkout(folder / "checkout", owner)
        ports = {"DAGSTER_PORT": free_port(), "LOCALSTACK_PORT": free_port(), "DAGSTER_POSTGRES_PORT": free_port()}
        settings = {name: str(port) for name, port in ports.items()}
        settings["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{ports['LOCALSTACK_PORT']}"
        env = {**engine_env, "COMPOSE_PROJECT_NAME": project, "COMPOSE_FILE": compose_file}
        env["PATH"] = os.pathsep.join([env["PATH"], str(VENV_BIN)])
        logs = folder / "logs"
        logs.mkdir(exist_ok=True)
        return cls(checkout, project, env, logs, settings)

    def setting(self, name: str) -> str:
        """The value make passes to Compose: the test's, else .env.example's."""
        if name in self.settings:
            return self.settings[name]
        for line in (self.checkout / ".env.example").read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise KeyError(name)

    def make(self, target: str) -> str:
        """`make <target>` in the checkout; its output, or AssertionError with the output and the services' logs."""
        log = self.logs_dir / f"make-{target}.log"
        arguments = [f"{name}={value}" for name, value in self.settings.items()]
        result = subprocess.run(
            ["make", target, *arguments],
            cwd=self.checkout,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=MAKE_TIMEOUT,
        )
        output = result.stdout + result.stderr
        with log.open("a") as out:
            out.write(output)
        assert result.returncode == 0, f"make {target} failed ({result.returncode}):\n{output[-4000:]}\n{self.logs()}"
        return output

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(VENV_BIN / "docker-compose"), *args]
        env = {**self.env, **self.settings}
        return subprocess.run(command, cwd=self.checkout, env=env, capture_output=True, text=True, timeout=timeout)

    def ps(self) -> dict[str, dict]:
        """`docker-compose ps --all` by service: State, Health, ExitCode."""
        result = self.compose("ps", "--all", "--format", "json")
        assert result.returncode == 0, result.stderr
        text = result.stdout.strip()
        rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
        return {row["Service"]: row for row in rows}

    def logs(self, service: str = "", lines: int = 60) -> str:
        result = self.compose("logs", "--no-color", "--tail", str(lines), *([service] if service else []))
        return result.stdout[-8000:] + result.stderr[-2000:]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.setting('DAGSTER_PORT')}"

    def s3(self):
        return boto3.client(
            "s3",
            endpoint_url=self.setting("S3_ENDPOINT_URL"),
            region_name=self.setting("AWS_REGION"),
            aws_access_key_id=self.setting("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.setting("AWS_SECRET_ACCESS_KEY"),
        )

    def warehouse(self):
        """A connection to the stack's warehouse database, from the host (its published port)."""
        user, password = (
            urllib.parse.quote(self.setting(n)) for n in ("DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_PASSWORD")
        )
        return psycopg2.connect(
            f"postgresql://{user}:{password}@127.0.0.1:{self.setting('DAGSTER_POSTGRES_PORT')}/workshop_assets"
        )


def backfill_retailer_kpis(stack: ComposeStack, timeout: float) -> dict:
    """Once both code locations have loaded, a backfill of every asset of retailer_kpis over BACKFILL_DAYS, followed
    to its end (dagster_backfill.run_backfill)."""
    load_workspace(stack.url, timeout=300, details=stack.logs)
    found = run_backfill(
        stack.url, "chapter-2-retailer_kpis", "retailer_kpis", BACKFILL_DAYS, timeout, details=stack.logs
    )
    assert {tuple(key["path"]) for key in found["selection"]} == RETAILER_KPIS_ASSETS
    return found


def assert_delivered(stack: ComposeStack, days: list[str]) -> None:
    """The KPIs of the sample batches of `days`, as the reference computes them, in the stack's S3 (kpis/<day>.json)
    and in its Postgres warehouse (kpi_daily)."""
    batches = {day: sample_data.batch_csv(dt.date.fromisoformat(day), sample_data.SAMPLE_ROWS) for day in days}
    client, bucket, expected = stack.s3(), stack.setting("S3_BUCKET"), daily_kpis(batches)
    listing = client.list_objects_v2(Bucket=bucket, Prefix="kpis/")
    assert sorted(obj["Key"] for obj in listing.get("Contents", [])) == [f"kpis/{day}.json" for day in days]
    for day in days:
        document = json.loads(client.get_object(Bucket=bucket, Key=f"kpis/{day}.json")["Body"].read())
        assert_kpis_match({day: document}, {day: expected[day]})
    with stack.warehouse() as conn, conn.cursor() as cursor:
        cursor.execute("select date::text, revenue, units_sold from kpi_daily order by date")
        rows = cursor.fetchall()
    assert [row[0] for row in rows] == days
    for day, revenue, units_sold in rows:
        assert revenue == pytest.approx(expected[day]["revenue"], rel=1e-9)
        assert units_sold == expected[day]["units_sold"]
