"""Audit a window of batches outside Dagster, before a bare `dbt build`: snapshots uploaded, verdicts recorded.

The same audit as the Dagster asset's (dagster_project/quarantine.py); exits 1 when a day was quarantined. With
DBT_TARGET=postgres the verdicts go to the Postgres warehouse, with the approved days landed (postgres_landing.py).

    python -m tooling.audit --start 2023-08-02 --days 39
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

import duckdb

from dagster_project.postgres_landing import record_and_land
from dagster_project.quarantine import fetch_and_audit, record
from dagster_project.resources import postgres_warehouse
from dagster_project.settings import load_settings
from tooling.sample_data import SAMPLE_DAYS, SAMPLE_START, s3_client


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=SAMPLE_START)
    parser.add_argument("--days", type=int, default=SAMPLE_DAYS)
    args = parser.parse_args(argv)
    settings = load_settings()
    days = [(args.start + dt.timedelta(days=offset)).isoformat() for offset in range(args.days)]
    client = s3_client(settings)
    audits = fetch_and_audit(client, settings.s3_bucket, settings.max_batch_bytes, settings.source_uri, days)
    if settings.on_postgres:
        record_and_land(postgres_warehouse(settings, settings.warehouse_url), client, audits)
    else:
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(settings.duckdb_path)) as conn:
            record(conn, audits)
    for audit in audits:
        print(audit.message())
    if not all(audit.ok for audit in audits):
        sys.exit(1)


if __name__ == "__main__":
    main()
