"""The dbt project as Dagster sees it: prepared once, then loaded from its manifest."""

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from dagster_project.settings import DBT_PROJECT_DIR

# The dbt of this interpreter's environment, so nothing depends on an activated virtualenv or on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

retailer_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_manifest(project: DbtProject = retailer_dbt_project) -> None:
    """`dbt parse` into the project's target folder, with the environment's own dbt."""
    DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
        ["parse", "--quiet"], target_path=project.target_path
    ).wait()


def manifest_is_stale(project: DbtProject = retailer_dbt_project) -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    sources = [path for pattern in ("*.sql", "*.yml") for path in project.project_dir.rglob(pattern)]
    return any(path.stat().st_mtime > built for path in sources if project.target_path not in path.parents)


# What `prepare_if_dev()` does, with an explicit dbt executable (the default preparer looks for `dbt` on PATH),
# and only when a dbt file changed: in `dagster dev` edits show up on "Reload definitions", while run workers
# (which inherit the dev flag) and every other entry point load the prepared manifest without parsing.
if retailer_dbt_project.preparer.using_dagster_dev() and manifest_is_stale():
    prepare_manifest()
