{#- The run's window of days: [min_date, max_date), from the dbt vars. -#}

{% macro window_bounds() %}
  {%- set min_date = modules.datetime.date.fromisoformat(var('min_date') | string) -%}
  {%- set max_date = modules.datetime.date.fromisoformat(var('max_date') | string) -%}
  {%- if max_date <= min_date -%}
    {{ exceptions.raise_compiler_error("max_date (" ~ max_date ~ ") must be after min_date (" ~ min_date ~ "): the window is [min_date, max_date)") }}
  {%- endif -%}
  {{ return((min_date, max_date)) }}
{% endmacro %}

{% macro window_days() %}
  {%- set bounds = window_bounds() -%}
  {%- set days = [] -%}
  {%- for offset in range((bounds[1] - bounds[0]).days) -%}
    {%- do days.append(bounds[0] + modules.datetime.timedelta(days=offset)) -%}
  {%- endfor -%}
  {{ return(days) }}
{% endmacro %}

{% macro in_window(column) -%}
  {%- set bounds = window_bounds() -%}
  {{ column }} >= date '{{ bounds[0] }}' and {{ column }} < date '{{ bounds[1] }}'
{%- endmacro %}

{#- Pre-hook of the incremental models: a re-run of a window replaces it, never duplicates it. -#}
{% macro delete_window(column) -%}
  {%- if is_incremental() -%}
    delete from {{ this }} where {{ in_window(column) }}
  {%- else -%}
    select 1
  {%- endif -%}
{%- endmacro %}
