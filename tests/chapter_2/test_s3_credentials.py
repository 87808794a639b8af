"""S3 credentials: temporary keys with their token, and one clear line when there are none at all.

The AWS credential chain end to end (a named profile of a credentials file, a backfill) is in
test_dagster_pipeline.py.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project import duckdb_s3, sample_data
from dagster_project.settings import DBT_PROJECT_DIR, env_file, load_settings

DBT = str(Path(sys.executable).parent / "dbt")


def test_dbt_without_the_projects_variables_says_which_are_missing_and_how_to_load_them(tmp_path):
    """`cd dbt_project && dbt build` in a bare shell: one line naming the variables, no extension error."""
    bare_env = {
        "PATH": str(Path(DBT).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),  # no ~/.aws of whoever runs the tests
        "AWS_EC2_METADATA_DISABLED": "true",  # nor an instance role of the machine
        "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),  # only so the test writes nothing into the repository
    }
    result = subprocess.run(
        [DBT, "build", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT_DIR,
        env=bare_env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0
    lines = [line for line in output.splitlines() if "No S3 credentials" in line]
    assert len(lines) == 1, output[-3000:]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "S3_ENDPOINT_URL"):
        assert name in lines[0]
    assert f"set -a; source {env_file()}; set +a" in lines[0]
    assert "extension" not in output.lower() and "Traceback" not in output


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"AWS_PROFILE": "absent"}, "found none for AWS_PROFILE=absent"),
        ({"AWS_ACCESS_KEY_ID": "only-the-id"}, "AWS_SECRET_ACCESS_KEY is not set (both keys are needed)"),
    ],
)
def test_python_readers_get_the_same_message(variables, named, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no_credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no_config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(duckdb_s3.MissingS3Credentials, match=re.escape(named)):
        duckdb_s3.connect(load_settings(), database=":memory:")


def test_temporary_keys_travel_with_their_session_token(pipeline_env, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-session-token")
    settings = load_settings()
    sample_data.upload(settings, dt.date(2024, 6, 1), count=1, rows=12)

    assert "SESSION_TOKEN 'the-session-token'" in duckdb_s3.s3_secret_sql(settings)
    assert sample_data.s3_client(settings)._request_signer._credentials.token == "the-session-token"
    with duckdb_s3.connect(settings, database=":memory:") as conn:
        lines = conn.execute("select count(*) from read_csv(?)", [f"{settings.source_uri}/2024-06-01/stock.csv"])
        assert lines.fetchone() == (12,)
