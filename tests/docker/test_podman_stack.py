"""`make start-dev` for real: the Docker stack of docker-compose.yml built and run under Podman's Docker API.

The Makefile, docker-compose.yml and the Dockerfile are used unmodified, from a copy of the project as a fresh clone
has it. Base images are stand-ins built offline (tests/docker/standins/, no registry here) under the official names;
what only this machine needs is set up by podman_engine.py. The checkout is owned by root and DAGSTER_UID is left
empty (the user a cloud VM or CI has): every service healthy, the seed's upload (and, on a second start, its
skipping), the UI and both code locations, a 3-day backfill of retailer_kpis as ONE run, its KPIs in the LocalStack
stand-in and the Postgres warehouse, the run history across `make stop-dev` / `make start-dev` (restarted with
DAGSTER_UID=0 set explicitly), then `make clean-full`. Other owners' uids: test_docker_build_portability.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.compose_stack import (
    BACKFILL_DAYS,
    LONG_RUNNING,
    ComposeStack,
    assert_delivered,
    backfill_retailer_kpis,
)
from tests.support.dagster_backfill import assert_one_successful_run
from tests.support.dagster_server import load_workspace
from tests.support.podman_engine import STANDIN_IMAGES, Engine, remove_stack
from tooling import sample_data
from tooling.processes import graphql, webserver_ready

pytestmark = [pytest.mark.podman, pytest.mark.slow]

DAGSTER_IMAGE = "dagster-dbt-workshop/dagster"
DAYS = BACKFILL_DAYS
BACKFILL_TIMEOUT = 600
RUNS_QUERY = "{ runsOrError { ... on Runs { results { runId status } } } }"


def new_stack(engine: Engine, folder: Path, owner: int | None = None) -> ComposeStack:
    return ComposeStack.create(folder, engine.env, f"workshop-test-{uuid.uuid4().hex[:8]}", owner)


def assert_started(stack: ComposeStack) -> dict[str, dict]:
    services = stack.ps()
    for name in LONG_RUNNING:
        assert (services[name]["State"], services[name]["Health"]) == ("running", "healthy"), (
            f"{name}: {services[name]}\n{stack.logs(name)}"
        )
    seed = services["seed"]
    assert (seed["State"], seed["ExitCode"]) == ("exited", 0), f"{seed}\n{stack.logs('seed')}"
    assert webserver_ready(stack.url)
    return services


def container_uid(engine: Engine, stack: ComposeStack, service: str) -> str:
    container = stack.ps()[service]["Name"]
    return engine.podman.run("exec", container, "id", "-u").stdout.strip()


def assert_nothing_left(engine: Engine, stack: ComposeStack) -> None:
    assert engine.podman.project_objects(stack.project) == {"containers": [], "volumes": [], "networks": []}
    assert not [image for image in engine.podman.images() if DAGSTER_IMAGE in image]


@pytest.fixture(scope="module")
def stack(engine, tmp_path_factory):
    """A root-owned checkout, DAGSTER_UID empty: `make start-dev` as root runs it."""
    stack = new_stack(engine, tmp_path_factory.mktemp("root-checkout"))
    assert stack.setting("DAGSTER_UID") == ""
    try:
        stack.output = stack.make("start-dev")
        yield stack
    finally:
        remove_stack(engine, stack, [f"{DAGSTER_IMAGE}:dev"])


def test_the_stand_ins_carry_the_official_names(compose_config):
    images = {service["image"] for service in compose_config["services"].values() if "build" not in service}
    from_lines = Path(compose_config["services"]["seed"]["build"]["context"], "docker/dagster/Dockerfile")
    bases = {line.split()[1] for line in from_lines.read_text().splitlines() if line.startswith("FROM ")}
    assert {f"docker.io/library/{name}" if "/" not in name else f"docker.io/{name}" for name in images | bases} == set(
        STANDIN_IMAGES.values()
    )


def test_every_service_is_healthy_and_the_seed_uploaded_the_batches(engine, stack):
    assert "The Dagster containers run as uid 0" in stack.output
    assert_started(stack)
    assert container_uid(engine, stack, "dagster_webserver") == "0"
    seed_log = stack.logs("seed")
    assert f"uploaded {sample_data.SAMPLE_DAYS} daily batches" in seed_log and "skipped" not in seed_log, seed_log
    listing = stack.s3().list_objects_v2(Bucket=stack.setting("S3_BUCKET"), Prefix="operational_data/")
    assert len(listing.get("Contents", [])) == sample_data.SAMPLE_DAYS
    # The seed prepared the dbt manifest of the mounted tree, as uid 0.
    assert (stack.checkout / "dbt_project" / "target" / "manifest.json").is_file()


def test_both_code_locations_load(stack):
    locations = load_workspace(stack.url, timeout=300, details=stack.logs)
    assert set(locations) == {"chapter-1-dagster_basics", "chapter-2-retailer_kpis"}
    assert "retailer_kpis" in locations["chapter-2-retailer_kpis"].asset_groups


@pytest.fixture(scope="module")
def backfill(stack) -> dict:
    return backfill_retailer_kpis(stack, BACKFILL_TIMEOUT)


def test_a_three_day_backfill_is_one_successful_run(backfill, stack):
    assert_one_successful_run(backfill, DAYS, stack.logs("dagster_daemon"))


def test_the_kpis_are_in_localstack_and_in_the_warehouse(backfill, stack):
    assert_delivered(stack, DAYS)


def test_the_seed_run_again_keeps_the_batches_and_says_so(stack):
    """--skip-existing keeps what is in the bucket, and the seed's message tells it (it said "uploaded 39")."""
    result = stack.compose("run", "--rm", "--no-deps", "seed", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"uploaded 0 daily batches of {sample_data.SAMPLE_ROWS} rows to s3://" in result.stdout, result.stdout
    assert f"; skipped {sample_data.SAMPLE_DAYS} already there" in result.stdout, result.stdout


def test_the_run_history_survives_stop_dev_and_start_dev(engine, backfill, stack):
    [run] = backfill["runs"]
    stack.make("stop-dev")
    assert engine.podman.project_objects(stack.project)["containers"] == []
    # DAGSTER_UID=0 set explicitly, as a root user may (the same image as the default's).
    stack.settings["DAGSTER_UID"] = "0"
    output = stack.make("start-dev")
    assert "The Dagster containers run as uid 0" in output
    assert_started(stack)
    runs = graphql(stack.url, RUNS_QUERY)["runsOrError"]["results"]
    assert {"runId": run["runId"], "status": "SUCCESS"} in runs


def test_clean_full_leaves_no_container_volume_or_image(engine, stack):
    stack.make("clean-full")
    assert_nothing_left(engine, stack)
