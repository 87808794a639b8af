-- The daily KPIs broken down by region, category and segment, for slicing in a BI tool.
{{
    config(
        unique_key='date',
        pre_hook="{{ assert_window_loaded(ref('fct_sales_lines'), 'sales_date') }}",
    )
}}

select
    sales_date as date,
    region,
    category,
    segment,
    sum(sales) as revenue,
    cast(sum(quantity) as bigint) as units_sold,
    count(*) as order_lines,
    sum(profit) as profit
from {{ ref('fct_sales_lines') }}
where {{ in_window('sales_date') }}
group by sales_date, region, category, segment
