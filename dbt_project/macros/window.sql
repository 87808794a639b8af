{#-
  The run's window of days: [min_date, max_date) from the dbt vars, less skip_days.
  skip_days lists the days of the window whose batch failed the audit (quarantined by Dagster): they are
  neither read, deleted nor rebuilt, so what was delivered for them before stays as it was.
-#}

{% macro window_bounds() %}
  {%- set min_date = modules.datetime.date.fromisoformat(var('min_date') | string) -%}
  {%- set max_date = modules.datetime.date.fromisoformat(var('max_date') | string) -%}
  {%- if max_date <= min_date -%}
    {{ exceptions.raise_compiler_error("max_date (" ~ max_date ~ ") must be after min_date (" ~ min_date ~ "): the window is [min_date, max_date)") }}
  {%- endif -%}
  {{ return((min_date, max_date)) }}
{% endmacro %}

{% macro skip_days() %}
  {%- set days = [] -%}
  {%- for day in var('skip_days', []) -%}
    {%- do days.append(modules.datetime.date.fromisoformat(day | string)) -%}
  {%- endfor -%}
  {{ return(days) }}
{% endmacro %}

{% macro window_days() %}
  {%- set bounds = window_bounds() -%}
  {%- set skipped = skip_days() -%}
  {%- set days = [] -%}
  {%- for offset in range((bounds[1] - bounds[0]).days) -%}
    {%- set day = bounds[0] + modules.datetime.timedelta(days=offset) -%}
    {%- if day not in skipped -%}
      {%- do days.append(day) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if not days -%}
    {{ exceptions.raise_compiler_error("every day of the window is in skip_days: nothing to build") }}
  {%- endif -%}
  {{ return(days) }}
{% endmacro %}

{% macro in_window(column) -%}
  {%- set bounds = window_bounds() -%}
  {%- set skipped = skip_days() -%}
  {{ column }} >= date '{{ bounds[0] }}' and {{ column }} < date '{{ bounds[1] }}'
  {%- if skipped %} and {{ column }} not in ({% for day in skipped %}date '{{ day }}'{{ ", " if not loop.last }}{% endfor %}){% endif %}
{%- endmacro %}
