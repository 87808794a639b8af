"""Helpers shared by the tests: processes and servers, dbt, reference KPIs, bad inputs, the Docker stack."""
