"""`make start-prod` without a Docker engine: docker-compose.prod.yml as the real Docker Compose resolves it, its
instance and workspace files validated by Dagster's own schemas, and the make targets. The stack itself runs in
test_podman_prod_stack.py."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster_docker import DockerRunLauncher
from dagster_docker.container_context import DockerContainerContext
from packaging.requirements import Requirement

from dagster_project.settings import DAGSTER_EVENT_BATCH_SIZE, PROJECT_ROOT
from tests.docker.test_compose_config import DOCKERFILE, run_make

DAGSTER_YAML = PROJECT_ROOT / "docker" / "dagster" / "dagster.yaml"
PROD_DAGSTER_YAML = PROJECT_ROOT / "docker" / "dagster" / "dagster.prod.yaml"
PROD_WORKSPACE = PROJECT_ROOT / "docker" / "dagster" / "workspace.prod.yaml"
PLATFORM_REQUIREMENTS = PROJECT_ROOT / "docker" / "dagster" / "platform-requirements.txt"
CODE_SERVERS = ("code_chapter_1", "code_chapter_2")
PLATFORM = ("dagster_webserver", "dagster_daemon")
# Where the platform image finds its instance and workspace files.
MOUNTED_FILES = {
    "/opt/dagster/dagster_home/dagster.yaml": PROD_DAGSTER_YAML,
    "/opt/dagster/workspace.yaml": PROD_WORKSPACE,
}
# Settings of .env.example that only the host reads (ports, make's folders, the build): not handed to runs.
HOST_ONLY = {
    "DAGSTER_HOME",
    "LOCAL_STATE_DIR",
    "DAGSTER_PORT",
    "DBT_DOCS_PORT",
    "LOCALSTACK_PORT",
    "DOCKER_BIND_ADDRESS",
    "DAGSTER_UID",
    "DOCKER_SOCKET",
}


def services(config: dict) -> dict:
    return config["services"]


def env_example_names() -> set[str]:
    return set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", (PROJECT_ROOT / ".env.example").read_text(), flags=re.M))


def test_the_services_of_the_prod_stack(prod_compose_config):
    assert set(services(prod_compose_config)) == {"postgres", "localstack", "seed", *CODE_SERVERS, *PLATFORM}


def test_postgres_and_localstack_are_the_dev_stacks_own(prod_compose_config, compose_config):
    for name in ("postgres", "localstack"):
        prod, dev = services(prod_compose_config)[name], services(compose_config)[name]
        assert {key: value for key, value in prod.items() if key != "volumes"} == {
            key: value for key, value in dev.items() if key != "volumes"
        }, name


def test_code_servers_serve_the_workspaces_locations_from_the_project_image(prod_compose_config, compose_config):
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())["load_from"]
    modules = {entry["python_module"]["location_name"]: entry["python_module"]["module_name"] for entry in workspace}
    # The project's image, built (once, by seed) as the dev stack builds it.
    seed = services(prod_compose_config)["seed"]
    assert seed["build"] == services(compose_config)["dagster_webserver"]["build"]
    served = {}
    for name in CODE_SERVERS:
        service = services(prod_compose_config)[name]
        # That image by name, the project inside (no mount of the checkout).
        assert (service["image"], service["pull_policy"]) == (seed["image"], "never") and "build" not in service
        assert not [v for v in service.get("volumes", []) if v["type"] == "bind"], name
        command = service["command"]
        assert command[:4] == ["dagster", "code-server", "start", "-h"] and command[4] == "0.0.0.0", name
        port = command[command.index("-p") + 1]
        assert service["healthcheck"]["test"] == ["CMD", "dagster", "api", "grpc-health-check", "-p", port]
        served[command[command.index("--location-name") + 1]] = (command[command.index("-m") + 1], name, int(port))
    assert {location: module for location, (module, _, _) in served.items()} == modules
    # The platform's workspace loads each location from its code server, over gRPC.
    entries = yaml.safe_load(PROD_WORKSPACE.read_text())["load_from"]
    grpc = {entry["grpc_server"]["location_name"]: entry["grpc_server"] for entry in entries}
    assert {location: (host["host"], host["port"]) for location, host in grpc.items()} == {
        location: (name, port) for location, (_, name, port) in served.items()
    }


def test_runs_get_the_code_servers_image_network_and_warehouse_volume(prod_compose_config):
    network = prod_compose_config["networks"]["workshop"]["name"]
    warehouse = prod_compose_config["volumes"]["warehouse"]["name"]
    for name in CODE_SERVERS:
        service = services(prod_compose_config)[name]
        env = service["environment"]
        assert env["DAGSTER_CONTAINER_IMAGE"] == service["image"]
        context = json.loads(env["DAGSTER_CONTAINER_CONTEXT"])
        parsed = DockerContainerContext.create_from_config(context)
        assert parsed.networks == [network]
        [volume] = parsed.container_kwargs["volumes"]
        source, target = volume.split(":")
        assert source == warehouse
        mounted = {v["target"]: v["source"] for v in service["volumes"]}
        assert mounted[target] == "warehouse"
        # The DuckDB file is in that folder of the project (/opt/dagster/app, the image's WORKDIR).
        assert f"/opt/dagster/app/{env['DUCKDB_PATH']}".rpartition("/")[0] == target


def test_the_volume_and_network_names_follow_the_project_name(compose_resolver):
    config = compose_resolver({"COMPOSE_PROJECT_NAME": "other"}, compose_file="docker-compose.prod.yml")
    context = json.loads(services(config)["code_chapter_2"]["environment"]["DAGSTER_CONTAINER_CONTEXT"])
    assert context["docker"]["networks"] == [config["networks"]["workshop"]["name"]] == ["other_workshop"]
    assert context["docker"]["container_kwargs"]["volumes"] == ["other_warehouse:/opt/dagster/app/data"]


def test_webserver_and_daemon_run_the_platform_image_with_the_engines_socket(prod_compose_config, compose_resolver):
    project_image = services(prod_compose_config)["code_chapter_2"]["image"]
    platform = services(prod_compose_config)["dagster_webserver"]
    assert platform["build"]["target"] == "platform" and platform["image"] != project_image
    for name in PLATFORM:
        service = services(prod_compose_config)[name]
        assert service["image"] == platform["image"] and service["pull_policy"] == "never", name
        mounts = {v["target"]: v["source"] for v in service["volumes"]}
        socket = {"/var/run/docker.sock": "/var/run/docker.sock"}
        assert mounts == {**{target: str(source) for target, source in MOUNTED_FILES.items()}, **socket}, name
        command = service["command"]
        assert command[command.index("-w") + 1] == "/opt/dagster/workspace.yaml", name
        assert {"code_chapter_1", "code_chapter_2", "postgres"} <= set(service["depends_on"]), name
    moved = compose_resolver({"DOCKER_SOCKET": "/run/podman/podman.sock"}, compose_file="docker-compose.prod.yml")
    daemon_mounts = {v["target"]: v["source"] for v in services(moved)["dagster_daemon"]["volumes"]}
    assert daemon_mounts["/var/run/docker.sock"] == "/run/podman/podman.sock"
    assert "DOCKER_SOCKET" in env_example_names()


def test_every_dagster_container_gets_the_dev_stacks_settings(prod_compose_config, compose_config):
    dev = services(compose_config)["dagster_daemon"]["environment"]
    for name in ("seed", *CODE_SERVERS, *PLATFORM):
        env = services(prod_compose_config)[name]["environment"]
        assert {key: env[key] for key in dev} == dev, name
        assert env["DAGSTER_EVENT_BATCH_SIZE"] == DAGSTER_EVENT_BATCH_SIZE, name


def test_the_prod_instance_is_the_dev_one_with_a_docker_run_launcher(tmp_path, monkeypatch):
    dev, prod = yaml.safe_load(DAGSTER_YAML.read_text()), yaml.safe_load(PROD_DAGSTER_YAML.read_text())
    for section in ("telemetry", "nux", "storage", "run_coordinator", "concurrency", "run_monitoring"):
        assert prod[section] == dev[section], section
    assert set(prod) - set(dev) == {"run_launcher"}
    launcher = prod["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    checked = process_config(DockerRunLauncher.config_type(), launcher["config"])
    assert checked.success, checked.errors
    # Each run container gets every setting the project reads, and is removed once its run ends.
    assert set(launcher["config"]["env_vars"]) == env_example_names() - HOST_ONLY
    assert launcher["config"]["container_kwargs"] == {"auto_remove": True}
    # The whole file against Dagster's instance schema, with the settings the containers get.
    (tmp_path / "dagster.yaml").write_text(PROD_DAGSTER_YAML.read_text())
    for name in ("USER", "PASSWORD", "HOST", "PORT", "DB"):
        monkeypatch.setenv(f"DAGSTER_POSTGRES_{name}", "5432" if name == "PORT" else "x")
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_launcher"]["class"] == "DockerRunLauncher"


def test_the_platform_image_installs_only_pinned_dagster_packages():
    names = [line for line in PLATFORM_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    assert names == ["dagster", "dagster-webserver", "dagster-postgres", "dagster-docker"]
    constraints = {
        Requirement(line).name: str(Requirement(line).specifier)
        for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    dependencies = {
        Requirement(dep).name: str(Requirement(dep).specifier)
        for dep in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    for name in names:
        assert constraints[name] == dependencies[name] and constraints[name].startswith("=="), name
    # dagster-docker is released with dagster: 0.X.Y beside 1.X.Y.
    assert constraints["dagster-docker"] == constraints["dagster-postgres"]
    stage = DOCKERFILE.read_text().split(" AS platform")[1]
    assert "-c /tmp/platform/constraints.txt" in stage and "-r /tmp/platform/platform-requirements.txt" in stage


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("start-prod", r"compose -f docker-compose\.prod\.yml up --build --detach --wait"),
        ("stop-prod", r"compose -f docker-compose\.prod\.yml down --remove-orphans"),
    ],
)
def test_the_prod_targets_check_the_engine_and_run_compose(target, expected):
    result = run_make("-n", target)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert re.search(expected, output), output
    # deps first: the same messages as start-dev when Docker is missing.
    assert "Docker is not installed" in output and "The Docker engine does not answer" in output
    help_text = re.sub(r"\x1b\[[0-9;]*m", "", run_make("help").stdout)
    assert re.search(rf"^\s*{target}\s", help_text, flags=re.M), help_text
