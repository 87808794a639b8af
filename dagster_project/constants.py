"""Names the code location, the tooling and the tests share: defined here once, never read from the environment.

(What may differ per deployment, the bucket, endpoint or prefix actually used, is configuration: settings.py.)
"""

# The one asset group of Chapter 2: the dbt models and the deliveries.
GROUP = "retailer_kpis"
# DuckDB allows one writer, and readers in other processes cannot open a file a writer holds: every asset that
# touches the warehouse file is in this pool, limited to one run at a time by the instance (dagster.yaml).
DUCKDB_POOL = "duckdb_warehouse"

# Where the retailer drops one batch a day: s3://<bucket>/<prefix>/<YYYY-MM-DD>/stock.csv (the prefix's default;
# OPERATIONAL_DATA_PREFIX may name another).
OPERATIONAL_DATA_PREFIX = "operational_data"
BATCH_FILE_NAME = "stock.csv"
# Where the audit writes what it approved, one immutable Parquet file per day and content:
# s3://<S3_BUCKET>/snapshots/operational_data/<YYYY-MM-DD>/<sha256 of the batch>.parquet; dbt reads only these.
SNAPSHOTS_PREFIX = "snapshots"
# Where delivery writes each day's KPIs: s3://<S3_BUCKET>/kpis/<YYYY-MM-DD>.json
KPIS_PREFIX = "kpis"
# The first day of the daily partitions (and of the sample batches).
FIRST_PARTITION = "2023-08-02"
