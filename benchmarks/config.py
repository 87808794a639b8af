"""What the bench measures and where: the sizes, its isolated environment, the commands it times."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from dagster_project.project import retailer_dbt_project, stale_reason
from dagster_project.settings import (
    DAGSTER_EVENT_BATCH_SIZE,
    DBT_PROJECT_DIR,
    PLAN_AS_PARTITION_SUBSET,
    PROJECT_ROOT,
    Settings,
    load_settings,
)
from tooling import run as project_run

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
BIN_DIR = Path(sys.executable).parent
MIB = 1024 * 1024


class BenchFailure(RuntimeError):
    """The bench cannot produce a trustworthy figure: a run failed or its output is wrong."""


def say(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class Size:
    name: str
    days: int
    rows_per_day: int
    first: dt.date = dt.date(2023, 8, 2)  # the first partition of the project

    @property
    def rows(self) -> int:
        return self.days * self.rows_per_day

    @property
    def last(self) -> dt.date:
        return self.first + dt.timedelta(days=self.days - 1)


SIZES = {
    "small": Size("small", days=39, rows_per_day=120),
    "year": Size("year", days=365, rows_per_day=1_000),
    "10m": Size("10m", days=365, rows_per_day=27_400),
}


def parse_sizes(text: str) -> list[str]:
    """`small`, `year`, `10m` or a comma-separated list of them, in the given order, without repeats."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SIZES]
    if not names or unknown:
        raise ValueError(f"unknown size(s) {unknown or text!r}: choose among {', '.join(SIZES)}")
    return list(dict.fromkeys(names))


def spread_days(first: dt.date, days: int, count: int) -> list[dt.date]:
    """`count` distinct days spread evenly over the range, first and last day included."""
    count = max(1, min(count, days))
    if count == 1:
        return [first]
    return [first + dt.timedelta(days=round(i * (days - 1) / (count - 1))) for i in range(count)]


def single_partition_command(day: dt.date) -> list[str]:
    """The project's materialize command (run.py) for one partition: `--partition day` instead of a range."""
    command = project_run.materialize_command(day.isoformat(), day.isoformat())
    position = command.index("--partition-range")
    return [*command[:position], "--partition", day.isoformat(), *command[position + 2 :]]


def bench_env(base: Mapping[str, str], *, endpoint: str, bucket: str, duckdb_path: Path, dagster_home: Path) -> dict:
    """The caller's environment, pointed at the bench's own S3, bucket, DuckDB file and Dagster instance."""
    env = dict(base)
    # Anything that could send the bench's processes elsewhere than its own isolated resources.
    for name in (
        "WAREHOUSE_URL",
        "OPERATIONAL_DATA_PREFIX",
        "DAGSTER_IS_DEV_CLI",
        "DBT_TARGET_PATH",
        "DBT_LOG_PATH",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ):
        env.pop(name, None)
    env.update(
        S3_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        S3_BUCKET=bucket,
        DUCKDB_PATH=str(duckdb_path),
        DAGSTER_HOME=str(dagster_home),
    )
    # The project's event settings (.env.example), also when the bench runs outside `make bench`: batched writes,
    # and a ranged run's plan as one event per asset (without it, a year's plan is 3,285 events).
    env.setdefault("DAGSTER_EVENT_BATCH_SIZE", DAGSTER_EVENT_BATCH_SIZE)
    env.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", PLAN_AS_PARTITION_SUBSET)
    path = env.get("PATH", "")
    if path.split(os.pathsep)[0] != str(BIN_DIR):
        env["PATH"] = os.pathsep.join(part for part in (str(BIN_DIR), path) if part)
    return env


def settings_for(env: Mapping[str, str]) -> Settings:
    """The project's settings as a process with `env` reads them (settings.py is the one reader)."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def new_dagster_home(path: Path, postgres_url: str | None = None) -> Path:
    """A Dagster instance folder with the project's dagster.yaml; its storage in Postgres when a URL is given."""
    path.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    if postgres_url:
        config["storage"] = {"postgres": {"postgres_url": postgres_url}}
    else:  # its base_dir is $DAGSTER_HOME: this folder, also when the bench's own process opens the instance
        config["storage"]["custom"]["config"]["base_dir"] = str(path)
    (path / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def preflight() -> None:
    for tool in ("dagster", "dagster-webserver", "dbt"):
        if not (BIN_DIR / tool).exists():
            raise BenchFailure(f"{BIN_DIR / tool} is missing: run the bench with the project's venv (make bench)")
    if reason := stale_reason(retailer_dbt_project):
        raise BenchFailure(f"the dbt manifest is stale ({reason}): `make prepare` first")


def copy_partial_parse(target: Path) -> None:
    """Dagster copies the prepared partial_parse.msgpack into each invocation's target folder: the same here."""
    partial_parse = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    target.mkdir(parents=True, exist_ok=True)
    if partial_parse.exists():
        shutil.copy(partial_parse, target / partial_parse.name)
