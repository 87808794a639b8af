"""Asset observations: record what you *see* about an asset without materializing it.

A materialization says "I produced this". An observation says "I looked at it, here is what I
found" (size, row count, freshness...). It lands in the asset's event history and metadata plots,
yet does not mark the asset as updated. Typical use: an op that audits files someone else writes.
"""

import datetime as dt

from dagster import AssetKey, AssetObservation, OpExecutionContext, job, op

from chapter_1.data_dir import LocalDataDir, read_stock_rows

# The key of the partitioned asset whose files this op audits (see partitions.py).
OBSERVED_ASSET_KEY = AssetKey(["stock", "daily_stock_file"])


@op
def observe_stock_files(context: OpExecutionContext, data_dir: LocalDataDir) -> int:
    """Log one observation per stock file found, tagged with the partition (the file's day)."""
    files = sorted(data_dir.folder("stock_files").glob("*.csv"))
    for path in files:
        day = dt.date.fromisoformat(path.stem)
        context.log_event(
            AssetObservation(
                asset_key=OBSERVED_ASSET_KEY,
                partition=day.isoformat(),
                metadata={"row_count": len(read_stock_rows(path)), "size_bytes": path.stat().st_size},
            )
        )
    context.log.info(f"observed {len(files)} stock files")
    return len(files)


@job(description="Audits the stock files on disk and logs an AssetObservation for each.")
def observe_stock_files_job():
    observe_stock_files()
