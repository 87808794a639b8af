"""Laptop tooling: the local S3 server, the local stack, the `make run` driver, sample data, dbt docs."""
