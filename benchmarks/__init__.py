"""`make bench`: how fast is Chapter 2's pipeline, against what the same machine can do on the same data?

For each size (small: 39 x 120 rows, year: 365 x 1,000, 10m: 365 x 27,400), in one run of this script:

- generates the daily batches with the project's generator and uploads them to a local S3 (moto) that the
  bench starts for itself on a free port;
- anchor A: the daily KPIs in ONE DuckDB query straight from the S3 files (its own process), median of 3;
- anchor A': the design's storage work in raw DuckDB (the lines into a fct_sales_lines-shaped table in a DuckDB
  file, then the daily KPI table from it), median of 3;
- the project: a single-run backfill of the whole range through the real entry point
  (`dagster asset materialize --select group:retailer_kpis --partition-range first...last`), JSON delivery
  to S3 included, with the peak memory of its process tree; then the same backfill on a Postgres-backed
  Dagster instance (a PostgreSQL server the bench starts from the machine's binaries);
- anchor B: N single-day runs through the same CLI, one process each, extrapolated to the whole range;
- the daily run: the day after the range materialized on top of the loaded range;
- dbt's floor: a bare `dbt build` of the project for one more new day, in its own process;

and once: the time to load the chapter-2 code location (import + Definitions, median of 3) and the time until
a local Dagster UI answers. Every output of the pipeline is checked against anchor A (a fast wrong answer is
not a result). It prints a table with the ratios and the targets (issues #7, #14), writes everything as JSON
under benchmarks/results/ and prints that file's path last.

    python -m benchmarks --size small          # default; a few minutes
    python -m benchmarks --size year           # on a quiet machine
    python -m benchmarks --size small,year,10m

The package, by role: config (sizes, environment, commands), anchors (A and A'), measure (process trees, the
machine), verify (outputs against anchor A), runner (one size), startup (code location, UI), report (ratios,
targets, JSON, tables), cli (this command line).

Isolation: its own S3 server, bucket, DuckDB file and DAGSTER_HOME in a temporary folder, handed to every
process through the environment variables the project reads (settings.py). The developer's data, S3 and
Dagster instance are never touched.
"""
