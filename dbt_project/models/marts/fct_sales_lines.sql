-- Every sales line ever loaded, one partition of days at a time.
-- Incremental: the pre-hook deletes the window's days, then the window is inserted again.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window('sales_date') }}",
    )
}}

select *
from {{ ref('stg_sales_lines') }}
where {{ in_window('sales_date') }}
