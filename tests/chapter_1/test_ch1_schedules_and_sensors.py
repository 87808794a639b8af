import datetime as dt
import json
import re

from dagster import (
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    build_schedule_context,
    build_sensor_context,
)

from chapter_1.data_dir import LocalDataDir, ensure_stock_file, rows_for_day
from chapter_1.data_dir import main as data_dir_main
from chapter_1.definitions import defs
from chapter_1.schedules import daily_math_schedule, daily_stock_files_schedule
from chapter_1.sensors import ingest_file_job, new_file_sensor
from tests.support.guides import chapter_1_guide


def test_schedule_builds_run_request_for_the_tick():
    tick = dt.datetime(2023, 8, 15, 6, 0, tzinfo=dt.UTC)
    data = daily_math_schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=tick))
    [request] = data.run_requests
    assert request.run_key == "2023-08-15"
    assert request.run_config == {"ops": {"add_numbers": {"config": {"a": 15, "b": 8}}}}
    assert request.tags["scheduled_date"] == "2023-08-15"
    assert daily_math_schedule.cron_schedule == "0 6 * * *"
    assert daily_math_schedule.job_name == "math_job"

    # The requested config really runs: (15 + 8) * 2.
    job = defs.resolve_job_def("math_job")
    assert job.execute_in_process(run_config=request.run_config).output_value() == 46


def test_partitioned_schedule_targets_previous_day():
    tick = dt.datetime(2023, 8, 10, 1, 0, tzinfo=dt.UTC)
    # The job's partitions are inferred from its asset, so the schedule is resolved by the Definitions.
    repo = defs.get_repository_def()
    schedule_def = repo.get_schedule_def(daily_stock_files_schedule.name)
    context = build_schedule_context(scheduled_execution_time=tick, repository_def=repo)
    [request] = schedule_def.evaluate_tick(context).run_requests
    assert request.partition_key == "2023-08-09"
    assert schedule_def.cron_schedule == "0 1 * * *"
    assert schedule_def.job_name == "daily_stock_files_job"


def test_sensor_one_request_per_new_file_then_none(tmp_path):
    data_dir = LocalDataDir(base_dir=str(tmp_path))
    inbox = data_dir.folder("inbox")
    for day in (dt.date(2023, 8, 2), dt.date(2023, 8, 3)):
        ensure_stock_file(inbox, day)

    with DagsterInstance.ephemeral() as instance:
        first = new_file_sensor.evaluate_tick(build_sensor_context(instance=instance, resources={"data_dir": data_dir}))
        assert [r.run_key for r in first.run_requests] == ["2023-08-02.csv", "2023-08-03.csv"]
        assert json.loads(first.cursor) == ["2023-08-02.csv", "2023-08-03.csv"]

        # Next tick, same files, cursor carried over: nothing to launch.
        second = new_file_sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=first.cursor, resources={"data_dir": data_dir})
        )
        assert not second.run_requests
        assert "no new file" in second.skip_message

        # A third file arrives: exactly one request, for that file.
        ensure_stock_file(inbox, dt.date(2023, 8, 4))
        third = new_file_sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=first.cursor, resources={"data_dir": data_dir})
        )
        assert [r.run_key for r in third.run_requests] == ["2023-08-04.csv"]

    # The request's config runs the target job on that file.
    request = third.run_requests[0]
    result = ingest_file_job.execute_in_process(run_config=request.run_config)
    assert result.output_for_node("count_file_rows") == rows_for_day(dt.date(2023, 8, 4))


def test_automation_starts_stopped():
    """Nothing of the chapter ticks until switched on in the UI; the guide says to switch the sensor off again."""
    repo = defs.get_repository_def()
    assert {s.default_status for s in repo.schedule_defs} == {DefaultScheduleStatus.STOPPED}
    assert {s.default_status for s in repo.sensor_defs} == {DefaultSensorStatus.STOPPED}
    readme = chapter_1_guide()
    sensors_section = readme.split("## 12. Sensors")[1].split("\n## ")[0]
    assert "**toggle the sensor off**" in sensors_section


def test_guide_command_drops_a_file_the_sensor_picks_up(tmp_path, monkeypatch):
    readme = chapter_1_guide()
    [command] = [line for line in re.findall(r"```bash\n(.*?)\n```", readme) if "data_dir inbox" in line]
    program, *args = command.split()[2:]
    assert program == "chapter_1.data_dir"  # `python -m chapter_1.data_dir` itself runs in test_ch1_assets.py
    monkeypatch.setenv("CHAPTER_1_DATA_DIR", str(tmp_path))
    data_dir_main(args)
    data_dir = LocalDataDir(base_dir=str(tmp_path))
    with DagsterInstance.ephemeral() as instance:
        tick = new_file_sensor.evaluate_tick(build_sensor_context(instance=instance, resources={"data_dir": data_dir}))
    [request] = tick.run_requests
    rows = ingest_file_job.execute_in_process(run_config=request.run_config).output_for_node("count_file_rows")
    assert rows == 82
