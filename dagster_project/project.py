"""The dbt project as Dagster sees it: loaded from its manifest, prepared (`dbt parse`) when missing or stale."""

import os
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dagster_project.settings import DBT_PROJECT_DIR

# The dbt of this interpreter's environment, so nothing depends on an activated virtualenv or on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

retailer_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def target_dir(project: DbtProject) -> Path:
    """The project's target folder as an absolute path (DbtProject keeps it relative to the project)."""
    return project.project_dir / project.target_path


def prepare_manifest(project: DbtProject = retailer_dbt_project) -> None:
    """`dbt parse` with the environment's own dbt into a scratch folder, then the manifest moved into place.

    The move is one step: processes preparing at the same time (the code servers of the webserver and the daemon)
    never read a half-written manifest.
    """
    target = target_dir(project)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".prepare-") as scratch:
        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"], target_path=Path(scratch)
        ).wait()
        os.replace(Path(scratch) / "manifest.json", project.manifest_path)


def stale_reason(project: DbtProject = retailer_dbt_project) -> str | None:
    """Why the manifest must be prepared again (missing, or older than a file of the dbt project), else None."""
    if not project.manifest_path.exists():
        return f"{project.manifest_path} does not exist"
    built = project.manifest_path.stat().st_mtime
    target = target_dir(project)
    sources = [path for pattern in ("*.sql", "*.yml") for path in project.project_dir.rglob(pattern)]
    for path in sources:
        if target not in path.parents and path.stat().st_mtime > built:
            return f"{path.relative_to(project.project_dir)} changed"
    return None


def ensure_manifest(project: DbtProject = retailer_dbt_project) -> None:
    """Prepare the manifest if it is missing or stale, whichever entry point loads the code location.

    The dagster CLI, `dagster dev` (edits show up on "Reload definitions"), the webserver's and daemon's code
    servers and run workers all import the assets, which read the manifest; `make prepare` does the same ahead of
    time. A fresh manifest costs a stat of each dbt file, no parse.
    """
    if reason := stale_reason(project):
        print(
            f"Preparing the dbt manifest (dbt parse; {reason}); `make prepare` does it ahead of time", file=sys.stderr
        )
        prepare_manifest(project)
