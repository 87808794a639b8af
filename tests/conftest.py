"""Fixtures shared by every chapter: a real S3 over HTTP on 127.0.0.1 and an isolated pipeline environment."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest

from dagster_project.project import retailer_dbt_project, retailer_preparer
from dagster_project.settings import DAGSTER_EVENT_BATCH_SIZE, PROJECT_ROOT
from tests.support.prerequisites import missing
from tooling import local_s3
from tooling.local_postgres import PostgresServer, find_bindir
from tooling.processes import free_port, stop_group

# The 39 real daily batches of the original workshop, beside the repository (never copied into it).
REAL_BATCHES_DIR = PROJECT_ROOT.parent / "shared" / "data" / "stock-data"
# A test using one of these fixtures belongs to the marker's group, marked or not: nobody can forget it, and
# `pytest tests` (which leaves the group out) never starts the service.
FIXTURE_MARKERS = {"postgres_server": "postgres"}
# Tests write only to temporary folders: everything under the project root is watched but these (the venv, caches,
# and the screenshots of failed UI tests, which git ignores).
UNWATCHED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "test-artifacts"}


def pytest_configure(config):
    """Chapter 2 loads dbt models from the prepared manifest; prepare it when missing or stale, as `make prepare`.

    Every Dagster process a test starts without an instance of its own gets a throwaway one: `make test` exports
    the repository's DAGSTER_HOME, which no test may write into.
    """
    os.environ["DAGSTER_HOME"] = dagster_home = tempfile.mkdtemp(prefix="pytest-dagster-home-")
    config.add_cleanup(lambda: shutil.rmtree(dagster_home, ignore_errors=True))
    retailer_preparer.prepare_if_dev(retailer_dbt_project)  # make prepare's rule, before the tree is watched


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in item.fixturenames and marker not in item.keywords:
                item.add_marker(marker)
    items[:] = podman_modules_spread(items)


def podman_modules_spread(items: list) -> list:
    """The first Podman module first, each other one further on, evenly spaced at module boundaries.

    Under `make test` (pytest-xdist, --dist loadfile: a module's tests stay on one process, so each stack module
    starts its stack once) the first module's image builds, the suite's longest stretch, overlap everything else
    instead of running alone at the end; a later module starts once the stand-in images are built, and reuses
    them, rather than building them beside the first. Every other order is kept.
    """
    podman: dict = {}
    for item in items:
        if "podman" in item.keywords:
            podman.setdefault(item.path, []).append(item)
    if not podman:
        return items
    # The dev stack's module first: it is the longest (its stand-in builds, stack and restart); the scale_out
    # (prod) stack's later.
    first, *later = sorted(podman.values(), key=lambda module: "scale_out" in module[0].keywords)
    others = [item for item in items if "podman" not in item.keywords]
    boundaries = [i for i in range(1, len(others)) if others[i].path != others[i - 1].path] + [len(others)]
    spread, start = list(first), 0
    for n, module in enumerate(later, 1):
        cut = next(b for b in boundaries if b >= len(others) * n // (len(later) + 1))
        spread += others[start:cut] + module
        start = max(start, cut)
    return spread + others[start:]


def working_tree_state(root: Path = PROJECT_ROOT) -> dict[str, tuple[int, int]]:
    """{relative path: (mtime, size)} of every file of the working tree but the UNWATCHED folders."""
    state = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in UNWATCHED and not name.endswith(".egg-info")]
        for name in files:
            path = Path(folder, name)
            if name not in UNWATCHED and path.exists():
                stat = path.stat()
                state[str(path.relative_to(root))] = (stat.st_mtime_ns, stat.st_size)
    return state


@pytest.fixture(scope="session", autouse=True)
def working_tree_untouched():
    """Fails the session (an error at the last teardown) if a test wrote into the repository's working tree."""
    before = working_tree_state()
    yield
    after = working_tree_state()
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert not changed, (
        "files of the working tree were created, changed or removed during the tests (tests must write to "
        f"temporary folders only; or something else edited the tree meanwhile): {changed[:20]}"
    )


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> str:
    """moto's S3 server in its own process on a free port, for the whole session."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    log = tmp_path_factory.mktemp("local_s3") / "moto.log"
    process = local_s3.start_server(endpoint, log_path=log)
    yield endpoint
    stop_group(process)


@pytest.fixture
def pipeline_env(s3_endpoint, tmp_path, monkeypatch) -> dict[str, str]:
    """The documented environment (.env.example's variables), pointed at a fresh bucket and DuckDB file.

    Set in os.environ for in-process code and returned as a dict for subprocesses.
    """
    values = {
        "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "S3_BUCKET": f"test-{uuid.uuid4().hex[:12]}",
        "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        # Batched event writes, as every process of the project stores events (.env.example).
        "DAGSTER_EVENT_BATCH_SIZE": DAGSTER_EVENT_BATCH_SIZE,
    }
    for name in ("WAREHOUSE_URL", "OPERATIONAL_DATA_PREFIX", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


@pytest.fixture
def no_static_keys(pipeline_env, tmp_path, monkeypatch) -> Path:
    """pipeline_env without the keys, for the AWS credential chain: its files in a temp folder (none written yet),
    no instance role to wait for, and a new boto3 default session (the old one keeps the environment it was made in).
    """
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return tmp_path


@pytest.fixture
def real_batches_dir() -> Path:
    if not any(REAL_BATCHES_DIR.glob("*/stock.csv")):
        missing(f"the real daily batches are not at {REAL_BATCHES_DIR} (../shared/ is absent)")
    return REAL_BATCHES_DIR


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on a free port for the session."""
    bindir = find_bindir()
    if bindir is None:
        missing("PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)")
    server = PostgresServer(free_port(), bindir).start()
    yield server
    server.stop()
