"""Where the delivery assets' values are stored (workshop assignments 5 and 6): the assets return values, these
IO managers persist them per day partition and load them back for downstream assets."""

from dagster_project.io_managers.daily_values import ALLOW_MISSING_PARTITIONS, DailyValues
from dagster_project.io_managers.postgres_time_series import PostgresTimeSeriesIOManager
from dagster_project.io_managers.s3_json import S3JsonIOManager

__all__ = ["ALLOW_MISSING_PARTITIONS", "DailyValues", "PostgresTimeSeriesIOManager", "S3JsonIOManager"]
