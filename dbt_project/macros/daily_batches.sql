{#-
  The window's sales lines, read ONLY from the snapshots the audit approved, never from the retailer's files.
  Dagster's audit (or `python -m tooling.audit`) streams each day's file once, checks it, writes exactly
  the rows it approved as an immutable Parquet file (s3://$S3_BUCKET/snapshots/operational_data/YYYY-MM-DD/<sha256>.parquet)
  and records its key in main.batch_audit. So what dbt loads is, by construction, what the audit approved, even
  if the retailer overwrites a file in between. Only the window's days are listed: a run never scans the bucket.
  A day of the window without an approved snapshot stops the build with the day and the fix.
  DuckDB reads the snapshots from S3; a target that cannot (Postgres: default__) reads the raw table
  main.daily_batches, into which operational_data landed each approved snapshot's rows, tagged with its URI.
-#}
{% macro daily_batches() %}
  {{- return(adapter.dispatch('daily_batches')()) -}}
{% endmacro %}

{% macro default__daily_batches() %}
{%- set snapshots = audited_snapshots(window_days()) if execute else [] -%}
(
    select * from {{ source('operational_data', 'daily_batches') }}
    where filename in (
    {%- for uri in snapshots %}
        '{{ uri | replace("'", "''") }}'{{ "," if not loop.last }}
    {%- endfor %}
    {%- if not snapshots %}null{% endif %}
    )
) as daily_batches
{% endmacro %}

{% macro duckdb__daily_batches() %}
{%- set snapshots = audited_snapshots(window_days()) if execute else [] -%}
read_parquet(
    [
    {%- for uri in snapshots %}
        '{{ uri | replace("'", "''") }}'{{ "," if not loop.last }}
    {%- endfor %}
    ],
    filename = true
)
{% endmacro %}

{% macro audited_snapshots(days) %}
  {%- set found = {} -%}
  {%- set has_table = run_query(
      "select count(*) from information_schema.columns where table_schema = 'main'"
      ~ " and table_name = 'batch_audit' and column_name = 'snapshot_uri'").columns[0].values()[0] -%}
  {%- if has_table and days -%}
    {%- set literals = [] -%}
    {%- for day in days -%}
      {%- do literals.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    {%- set rows = run_query(
        "select cast(date as varchar), status, snapshot_uri from main.batch_audit where date in ("
        ~ literals | join(', ') ~ ")") -%}
    {%- for row in rows.rows -%}
      {%- do found.update({row[0]: row}) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set unaudited, refused, snapshots = [], [], [] -%}
  {%- for day in days | map('string') -%}
    {%- if day not in found -%}
      {%- do unaudited.append(day) -%}
    {%- elif found[day][1] != 'ok' or not found[day][2] -%}
      {%- do refused.append(day) -%}
    {%- else -%}
      {%- do snapshots.append(found[day][2]) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if (unaudited or refused) and flags.WHICH in ('build', 'run') -%}
    {%- set reasons = [] -%}
    {%- if unaudited -%}
      {%- do reasons.append("no audited snapshot for " ~ unaudited | join(', ')
          ~ " (dbt reads only what the audit approved: materialize through Dagster, or run"
          ~ " `python -m tooling.audit --start " ~ unaudited[0] ~ " --days N` first)") -%}
    {%- endif -%}
    {%- if refused -%}
      {%- do reasons.append(refused | join(', ') ~ " failed the audit (see main.batch_audit.problems):"
          ~ " fix the file and audit again, or leave the day out with the var skip_days") -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(reasons | join('; ')) }}
  {%- endif -%}
  {{ return(snapshots) }}
{% endmacro %}
