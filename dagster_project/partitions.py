"""The one partitioning of Chapter 2: a day per batch, from the first batch of the sample data."""

from dagster import DailyPartitionsDefinition

from dagster_project.constants import FIRST_PARTITION

daily_partitions = DailyPartitionsDefinition(start_date=FIRST_PARTITION)
