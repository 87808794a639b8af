"""Check of "Try it" 1.11 (make check ASSIGNMENT=ch1-11): math_job scheduled at another hour."""

import datetime as dt

from dagster import build_schedule_context

from chapter_1.definitions import defs
from tooling.workshop import require


def test_evening_math_schedule_runs_math_job_at_six_pm():
    require("chapter_1.schedules", "evening_math_schedule")
    repo = defs.get_repository_def()
    assert "evening_math_schedule" in {s.name for s in repo.schedule_defs}, "it is not registered in definitions.py"
    schedule = repo.get_schedule_def("evening_math_schedule")
    assert schedule.cron_schedule == "0 18 * * *", f"its cron is {schedule.cron_schedule!r}, not '0 18 * * *'"
    assert schedule.execution_timezone == "UTC", f"its timezone is {schedule.execution_timezone}, not UTC"
    assert schedule.job_name == "math_job", f"it runs {schedule.job_name}, not math_job"
    tick = dt.datetime(2023, 8, 15, 18, 0, tzinfo=dt.UTC)
    requests = schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=tick)).run_requests
    assert len(requests or []) == 1, "a tick of evening_math_schedule requests no run"
