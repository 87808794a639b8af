"""A missing or stale dbt manifest is prepared by whatever loads the code location, in a copy of the project.

The repository's own dbt_project/target is never touched: both tests work on a copy in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster_dbt import DbtProject

from dagster_project.project import PARTIAL_PARSE_FILE, retailer_preparer, stale_reason, target_dir
from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.support.terminal_output import accepted_warnings

BUILD_OUTPUTS = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml", "__pycache__")


def copy_dbt_project(destination: Path) -> DbtProject:
    shutil.copytree(DBT_PROJECT_DIR, destination, ignore=BUILD_OUTPUTS)
    return DbtProject(project_dir=destination, profiles_dir=destination)


def model_names(manifest_path: Path) -> set[str]:
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    return {node["name"] for node in nodes if node["resource_type"] == "model"}


def test_the_stale_rule_watches_what_dbt_parses_and_ignores_what_dbt_writes(tmp_path):
    project_dir = tmp_path / "dbt"
    (project_dir / "models").mkdir(parents=True)
    (project_dir / "dbt_project.yml").write_text("name: probe\n")
    for folder in ("target/run", "logs", "dbt_packages/pkg"):
        (project_dir / folder).mkdir(parents=True)
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    assert stale_reason(project) == f"{project.manifest_path} does not exist"

    project.manifest_path.write_text("{}")
    sources = [project_dir / "models" / name for name in ("m.sql", "m.yml", "docs.md", "seed.csv")]
    written = [project_dir / path for path in ("target/run/m.sql", "logs/dbt.log.yml", "dbt_packages/pkg/x.sql")]
    written.append(project_dir / ".user.yml")
    for path in [*sources, *written, project_dir / "dbt_project.yml"]:
        path.write_text("x")
        os.utime(path, (1_000, 1_000))
    os.utime(project.manifest_path, (2_000, 2_000))
    for path in written:
        os.utime(path, (3_000, 3_000))
    assert stale_reason(project) is None
    for path in sources:
        os.utime(path, (4_000, 4_000))
        assert stale_reason(project) == f"{path.relative_to(project_dir)} changed"
        os.utime(path, (1_000, 1_000))


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_a_missing_manifest_is_prepared_and_a_changed_model_makes_it_stale(tmp_path):
    project = copy_dbt_project(tmp_path / "dbt_project")
    assert stale_reason(project) == f"{project.manifest_path} does not exist"

    retailer_preparer.prepare_if_dev(project)

    assert {"kpi_daily", "fct_sales_lines", "kpi_daily_breakdown"} <= model_names(project.manifest_path)
    assert stale_reason(project) is None
    assert [path.name for path in target_dir(project).iterdir() if path.name.startswith(".prepare-")] == []
    # dbt's saved parse beside the manifest: dagster-dbt copies it into each run's target folder
    assert (target_dir(project) / PARTIAL_PARSE_FILE).stat().st_size > 0
    model = project.project_dir / "models" / "marts" / "kpi_daily.sql"
    later = project.manifest_path.stat().st_mtime + 10
    os.utime(model, (later, later))
    assert stale_reason(project) == "models/marts/kpi_daily.sql changed"


@pytest.mark.slow  # a dagster CLI process and a dbt parse: up to minutes on a busy 2-core machine
def test_the_dagster_cli_prepares_the_manifest_of_a_fresh_clone(tmp_path):
    """`dagster asset list -m dagster_project.definitions` in a copy without dbt_project/target, as after a clone."""
    clone = tmp_path / "clone"
    shutil.copytree(PROJECT_ROOT / "dagster_project", clone / "dagster_project", ignore=BUILD_OUTPUTS)
    copy_dbt_project(clone / "dbt_project")
    repository_manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    before = repository_manifest.stat().st_mtime_ns
    env = {**os.environ, "PYTHONPATH": str(clone), "PYTHONWARNINGS": accepted_warnings()}
    started = time.time()

    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "list", "-m", "dagster_project.definitions"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "kpi_daily" in result.stdout.split()
    prepared = clone / "dbt_project" / "target" / "manifest.json"
    assert prepared.stat().st_mtime >= started
    assert "kpi_daily" in model_names(prepared)
    # One line says what happened and names make prepare; no traceback.
    assert result.stderr.strip().splitlines() == [
        f"Preparing the dbt manifest (dbt parse; {prepared} does not exist); `make prepare` does it ahead of time"
    ]
    assert repository_manifest.stat().st_mtime_ns == before
