{#-
  The daily batches of the window, read straight from S3 with DuckDB's read_csv.
  Only the window's files are listed (one key per day), so a run never scans the whole bucket.
  The folder comes from the DuckDB variable operational_data_uri, set by the dbt-duckdb plugin from
  S3_BUCKET / OPERATIONAL_DATA_PREFIX, unless a run passes the dbt var operational_data_uri
  (Dagster's SourceConfig, validated there) to read another bucket or prefix.
  Columns are typed and the header fixed: a file in any other shape fails loudly instead of being guessed.
-#}
{% macro daily_batches() %}
{%- set override = var('operational_data_uri', none) -%}
{%- set folder = ("'" ~ (override | replace("'", "''")) ~ "'") if override else "getvariable('operational_data_uri')" -%}
read_csv(
    [
    {%- for day in window_days() %}
        {{ folder }} || '/{{ day }}/stock.csv'{{ "," if not loop.last }}
    {%- endfor %}
    ],
    header = true,
    delim = ',',
    quote = '"',
    auto_detect = false,
    filename = true,
    columns = {
        'Ship Mode': 'varchar',
        'Segment': 'varchar',
        'Country': 'varchar',
        'City': 'varchar',
        'State': 'varchar',
        'Postal Code': 'varchar',
        'Region': 'varchar',
        'Category': 'varchar',
        'Sub-Category': 'varchar',
        'Sales': 'double',
        'Quantity': 'integer',
        'Discount': 'double',
        'Profit': 'double'
    }
)
{% endmacro %}
