-- Revenue, one row per day of the window: the sum of Sales over the day's lines.
{{
    config(
        unique_key='date',
        pre_hook="{{ assert_window_loaded(ref('fct_sales_lines'), 'sales_date') }}",
    )
}}

-- >>> workshop 2 (stub: tooling/workshop_stubs/2_revenue.stub)
select
    sales_date as date,
    sum(sales) as revenue
from {{ ref('fct_sales_lines') }}
where {{ in_window('sales_date') }}
group by sales_date
-- <<< workshop 2
