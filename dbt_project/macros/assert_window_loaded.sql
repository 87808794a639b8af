{#-
  Pre-hook of the marts: refuse to build a window whose days are not in the fact table yet.
  Without it, materializing only a mart for a new day would succeed and silently publish nothing.
-#}
{% macro assert_window_loaded(relation, column) -%}
  with expected as (
      select cast(unnest([{% for day in window_days() %}date '{{ day }}'{{ ", " if not loop.last }}{% endfor %}]) as date) as day
  ),
  missing as (
      select day from expected
      where day not in (select distinct {{ column }} from {{ relation }} where {{ in_window(column) }})
  )
  select error(
      '{{ relation.identifier }} has no rows for ' || string_agg(strftime(day, '%Y-%m-%d'), ', ' order by day)
      || ': load those days first (materialize {{ relation.identifier }}, or the whole retailer_kpis group,'
      || ' for the same partitions)'
  )
  from missing
  having count(*) > 0
{%- endmacro %}
