"""Schedules: launch a job on a cron, with run config computed from the tick's time.

Schedules start STOPPED; switch them on in the UI (Automation page). The daemon, started by
``dagster dev``, evaluates them.
"""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    schedule,
)

from chapter_1.backfills import daily_stock_files_job
from chapter_1.ops_and_jobs import math_job


@schedule(
    job=math_job,
    cron_schedule="0 6 * * *",  # every day at 06:00
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
)
def daily_math_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    # The tick's time, not "now": a late or replayed tick still computes the intended day's run.
    day = context.scheduled_execution_time
    return RunRequest(
        # Same run_key twice = one run only: the tick cannot double-launch a day.
        run_key=day.strftime("%Y-%m-%d"),
        run_config={"ops": {"add_numbers": {"config": {"a": day.day, "b": day.month}}}},
        tags={"scheduled_date": day.strftime("%Y-%m-%d")},
    )


# For partitioned jobs Dagster derives the schedule from the partitions: each daily tick runs the
# partition of the day that just ended.
daily_stock_files_schedule = build_schedule_from_partitioned_job(
    daily_stock_files_job,
    name="daily_stock_files_schedule",
    hour_of_day=1,
)
