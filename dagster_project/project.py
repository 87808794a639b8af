"""The dbt project as Dagster sees it: prepared once, then loaded from its manifest."""

from dagster_dbt import DbtProject

from dagster_project.settings import DBT_PROJECT_DIR

retailer_dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
)
# In `dagster dev` this runs `dbt parse` so edits show up at once; elsewhere (tests, Docker, `make run`) the
# manifest is prepared beforehand by `make prepare` and loading the code location never parses.
retailer_dbt_project.prepare_if_dev()
