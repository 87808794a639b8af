"""`make dbt-docs`: dbt's documentation site (lineage, models, columns, tests) on 127.0.0.1.

`dbt docs generate` reads the column types from the DuckDB warehouse (DUCKDB_PATH) that `make run` builds. On a
fresh clone there is none yet: the site is generated from an empty throwaway warehouse instead, with every model,
description and test but without column types, and says so. The site goes to LOCAL_STATE_DIR/dbt-docs, never into
the dbt project; `dbt docs serve` then serves that folder until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from dagster_project.project import DBT_EXECUTABLE
from dagster_project.settings import DBT_PROJECT_DIR, load_settings, local_state_dir

DEFAULT_PORT = 8580


def docs_dir() -> Path:
    return local_state_dir() / "dbt-docs"


def dbt(*args: str, target: Path) -> list[str]:
    """A dbt command on the project, with its artifacts and logs in `target`."""
    return [
        DBT_EXECUTABLE,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]


def generate(target: Path) -> None:
    """manifest.json, catalog.json and index.html of the project into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    warehouse = load_settings().duckdb_path
    if not warehouse.exists():
        print(f"No warehouse at {warehouse} yet: the docs show no column types (`make run` builds it, then re-run).")
        # Same file name, so the same database name as the real warehouse.
        env["DUCKDB_PATH"] = str(target / warehouse.name)
    subprocess.run(dbt("docs", "generate", "--quiet", target=target), env=env, check=True)


def serve_command(target: Path, port: int) -> list[str]:
    return dbt("docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser", target=target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DBT_DOCS_PORT") or DEFAULT_PORT))
    args = parser.parse_args(argv)
    target = docs_dir()
    try:
        generate(target)
    except subprocess.CalledProcessError as error:
        message = f"dbt docs generate failed (exit code {error.returncode}); its log: {target / 'logs'}"
        raise SystemExit(message) from None
    print(f"dbt docs: http://127.0.0.1:{args.port}  (generated in {target}; stop with Ctrl-C)", flush=True)
    # dbt in place of this process: Ctrl-C and `kill` reach the server itself.
    command = serve_command(target, args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
