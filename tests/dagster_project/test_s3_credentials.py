"""S3 credentials: the AWS credential chain's profiles, temporary keys with their token, and one clear line when
there are none at all. The chain end to end (a backfill from a named profile) is in test_dagster_pipeline.py.

DuckDB's `aws` extension (the AWS SDK) reads the environment and the AWS files once per process, when it is first
loaded: every check of DuckDB's credential chain runs in a fresh Python process, as dbt does.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project import duckdb_s3
from dagster_project.settings import DBT_PROJECT_DIR, env_file, load_settings
from tooling import sample_data

DBT = str(Path(sys.executable).parent / "dbt")
DAY = dt.date(2024, 6, 1)

# Opens an S3-ready DuckDB connection the project's way and reports its secret and the lines of one batch.
PROBE = """
import json, sys
from dagster_project import duckdb_s3
from dagster_project.settings import load_settings

settings = load_settings()
try:
    conn = duckdb_s3.connect(settings, database=":memory:")
except duckdb_s3.MissingS3Credentials as error:
    print(json.dumps({"error": str(error)}))
    sys.exit()
secret = conn.execute("select secret_string from duckdb_secrets() where name = 'retailer_s3'").fetchone()[0]
lines = conn.execute("select count(*) from read_csv(?)", [f"{settings.source_uri}/" + sys.argv[1] + "/stock.csv"])
print(json.dumps({"secret": secret, "lines": lines.fetchone()[0]}))
"""


def duckdb_probe(day: dt.date = DAY) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, day.isoformat()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def _profile_in_the_credentials_file(folder: Path) -> None:
    (folder / "credentials").write_text("[retailer]\naws_access_key_id = chain-key\naws_secret_access_key = s\n")


def _credential_process_in_the_config_file(folder: Path) -> None:
    script = folder / "print_credentials.sh"
    script.write_text('#!/bin/sh\necho \'{"Version": 1, "AccessKeyId": "chain-key", "SecretAccessKey": "s"}\'\n')
    script.chmod(0o755)
    (folder / "config").write_text(f"[profile retailer]\ncredential_process = {script}\n")


@pytest.mark.parametrize("write_profile", [_profile_in_the_credentials_file, _credential_process_in_the_config_file])
def test_a_named_profile_gives_duckdb_and_boto3_the_same_keys(write_profile, no_static_keys, monkeypatch):
    write_profile(no_static_keys)
    monkeypatch.setenv("AWS_PROFILE", "retailer")
    settings = load_settings()
    sample_data.upload(settings, DAY, count=1, rows=7)

    assert sample_data.s3_client(settings)._request_signer._credentials.access_key == "chain-key"
    probe = duckdb_probe()
    assert probe["lines"] == 7
    # The profile's key, and still the emulator's endpoint, path-style URLs and plain HTTP.
    assert "key_id=chain-key;" in probe["secret"]
    for option in (f"endpoint={settings.s3_endpoint};", "url_style=path;", "use_ssl=false"):
        assert option in probe["secret"]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"AWS_PROFILE": "absent"}, "found none for AWS_PROFILE=absent"),
        ({"AWS_ACCESS_KEY_ID": "only-the-id"}, "AWS_SECRET_ACCESS_KEY is not set (both keys are needed)"),
    ],
)
def test_python_readers_get_one_line_naming_what_is_missing(variables, named, no_static_keys, monkeypatch):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    message = duckdb_probe()["error"]

    assert named in message and "\n" not in message
    assert message.endswith(f"set -a; source {env_file()}; set +a")


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
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
    assert lines[0].endswith(f"set -a; source {env_file()}; set +a")
    assert "extension" not in output.lower() and "Traceback" not in output


def test_temporary_keys_travel_with_their_session_token(pipeline_env, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-session-token")
    settings = load_settings()
    sample_data.upload(settings, DAY, count=1, rows=12)

    assert "SESSION_TOKEN 'the-session-token'" in duckdb_s3.s3_secret_sql(settings)
    assert sample_data.s3_client(settings)._request_signer._credentials.token == "the-session-token"
    with duckdb_s3.connect(settings, database=":memory:") as conn:
        lines = conn.execute("select count(*) from read_csv(?)", [f"{settings.source_uri}/{DAY}/stock.csv"])
        assert lines.fetchone() == (12,)
