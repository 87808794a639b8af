-- Units sold, one row per day of the window: the sum of Quantity over the day's lines.
{{
    config(
        unique_key='date',
        pre_hook="{{ assert_window_loaded(ref('fct_sales_lines'), 'sales_date') }}",
    )
}}

-- >>> workshop 2 (stub: tooling/workshop_stubs/2_units_sold.stub)
select
    sales_date as date,
    cast(sum(quantity) as bigint) as units_sold
from {{ ref('fct_sales_lines') }}
where {{ in_window('sales_date') }}
group by sales_date
-- <<< workshop 2
