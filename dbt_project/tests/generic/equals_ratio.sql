{% test equals_ratio(model, column_name, numerator, denominator, tolerance=1e-9) %}
-- Rows where column_name differs from numerator / denominator by more than `tolerance` (relative).
select * from {{ model }}
where {{ denominator }} <> 0
  and abs({{ column_name }} - {{ numerator }} / {{ denominator }})
      > {{ tolerance }} * greatest(abs({{ numerator }} / {{ denominator }}), 1e-12)
{% endtest %}
