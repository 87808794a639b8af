"""Sensors: poll for an external event (here, new files in a folder) and launch runs for it.

The cursor is the sensor's memory between ticks: it holds the names of the files already seen, so
each file produces exactly one RunRequest, and a tick with nothing new produces none. (A list of
names is fine for a workshop inbox; a busy folder would keep the newest modification time instead.)
"""

import json
from pathlib import Path

from dagster import (
    Config,
    OpExecutionContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    job,
    op,
    sensor,
)

from chapter_1.data_dir import LocalDataDir, read_stock_rows


class IngestFileConfig(Config):
    path: str


@op
def count_file_rows(context: OpExecutionContext, config: IngestFileConfig) -> int:
    rows = len(read_stock_rows(Path(config.path)))
    context.log.info(f"{config.path}: {rows} rows")
    return rows


@job(description="Ingests one file dropped in the inbox folder (launched by new_file_sensor).")
def ingest_file_job():
    count_file_rows()


@sensor(job=ingest_file_job, minimum_interval_seconds=30)
def new_file_sensor(context: SensorEvaluationContext, data_dir: LocalDataDir) -> SensorResult | SkipReason:
    """Drop ``*.csv`` files into ``<data dir>/inbox``: each new one triggers an ``ingest_file_job`` run."""
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    new_files = sorted(p for p in data_dir.folder("inbox").glob("*.csv") if p.name not in seen)
    if not new_files:
        return SkipReason("no new file in the inbox")
    return SensorResult(
        run_requests=[
            RunRequest(
                # run_key makes a file launch at most one run, even if the cursor were lost.
                run_key=path.name,
                run_config={"ops": {"count_file_rows": {"config": {"path": str(path)}}}},
            )
            for path in new_files
        ],
        # Saved only if the tick succeeds, so a crash does not lose files.
        cursor=json.dumps(sorted(seen | {p.name for p in new_files})),
    )
