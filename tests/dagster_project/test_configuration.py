"""The sensor and the assets get their configuration through the resources that settings.py fills, once."""

from __future__ import annotations

import datetime as dt

from dagster import EnvVar, build_sensor_context

from dagster_project.automation import new_batch_sensor
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tooling import sample_data


def test_the_sensor_lists_the_bucket_of_its_resource_not_of_the_environment(pipeline_env, monkeypatch):
    sample_data.upload(load_settings(), dt.date(2023, 8, 2), count=1, rows=80)
    s3 = build_resources()["s3"]
    monkeypatch.setenv("S3_BUCKET", "a-bucket-nobody-configured")  # changed after the definitions were built

    result = new_batch_sensor(build_sensor_context(cursor=None, resources={"s3": s3}))

    assert [request.partition_key for request in result.run_requests] == ["2023-08-02"]
    assert s3.bucket == pipeline_env["S3_BUCKET"]
    assert s3.source_uri == f"s3://{pipeline_env['S3_BUCKET']}/operational_data"


def test_secrets_are_env_vars_only_when_settings_has_them(pipeline_env, monkeypatch):
    s3 = build_resources()["s3"]
    assert s3.aws_access_key_id == EnvVar("AWS_ACCESS_KEY_ID")  # masked in the UI, resolved at run time
    assert s3.aws_session_token is None
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "   ")  # blank is unset, as settings.py reads it
    assert build_resources()["s3"].aws_access_key_id is None
