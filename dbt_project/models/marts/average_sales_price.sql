-- Average sales price, one row per day of the window: revenue / units_sold, from the two KPI models.
{{
    config(
        unique_key='date',
        pre_hook=[
            "{{ assert_window_loaded(ref('revenue'), 'date') }}",
            "{{ assert_window_loaded(ref('units_sold'), 'date') }}",
        ],
    )
}}

-- >>> workshop 2 (stub: tooling/workshop_stubs/2_average_sales_price.stub)
select
    revenue.date,
    revenue.revenue / nullif(units_sold.units_sold, 0) as average_sales_price
from {{ ref('revenue') }} as revenue
inner join {{ ref('units_sold') }} as units_sold using (date)
where {{ in_window('revenue.date') }}
-- <<< workshop 2
