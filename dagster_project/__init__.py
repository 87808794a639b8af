"""Chapter 2: The Retailer's KPIs (Dagster + dbt over DuckDB, batches from S3)."""
