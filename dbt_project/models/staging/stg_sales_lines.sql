-- Sales lines of the window's daily batches (their audited, typed snapshots): renamed to snake_case, nothing else.
-- Lineage: {{ source('operational_data', 'daily_batches') }} (read through the daily_batches() macro).

select
    -- The day is the snapshot's folder: s3://<bucket>/snapshots/operational_data/<YYYY-MM-DD>/<sha256>.parquet
    cast({{ dbt.split_part('filename', "'/'", 6) }} as date) as sales_date,
    "Ship Mode" as ship_mode,
    "Segment" as segment,
    "Country" as country,
    "City" as city,
    "State" as state,
    "Postal Code" as postal_code,
    "Region" as region,
    "Category" as category,
    "Sub-Category" as sub_category,
    "Sales" as sales,
    "Quantity" as quantity,
    "Discount" as discount,
    "Profit" as profit,
    filename as source_file
from {{ daily_batches() }}
