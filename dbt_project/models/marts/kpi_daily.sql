-- The retailer's daily KPIs, one row per day of the window: the contract table the BI tool, the JSON files and
-- the warehouse get. revenue, units_sold and average_sales_price are read from their own models, so the three
-- agree with them by construction; the other KPIs come from the day's lines.
{{
    config(
        unique_key='date',
        pre_hook=[
            "{{ assert_window_loaded(ref('fct_sales_lines'), 'sales_date') }}",
            "{{ assert_window_loaded(ref('revenue'), 'date') }}",
            "{{ assert_window_loaded(ref('units_sold'), 'date') }}",
            "{{ assert_window_loaded(ref('average_sales_price'), 'date') }}",
        ],
    )
}}

with lines as (
    select
        sales_date as date,
        count(*) as order_lines,
        sum(profit) as profit,
        avg(discount) as average_discount
    from {{ ref('fct_sales_lines') }}
    where {{ in_window('sales_date') }}
    group by sales_date
)

select
    lines.date,
    revenue.revenue,
    units_sold.units_sold,
    average_sales_price.average_sales_price,
    lines.order_lines,
    lines.profit,
    lines.profit / nullif(revenue.revenue, 0) as profit_margin,
    lines.average_discount
from lines
inner join {{ ref('revenue') }} as revenue using (date)
inner join {{ ref('units_sold') }} as units_sold using (date)
inner join {{ ref('average_sales_price') }} as average_sales_price using (date)
