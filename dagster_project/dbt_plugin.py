"""dbt-duckdb plugin: points dbt at the configured warehouse file and S3, from `settings.py`.

dbt-duckdb calls `update_connection_config` before `duckdb.connect` and `configure_connection` right after it,
before any model or hook runs, so `dbt build` works offline from a fresh install with only the environment
variables of `.env.example`.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from dagster_project import duckdb_s3
from dagster_project.private_files import private_dir, private_file
from dagster_project.settings import load_settings


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.settings = load_settings()

    def update_connection_config(self, creds, config: dict[str, Any]) -> None:
        # The profile's path only names the database (its file stem); settings.py resolves the real file.
        creds.path = str(self.settings.duckdb_path)
        private_dir(self.settings.duckdb_path.parent)
        config["autoinstall_known_extensions"] = False
        # Past this, DuckDB spills to disk instead of growing: a year of batches fits in a small container.
        config["memory_limit"] = self.settings.duckdb_memory_limit

    def configure_connection(self, conn) -> None:
        private_file(self.settings.duckdb_path)  # just created by dbt-duckdb, when new
        duckdb_s3.configure_s3(conn, self.settings)
