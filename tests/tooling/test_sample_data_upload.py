"""`python -m tooling.sample_data --s3 [--skip-existing]` (the Docker stack's seed): what it reports."""

from __future__ import annotations

import datetime as dt

from dagster_project.settings import load_settings
from tooling import sample_data

START = dt.date(2023, 8, 2)


def run_cli(capsys, *args: str) -> str:
    sample_data.main(["--s3", "--start", START.isoformat(), "--days", "3", "--rows", "80", *args])
    return capsys.readouterr().out.strip()


def test_skip_existing_tells_uploaded_from_skipped(pipeline_env, capsys):
    settings = load_settings()
    uri = settings.source_uri
    assert run_cli(capsys, "--skip-existing") == f"uploaded 3 daily batches of 80 rows to {uri}/"

    # A later start of the stack: everything is there, nothing is uploaded again.
    assert (
        run_cli(capsys, "--skip-existing") == f"uploaded 0 daily batches of 80 rows to {uri}/; skipped 3 already there"
    )

    # One day lost: only that one is uploaded.
    client = sample_data.s3_client(settings)
    client.delete_object(Bucket=settings.s3_bucket, Key=sample_data.batch_key(settings, START))
    assert (
        run_cli(capsys, "--skip-existing") == f"uploaded 1 daily batches of 80 rows to {uri}/; skipped 2 already there"
    )


def test_upload_reports_the_keys_it_wrote_and_skipped(pipeline_env):
    settings = load_settings()
    keys = [sample_data.batch_key(settings, START + dt.timedelta(days=i)) for i in range(2)]
    assert sample_data.upload(settings, START, 1, rows=80) == (keys[:1], [])
    assert sample_data.upload(settings, START, 2, rows=80, skip_existing=True) == (keys[1:], keys[:1])
    # Without skip_existing every batch is written again.
    assert sample_data.upload(settings, START, 2, rows=80) == (keys, [])
