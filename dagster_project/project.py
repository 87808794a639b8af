"""The dbt project as Dagster sees it: loaded from its manifest, prepared (`dbt parse`) when missing or stale."""

import os
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from dagster_project.dbt_overrides import RetailerDbtCliResource
from dagster_project.settings import DBT_PROJECT_DIR

# The dbt of this interpreter's environment, so nothing depends on an activated virtualenv or on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

# dbt's saved parse, which lets the next dbt invocation re-parse only the files that changed.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"

retailer_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def target_dir(project: DbtProject) -> Path:
    """The project's target folder as an absolute path (DbtProject keeps it relative to the project)."""
    return project.project_dir / project.target_path


# What dbt parses: a change to any of these files makes the manifest stale. Its own outputs are left out.
DBT_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}
DBT_OUTPUT_DIRS = ("target", "logs", "dbt_packages")


def stale_reason(project: DbtProject = retailer_dbt_project) -> str | None:
    """THE rule: why the manifest must be prepared again (missing, or older than a file dbt parses), else None."""
    if not project.manifest_path.exists():
        return f"{project.manifest_path} does not exist"
    built = project.manifest_path.stat().st_mtime
    outputs = {target_dir(project), *(project.project_dir / name for name in DBT_OUTPUT_DIRS)}
    for folder, subfolders, files in os.walk(project.project_dir):
        subfolders[:] = sorted(name for name in subfolders if Path(folder, name) not in outputs)
        for name in sorted(files):
            path = Path(folder, name)
            if path.suffix in DBT_SOURCE_SUFFIXES and not name.startswith(".") and path.stat().st_mtime > built:
                return f"{path.relative_to(project.project_dir)} changed"
    return None


class RetailerPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer with two changes: it prepares whenever the manifest is stale (not only under
    `dagster dev`), and with this environment's dbt, the manifest moved into place in one step.

    `prepare_if_dev` runs in every process that loads the code location (the dagster CLI, `dagster dev`, the
    webserver's and daemon's code servers, run workers): a fresh manifest costs a stat of each dbt file, no parse.
    `make prepare`, the container's entrypoint, the bench and the tests ask the same question through it
    (`python -m tooling.dbt_manifest`).
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if reason := stale_reason(project):
            print(
                f"Preparing the dbt manifest (dbt parse; {reason}); `make prepare` does it ahead of time",
                file=sys.stderr,
            )
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        """`dbt parse` into a scratch folder, then the manifest moved into place: processes preparing at the same
        time (the code servers of the webserver and the daemon) never read a half-written manifest. dbt's
        partial_parse.msgpack goes beside it: dagster-dbt copies it into each invocation's target folder, so a
        run's dbt re-parses only the files changed since (none: the window is not a var, dbt_args.WINDOW_ENV)."""
        target = target_dir(project)
        target.mkdir(parents=True, exist_ok=True)
        # The runs' resource: the same environment (DBT_TARGET), so the saved parse is valid for them.
        dbt = RetailerDbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
        if any((project.project_dir / name).exists() for name in ("packages.yml", "dependencies.yml")):
            dbt.cli(["deps", "--quiet"], target_path=project.target_path).wait()
        with tempfile.TemporaryDirectory(dir=target, prefix=".prepare-") as scratch:
            dbt.cli(["parse", "--quiet"], target_path=Path(scratch)).wait()
            os.replace(Path(scratch) / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
            os.replace(Path(scratch) / "manifest.json", project.manifest_path)


retailer_preparer = RetailerPreparer()
