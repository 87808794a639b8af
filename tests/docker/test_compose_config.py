"""`make start-dev` without a Docker engine: the compose file validated by the real Docker Compose, every file,
image tag and command it references checked, the Dockerfile linted by hadolint and the scripts by shellcheck."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from dagster_project.constants import DUCKDB_POOL
from dagster_project.definitions import defs
from dagster_project.settings import DAGSTER_EVENT_BATCH_SIZE, PROJECT_ROOT
from tests.support.duckdb_steps import declared_pools
from tests.support.terminal_output import accepted_warnings

VENV_BIN = Path(sys.executable).parent
DAGSTER_SERVICES = ("seed", "dagster_webserver", "dagster_daemon")
DOCKERFILE = PROJECT_ROOT / "docker" / "dagster" / "Dockerfile"
DAGSTER_YAML = PROJECT_ROOT / "docker" / "dagster" / "dagster.yaml"
WORKSPACE_YAML = PROJECT_ROOT / "workspace.yaml"  # the one workspace: make start-local and the Docker stack
DEVCONTAINER = PROJECT_ROOT / ".devcontainer" / "devcontainer.json"
# The settings every container of the project reads (settings.py), by the names of .env.example.
CONTRACT_VARIABLES = {
    "S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "S3_BUCKET",
    "OPERATIONAL_DATA_PREFIX",
    "DUCKDB_PATH",
    "WAREHOUSE_URL",
    "DAGSTER_HOME",
}
PUBLISHED = {"dagster_webserver": 3000, "localstack": 4566, "postgres": 5432}


def services(config: dict) -> dict:
    return config["services"]


def test_the_services_of_the_stack(compose_config):
    assert set(services(compose_config)) == {"postgres", "localstack", "seed", "dagster_webserver", "dagster_daemon"}


def test_every_image_is_pinned(compose_config):
    for name, service in services(compose_config).items():
        if "build" in service:
            # Built locally; what it is built from is pinned (test_the_dockerfile_is_multi_stage_pinned_and_non_root).
            assert service["image"].endswith(":dev"), name
            continue
        repository, _, tag = service["image"].rpartition(":")
        assert repository and "/" not in tag, f"{name}: {service['image']} has no explicit tag"
        assert tag != "latest" and re.match(r"^\d+", tag), f"{name}: {service['image']} is not a version tag"
    localstack = services(compose_config)["localstack"]["image"]
    # :latest and the calendar-versioned images want an auth token; 4.x tags run S3 without one.
    assert localstack.startswith("localstack/localstack:4."), localstack


def test_the_dagster_services_share_one_image(compose_config):
    built = {name: service for name, service in services(compose_config).items() if "build" in service}
    assert set(built) == set(DAGSTER_SERVICES)
    assert len({service["image"] for service in built.values()}) == 1
    assert len({json.dumps(service["build"], sort_keys=True) for service in built.values()}) == 1


def test_ports_are_published_on_localhost_only(compose_config):
    published = {
        name: [(port["host_ip"], int(port["published"]), port["target"]) for port in service.get("ports", [])]
        for name, service in services(compose_config).items()
    }
    assert published == {
        "dagster_webserver": [("127.0.0.1", 3000, 3000)],
        "localstack": [("127.0.0.1", 4566, 4566)],
        "postgres": [("127.0.0.1", 5432, 5432)],
        "seed": [],
        "dagster_daemon": [],
    }


def test_host_ports_and_bind_address_follow_the_settings(compose_resolver):
    """README, "Troubleshooting": a port taken on the host is moved in .env, and the services still meet inside."""
    config = compose_resolver(
        {
            "DAGSTER_PORT": "3100",
            "LOCALSTACK_PORT": "4600",
            "DAGSTER_POSTGRES_PORT": "5440",
            "DOCKER_BIND_ADDRESS": "0.0.0.0",
        }
    )
    ports = {name: service.get("ports", []) for name, service in services(config).items()}
    assert [(p["host_ip"], p["published"], p["target"]) for p in ports["dagster_webserver"]] == [
        ("0.0.0.0", "3100", 3000)
    ]
    assert [(p["published"], p["target"]) for p in ports["localstack"]] == [("4600", 4566)]
    assert [(p["published"], p["target"]) for p in ports["postgres"]] == [("5440", 5432)]
    # Inside the network Postgres stays on 5432.
    assert services(config)["dagster_daemon"]["environment"]["DAGSTER_POSTGRES_PORT"] == "5432"


def test_one_network_and_a_named_volume_for_postgres(compose_config):
    assert list(compose_config["networks"]) == ["workshop"]
    for name, service in services(compose_config).items():
        assert list(service["networks"]) == ["workshop"], name
    assert set(compose_config["volumes"]) == {"postgres_data", "dagster_home"}
    postgres_volumes = {v["target"]: v for v in services(compose_config)["postgres"]["volumes"]}
    data = postgres_volumes["/var/lib/postgresql/data"]
    assert (data["type"], data["source"]) == ("volume", "postgres_data")


def test_services_start_in_order_and_only_when_healthy(compose_config):
    def depends(name):
        return {dep: value["condition"] for dep, value in services(compose_config)[name].get("depends_on", {}).items()}

    assert depends("seed") == {"localstack": "service_healthy"}
    assert depends("dagster_webserver") == {
        "postgres": "service_healthy",
        "seed": "service_completed_successfully",
    }
    assert depends("dagster_daemon") == {
        "postgres": "service_healthy",
        "localstack": "service_healthy",
        "seed": "service_completed_successfully",
    }
    for name in ("postgres", "localstack", "dagster_daemon"):
        assert services(compose_config)[name]["healthcheck"]["test"], name
    assert services(compose_config)["seed"]["healthcheck"] == {"disable": True}
    # The webserver's healthcheck is the image's HEALTHCHECK.
    assert "healthcheck" not in services(compose_config)["dagster_webserver"]
    assert "HEALTHCHECK" in DOCKERFILE.read_text() and "/server_info" in DOCKERFILE.read_text()
    for name in ("postgres", "localstack", "dagster_webserver", "dagster_daemon"):
        assert services(compose_config)[name]["restart"] == "unless-stopped", name
    assert services(compose_config)["seed"]["restart"] == "no"


def test_every_referenced_file_exists(compose_config):
    for name, service in services(compose_config).items():
        if "build" in service:
            context = Path(service["build"]["context"])
            assert context.is_dir(), name
            assert (context / service["build"]["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']}"
        for word in service.get("command") or []:
            if "/" in word and not word.startswith(("http", "/")):
                assert (PROJECT_ROOT / word).exists(), f"{name}: {word}"
    initdb = {v["target"]: v["source"] for v in services(compose_config)["postgres"]["volumes"] if v["type"] == "bind"}
    assert sorted(p.name for p in Path(initdb["/docker-entrypoint-initdb.d"]).iterdir()) == ["10-create-databases.sql"]
    hooks = {v["target"]: v["source"] for v in services(compose_config)["localstack"]["volumes"]}
    assert (Path(hooks["/etc/localstack/init/ready.d"]) / "create_bucket.py").is_file()


def _dockerignore_patterns() -> list[str]:
    lines = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def test_the_dockerfile_copies_files_that_exist_and_are_in_the_build_context():
    patterns = _dockerignore_patterns()
    assert {".env", ".venv", ".git", "data", "dbt_project/target"} <= set(patterns)
    copies = re.findall(r"^COPY\s+(.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    sources = []
    for copy in copies:
        words = [word for word in shlex.split(copy) if not word.startswith("--")]
        if "--from=" in copy:
            continue
        sources.extend(words[:-1])
    assert {"pyproject.toml", "constraints.txt", "docker/dagster/entrypoint.sh", "."} <= set(sources)
    for source in sources:
        assert (PROJECT_ROOT / source).exists(), source
        if source != ".":
            assert not _ignored(source, patterns), f"{source} is excluded by .dockerignore"
    for needed in (
        "dagster_project/definitions.py",
        "chapter_1/__init__.py",
        "dbt_project/dbt_project.yml",
        "README.md",
    ):
        assert not _ignored(needed, patterns), needed


def test_the_dockerfile_is_multi_stage_pinned_and_non_root(compose_config):
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, flags=re.MULTILINE)
    # The project's image (builder, runtime) and the prod stack's Dagster-only image (platform).
    assert [stage for _, stage in bases] == ["builder", "runtime", "platform"]
    for base, _ in bases:
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim-bookworm", base), base
    runtime = text.split(" AS runtime")[1].split(" AS platform")[0]
    users = re.findall(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert services(compose_config)["dagster_webserver"]["build"]["target"] == "runtime"
    assert "-c constraints.txt" in text
    assert "dagster-dbt project prepare-and-package --file dagster_project/project.py" in text
    assert (PROJECT_ROOT / "dagster_project" / "project.py").is_file()
    assert re.search(r'^ENTRYPOINT \["dagster-entrypoint"\]', text, flags=re.MULTILINE)


@pytest.mark.parametrize(
    "dockerfile", [DOCKERFILE, DEVCONTAINER.parent / "Dockerfile"], ids=["dagster", "devcontainer"]
)
def test_hadolint_passes(dockerfile):
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), str(dockerfile.relative_to(PROJECT_ROOT))],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def shell_scripts() -> list[Path]:
    scripts = sorted((PROJECT_ROOT / "docker").rglob("*.sh")) + sorted((PROJECT_ROOT / ".devcontainer").rglob("*.sh"))
    ci = PROJECT_ROOT / ".ci" / "run"
    return scripts + ([ci] if ci.exists() else [])


def test_shellcheck_passes_on_every_script():
    scripts = shell_scripts()
    assert PROJECT_ROOT / "docker" / "dagster" / "entrypoint.sh" in scripts
    result = subprocess.run(
        [str(VENV_BIN / "shellcheck"), *map(str, scripts)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for script in scripts:
        assert script.stat().st_mode & 0o111, f"{script} is not executable"


def test_the_dagster_containers_get_every_setting_they_read(compose_config):
    instance_variables = set(re.findall(r"env:\s*(\w+)", DAGSTER_YAML.read_text()))
    assert instance_variables == {
        "DAGSTER_POSTGRES_USER",
        "DAGSTER_POSTGRES_PASSWORD",
        "DAGSTER_POSTGRES_HOST",
        "DAGSTER_POSTGRES_PORT",
        "DAGSTER_POSTGRES_DB",
    }
    postgres = services(compose_config)["postgres"]["environment"]
    for name in DAGSTER_SERVICES:
        env = services(compose_config)[name]["environment"]
        assert instance_variables | CONTRACT_VARIABLES <= set(env), name
        # Docker-only values: the services by their names inside the network.
        assert env["S3_ENDPOINT_URL"] == "http://localstack:4566"
        assert (env["DAGSTER_POSTGRES_HOST"], env["DAGSTER_POSTGRES_PORT"]) == ("postgres", "5432")
        assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
        assert env["DAGSTER_POSTGRES_USER"] == postgres["POSTGRES_USER"]
        assert env["DAGSTER_POSTGRES_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
        assert env["DAGSTER_POSTGRES_DB"] == postgres["POSTGRES_DB"] == "dagster_metadata"
        warehouse = urlparse(env["WAREHOUSE_URL"])
        assert (warehouse.hostname, warehouse.port, warehouse.path) == ("postgres", 5432, "/workshop_assets")
        assert (warehouse.username, warehouse.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
        # The rest is .env.example's, untouched.
        assert env["S3_BUCKET"] == "dagster" and env["OPERATIONAL_DATA_PREFIX"] == "operational_data"
        # Batched event writes in the webserver, the daemon and the run workers the daemon starts (inherited).
        assert env["DAGSTER_EVENT_BATCH_SIZE"] == DAGSTER_EVENT_BATCH_SIZE, name
    localstack = services(compose_config)["localstack"]["environment"]
    assert localstack["SERVICES"] == "s3"
    assert localstack["S3_BUCKET"] == services(compose_config)["dagster_webserver"]["environment"]["S3_BUCKET"]


def test_the_instance_config_queues_runs_and_serializes_the_duckdb_writers():
    config = yaml.safe_load(DAGSTER_YAML.read_text())
    assert config["telemetry"] == {"enabled": False}
    assert config["nux"] == {"enabled": False}
    assert set(config["storage"]["postgres"]["postgres_db"]) == {"username", "password", "hostname", "port", "db_name"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    # max_concurrent_runs lives in concurrency.runs; under run_coordinator.config it would conflict.
    assert "config" not in config["run_coordinator"]
    assert config["concurrency"]["runs"]["max_concurrent_runs"] >= 1
    # The DuckDB pool: one writer at a time, enforced as the local instance (make start-local) enforces it.
    local = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["concurrency"]["pools"] == local["concurrency"]["pools"]
    # No per-pool limit: default_limit is the limit of every pool, right while DUCKDB_POOL is the only one.
    assert declared_pools(defs) == {DUCKDB_POOL}
    assert config["run_monitoring"]["enabled"] is True


def test_the_workspace_has_both_code_locations():
    workspace = yaml.safe_load(WORKSPACE_YAML.read_text())["load_from"]
    assert {entry["python_module"]["location_name"] for entry in workspace} == {
        "chapter-1-dagster_basics",
        "chapter-2-retailer_kpis",
    }


def test_the_commands_use_the_one_workspace(compose_config):
    for name in ("dagster_webserver", "dagster_daemon"):
        command = services(compose_config)[name]["command"]
        assert command[command.index("-w") + 1] == "workspace.yaml", name  # relative to the mounted project
    webserver = services(compose_config)["dagster_webserver"]["command"]
    assert webserver[webserver.index("-h") + 1] == "0.0.0.0"
    assert webserver[webserver.index("-p") + 1] == "3000"
    assert services(compose_config)["seed"]["command"] == [
        "python",
        "-m",
        "tooling.sample_data",
        "--s3",
        "--skip-existing",
    ]


def test_the_dev_container_runs_docker_and_forwards_the_ports():
    config = json.loads(DEVCONTAINER.read_text())
    assert any("docker-in-docker" in feature for feature in config["features"])
    dockerfile = DEVCONTAINER.parent / config["build"]["dockerfile"]
    assert re.search(r"^FROM mcr\.microsoft\.com/devcontainers/python:1-3\.11-bookworm$", dockerfile.read_text(), re.M)
    assert config["forwardPorts"] == list(PUBLISHED.values())
    for port in PUBLISHED.values():
        assert config["portsAttributes"][str(port)]["label"]
    command = config["postCreateCommand"]
    script = PROJECT_ROOT / command.split()[-1]
    assert "make install" in command or "make install" in script.read_text()


def run_make(*args: str) -> subprocess.CompletedProcess:
    # The venv first, as `make test` has it: its docker-compose stands in where Docker is not installed.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
    return subprocess.run(["make", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def make_help() -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", run_make("help").stdout)  # without its colours


@pytest.mark.parametrize(
    "target", ["deps", "start-dev", "start-dev-nocache", "stop-dev", "clean", "clean-full", "start-local", "stop-local"]
)
def test_make_help_lists_the_target(make_help, target):
    assert re.search(rf"^\s*{re.escape(target)}\s", make_help, flags=re.MULTILINE), f"`make help` lacks {target}"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("start-dev", r"compose up --build --detach --wait"),
        ("start-dev-nocache", r"compose build --no-cache"),
        ("stop-dev", r"compose down"),
        ("clean", r"compose down .*docker image rm --force dagster-dbt-workshop/dagster:dev"),
        ("clean-full", r"compose down --volumes"),
    ],
)
def test_the_docker_targets_run_compose(compose_config, target, expected):
    result = run_make("-n", target)
    assert result.returncode == 0, result.stderr
    assert re.search(expected, result.stdout.replace("docker-compose", "docker compose")), result.stdout
    if target == "clean":
        assert services(compose_config)["dagster_webserver"]["image"] in result.stdout


def docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "info"], capture_output=True, timeout=60).returncode == 0


@pytest.mark.skipif(docker_engine_answers(), reason="a Docker engine runs here")
def test_deps_says_what_is_missing():
    result = run_make("deps")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert any(
        message in output
        for message in ("Docker is not installed", "Docker Compose is missing", "The Docker engine does not answer")
    ), output


def test_the_containers_get_the_accepted_warnings_filter(compose_config):
    """The containers' terminal is as clean as make run's: the same PYTHONWARNINGS, from .env.example."""
    for name in DAGSTER_SERVICES:
        assert services(compose_config)[name]["environment"]["PYTHONWARNINGS"] == accepted_warnings(), name
