"""`make prepare`: prepare the dbt manifest (`dbt parse`) when it is missing or stale; nothing when it is fresh.

The one rule (dagster_project/project.py's `stale_reason`, applied through dagster-dbt's preparer API) for
`make prepare`, the container's entrypoint and the tests; the code location applies it itself when it loads.
"""

from __future__ import annotations

from dagster_project.project import retailer_dbt_project, retailer_preparer


def main() -> None:
    retailer_preparer.prepare_if_dev(retailer_dbt_project)


if __name__ == "__main__":
    main()
