-- Every sales line ever loaded, one partition of days at a time.
-- delete+insert on sales_date (dbt_project.yml): the window's days are deleted, then inserted again.
-- unique_key is one column, so dbt deletes with `sales_date in (the new days)`, a cheap semi-join even at
-- millions of lines (a list of keys would join every old line with every new line of its day).
{{ config(unique_key='sales_date') }}

select *
from {{ ref('stg_sales_lines') }}
where {{ in_window('sales_date') }}
