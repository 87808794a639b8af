"""`make start-prod` for real: the standard Dagster deployment of docker-compose.prod.yml under Podman's Docker API.

Podman, its Docker API and the stand-in base images are the session's (tests/docker/conftest.py `engine`), shared
with test_podman_stack.py. The Makefile, the compose file and the Dockerfile are used unmodified from a copy of the
project, the images built for uid 1000 (a non-root user, as a server has). One stack start, one backfill: every
service healthy, the webserver and daemon on Dagster alone, both code locations loaded over gRPC from their code
servers, a 3-day backfill of retailer_kpis run by the DockerRunLauncher in a container of its own that appears and
goes (Podman's events), its KPIs in the LocalStack stand-in and the Postgres warehouse, then `make stop-prod`.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.support.compose_stack import BACKFILL_DAYS, ComposeStack, assert_delivered, backfill_retailer_kpis
from tests.support.dagster_backfill import assert_one_successful_run
from tests.support.dagster_server import load_workspace
from tests.support.podman_engine import remove_stack
from tooling import sample_data
from tooling.processes import graphql, webserver_ready

pytestmark = [pytest.mark.scale_out, pytest.mark.podman, pytest.mark.slow]

PROJECT_IMAGE = "dagster-dbt-workshop/dagster:prod"
PLATFORM_IMAGE = "dagster-dbt-workshop/dagster-platform:prod"
CODE_SERVERS = {"chapter-1-dagster_basics": "code_chapter_1", "chapter-2-retailer_kpis": "code_chapter_2"}
LONG_RUNNING = ("postgres", "localstack", *CODE_SERVERS.values(), "dagster_webserver", "dagster_daemon")
RUN_UID = "1000"
BACKFILL_TIMEOUT = 900
ORIGINS_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { name displayMetadata { key value } } } } }"


@pytest.fixture(scope="module")
def stack(engine, tmp_path_factory):
    project = f"workshop-prod-test-{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("prod-checkout")
    stack = ComposeStack.create(folder, engine.env, project, compose_file="docker-compose.prod.yml")
    # The daemon reaches the engine through this socket: Podman's Docker API here, /var/run/docker.sock elsewhere.
    stack.settings |= {"DOCKER_SOCKET": str(engine.api.socket), "DAGSTER_UID": RUN_UID}
    started = time.time()
    try:
        stack.output = stack.make("start-prod")
        stack.started = started
        yield stack
    finally:
        remove_stack(engine, stack, [PROJECT_IMAGE, PLATFORM_IMAGE])


def in_container(engine, stack: ComposeStack, service: str, *command: str):
    return engine.podman.run("exec", stack.ps()[service]["Name"], *command, check=False)


def test_every_service_is_healthy_and_the_seed_uploaded_the_batches(stack):
    assert "Stop: make stop-prod" in stack.output, stack.output
    services = stack.ps()
    for name in LONG_RUNNING:
        assert (services[name]["State"], services[name]["Health"]) == ("running", "healthy"), (
            f"{name}: {services[name]}\n{stack.logs(name)}"
        )
    assert (services["seed"]["State"], services["seed"]["ExitCode"]) == ("exited", 0), stack.logs("seed")
    listing = stack.s3().list_objects_v2(Bucket=stack.setting("S3_BUCKET"), Prefix="operational_data/")
    assert len(listing.get("Contents", [])) == sample_data.SAMPLE_DAYS
    assert webserver_ready(stack.url)


def test_the_webserver_and_daemon_run_dagster_without_the_project(engine, stack):
    for service in ("dagster_webserver", "dagster_daemon"):
        dagster = in_container(engine, stack, service, "python", "-c", "import dagster_docker, dagster_postgres")
        assert dagster.returncode == 0, dagster.stderr
        for module in ("dagster_project", "chapter_1", "dbt"):
            found = in_container(engine, stack, service, "python", "-c", f"import {module}")
            assert f"No module named '{module}'" in found.stderr, (service, module, found.stderr)
    # The code servers run the project as the non-root user of the image.
    for service in CODE_SERVERS.values():
        assert in_container(engine, stack, service, "id", "-u").stdout.strip() == RUN_UID


def test_both_code_locations_load_over_grpc_from_their_code_servers(stack):
    locations = load_workspace(stack.url, timeout=300, details=stack.logs)
    assert set(locations) == set(CODE_SERVERS)
    assert "retailer_kpis" in locations["chapter-2-retailer_kpis"].asset_groups
    entries = graphql(stack.url, ORIGINS_QUERY)["workspaceOrError"]["locationEntries"]
    origins = {entry["name"]: {item["key"]: item["value"] for item in entry["displayMetadata"]} for entry in entries}
    # Served by its code server, whose image the runs of the location get.
    assert origins == {
        name: {"host": host, "port": "4000", "image": PROJECT_IMAGE} for name, host in CODE_SERVERS.items()
    }


@pytest.fixture(scope="module")
def backfill(stack) -> dict:
    return backfill_retailer_kpis(stack, BACKFILL_TIMEOUT)


def container_events(engine, stack: ComposeStack, run_id: str) -> list[tuple[str, str, str]]:
    """(event, container id, image) of every container labelled with the run, since the stack started."""
    result = engine.podman.run(
        "events",
        "--stream=false",
        "--since",
        str(int(stack.started)),
        "--filter",
        "type=container",
        "--filter",
        f"label=dagster/run_id={run_id}",
        "--format",
        "json",
    )
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return [(event["Status"], event["ID"], event["Image"]) for event in events]


def test_the_backfill_ran_in_a_run_container_that_came_and_went(engine, backfill, stack):
    run = assert_one_successful_run(backfill, BACKFILL_DAYS, stack.logs("dagster_daemon"))
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    container = tags["docker/container_id"]
    assert tags["dagster/image"] == PROJECT_IMAGE
    events = container_events(engine, stack, run["runId"])
    statuses = [status for status, container_id, _ in events if container_id == container]
    assert {"create", "start", "died", "remove"} <= set(statuses), events
    assert statuses.index("create") < statuses.index("start") < statuses.index("remove"), events
    # The image as Podman names it: short names are docker.io's.
    assert {image.removeprefix("docker.io/") for _, _, image in events} == {PROJECT_IMAGE}, events
    # Gone: removed once the run ended.
    left = engine.podman.run("ps", "--all", "--filter", f"label=dagster/run_id={run['runId']}", "--format", "{{.ID}}")
    assert left.stdout.split() == []


def test_the_kpis_are_in_localstack_and_in_the_warehouse(backfill, stack):
    assert_delivered(stack, BACKFILL_DAYS)


def test_stop_prod_removes_the_containers_and_keeps_the_data(engine, backfill, stack):
    stack.make("stop-prod")
    left = engine.podman.project_objects(stack.project)
    assert left["containers"] == []
    assert sorted(left["volumes"]) == [f"{stack.project}_postgres_data", f"{stack.project}_warehouse"]
