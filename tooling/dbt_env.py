"""Print the variables the project gives every dbt it starts (settings.py: DBT_TARGET, and with DBT_TARGET=postgres
those its `postgres` output reads, derived from WAREHOUSE_URL), as shell exports:

    eval "$(python -m tooling.dbt_env)" && cd dbt_project && dbt build

Dagster and the project's tools give them to every dbt they start; this is for a bare `dbt` by hand.
"""

from __future__ import annotations

import shlex

from dagster_project.settings import load_settings


def exports() -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in load_settings().dbt_environment().items())


if __name__ == "__main__":
    print(exports(), end="")
