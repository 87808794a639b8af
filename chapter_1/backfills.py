"""Backfills: materialize many partitions of an asset at once (history, or a fix re-run).

Two ways to launch one over ``stock/daily_stock_file``:

* UI: open the asset (or the job below), click "Materialize...", pick a date range, launch. The
  backfill then shows under Runs -> Backfills. Because the asset has
  ``BackfillPolicy.single_run()``, the whole range is processed by one run.
* CLI, without the UI or the daemon (DAGSTER_HOME: the instance of the running UI, to see the run there)::

      DAGSTER_HOME="$PWD/dagster_home" dagster asset materialize -m chapter_1 \\
          --select stock/daily_stock_file --partition-range 2023-08-02...2023-08-08

A backfill made of one run per partition (no single-run policy) needs the daemon, which
``dagster dev`` starts for you.
"""

from dagster import AssetSelection, define_asset_job

from chapter_1.partitions import daily_stock_file

# A job that targets only the partitioned asset. It inherits the asset's daily partitions, so the UI's
# job page gets a partition picker and a "Partitions" tab, and a schedule can run it day by day.
daily_stock_files_job = define_asset_job(
    name="daily_stock_files_job",
    selection=AssetSelection.assets(daily_stock_file),
    description="Reads one day's stock file (or a range, as a backfill) and records its row count.",
)
