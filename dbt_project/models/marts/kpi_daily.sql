-- The retailer's daily KPIs, one row per day of the window.
{{
    config(
        pre_hook=[
            "{{ assert_window_loaded(ref('fct_sales_lines'), 'sales_date') }}",
            "{{ delete_window('date') }}",
        ],
    )
}}

select
    sales_date as date,
    sum(sales) as revenue,
    cast(sum(quantity) as bigint) as units_sold,
    sum(sales) / nullif(sum(quantity), 0) as average_sales_price,
    count(*) as order_lines,
    sum(profit) as profit,
    sum(profit) / nullif(sum(sales), 0) as profit_margin,
    avg(discount) as average_discount
from {{ ref('fct_sales_lines') }}
where {{ in_window('sales_date') }}
group by sales_date
