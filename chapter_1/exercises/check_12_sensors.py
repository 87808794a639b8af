"""Check of "Try it" 1.12 (make check ASSIGNMENT=ch1-12): a sensor on the archive folder."""

import datetime as dt

from dagster import DagsterInstance, build_sensor_context

from chapter_1.data_dir import LocalDataDir, ensure_stock_file, rows_for_day
from chapter_1.definitions import defs
from chapter_1.sensors import ingest_file_job
from tooling.workshop import require


def test_archive_file_sensor_watches_the_archive_folder(tmp_path):
    sensor = require("chapter_1.sensors", "archive_file_sensor")
    assert "archive_file_sensor" in {s.name for s in defs.get_repository_def().sensor_defs}, (
        "archive_file_sensor is not registered in chapter_1/definitions.py"
    )
    data_dir = LocalDataDir(base_dir=str(tmp_path))
    ensure_stock_file(data_dir.folder("archive"), dt.date(2023, 8, 2))
    ensure_stock_file(data_dir.folder("inbox"), dt.date(2023, 8, 3))
    with DagsterInstance.ephemeral() as instance:
        first = sensor.evaluate_tick(build_sensor_context(instance=instance, resources={"data_dir": data_dir}))
        keys = [request.run_key for request in first.run_requests]
        assert keys == ["2023-08-02.csv"], f"with 2023-08-02.csv in archive/, the first tick requested {keys}"
        second = sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=first.cursor, resources={"data_dir": data_dir})
        )
        assert not second.run_requests, "the next tick requested the same file again: keep a cursor"
    rows = ingest_file_job.execute_in_process(run_config=first.run_requests[0].run_config)
    assert rows.output_for_node("count_file_rows") == rows_for_day(dt.date(2023, 8, 2))
