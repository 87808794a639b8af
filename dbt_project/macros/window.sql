{#-
  The run's window of days: [min_date, max_date) less skip_days.
  skip_days lists the days of the window whose batch failed the audit (quarantined by Dagster): they are
  neither read, deleted nor rebuilt, so what was delivered for them before stays as it was.
-#}

{#-
  One setting of the window, first found of: the dbt var (`dbt build --vars '{min_date: ...}'` by hand); the
  environment variable RETAILER_KPIS_WINDOW, the same vars as JSON, which Dagster sets for its runs; the default.
  dbt parses the whole project again whenever --vars change, but reads the environment variable only while
  executing (`execute`), never while parsing: a run's window keeps the prepared partial parse.
-#}
{% macro window_setting(name, default) %}
  {%- set given = var(name, none) -%}
  {%- if given is none and execute -%}
    {%- set given = fromjson(env_var('RETAILER_KPIS_WINDOW', '{}')).get(name) -%}
  {%- endif -%}
  {{ return(default if given is none else given) }}
{% endmacro %}

{% macro window_bounds() %}
  {%- set min_date = modules.datetime.date.fromisoformat(window_setting('min_date', '2023-08-02') | string) -%}
  {%- set max_date = modules.datetime.date.fromisoformat(window_setting('max_date', '2023-09-10') | string) -%}
  {%- if max_date <= min_date -%}
    {{ exceptions.raise_compiler_error("max_date (" ~ max_date ~ ") must be after min_date (" ~ min_date ~ "): the window is [min_date, max_date)") }}
  {%- endif -%}
  {{ return((min_date, max_date)) }}
{% endmacro %}

{% macro skip_days() %}
  {%- set days = [] -%}
  {%- for day in window_setting('skip_days', []) -%}
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
