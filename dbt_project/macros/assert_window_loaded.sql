{#-
  Pre-hook of the marts: refuse to build a window whose days are not in the fact table yet.
  Without it, materializing only a mart for a new day would succeed and silently publish nothing.
  Checked in Jinja over one adapter-neutral query (DuckDB and Postgres alike); renders no SQL of its own.
-#}
{% macro assert_window_loaded(relation, column) -%}
  {%- if execute -%}
    {%- set loaded = run_query(
        "select distinct cast(" ~ column ~ " as varchar) from " ~ relation ~ " where " ~ in_window(column)
    ).columns[0].values() -%}
    {%- set missing = [] -%}
    {%- for day in window_days() | map('string') -%}
      {%- if day not in loaded -%}
        {%- do missing.append(day) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
      {{ exceptions.raise_compiler_error(
          relation.identifier ~ " has no rows for " ~ missing | join(', ')
          ~ ": load those days first (materialize " ~ relation.identifier
          ~ ", or the whole retailer_kpis group, for the same partitions)") }}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
