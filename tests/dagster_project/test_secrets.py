"""No secret in anything a run writes, whatever the form of WAREHOUSE_URL: a real run, then a grep of every byte.

The run: real S3 (moto), real dbt and DuckDB, a real PostgreSQL (trust authentication, so any password is
accepted and the run really delivers). Its Dagster instance, its temporary files, dbt's artifacts and logs of
each invocation, the DuckDB file and what the run printed or logged are searched for each distinctive secret.
"""

import contextlib
import datetime as dt
import logging
import tempfile
import types
from pathlib import Path

import psycopg2
import pytest
from dagster import DagsterInstance, materialize

from dagster_project.assets import dbt as dbt_assets
from dagster_project.assets.dbt import retailer_dbt_models
from dagster_project.assets.delivery import kpis_json, kpis_warehouse
from dagster_project.assets.operational_data import operational_data
from dagster_project.resources import build_resources
from dagster_project.settings import DBT_PROJECT_DIR, load_settings
from tooling import sample_data
from tooling.processes import free_port

ASSETS = [operational_data, retailer_dbt_models, kpis_json, kpis_warehouse]
DAY = dt.date(2023, 8, 2)
S3_SECRET = "s3KeyQx8SecretZ"  # the S3 secret key too: moto accepts any pair

# Every accepted form of WAREHOUSE_URL, {secret}, {port} and {db} filled in per test. A password libpq accepts
# in each, delivered for real; `refused` names a database that does not exist, so its error path is searched too.
FORMS = {
    "userinfo": "postgresql://postgres:{secret}@127.0.0.1:{port}/{db}",
    "query_parameter": "postgresql://postgres@127.0.0.1:{port}/{db}?password={secret}&sslmode=disable",
    "key_value": "host=127.0.0.1 port={port} dbname={db} user=postgres password='{secret}'",
    "multiple_hosts": "postgresql://postgres:{secret}@127.0.0.1:{port},127.0.0.1:{closed}/{db}",
    "refused": "postgresql://postgres@127.0.0.1:{port}/no_such_db_{db}?password={secret}",
}


def keep_dbt_artifacts(monkeypatch, folder: Path) -> None:
    """dbt's per-invocation target folder (artifacts and dbt.log) is kept in `folder` instead of deleted."""

    @contextlib.contextmanager
    def kept(prefix: str = "tmp", **_):
        yield tempfile.mkdtemp(prefix=prefix, dir=folder)

    monkeypatch.setattr(dbt_assets, "tempfile", types.SimpleNamespace(TemporaryDirectory=kept))


def files_under(*roots: Path) -> list[Path]:
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


@pytest.mark.postgres
@pytest.mark.parametrize("form", sorted(FORMS))
def test_no_secret_in_anything_a_run_writes(form, pipeline_env, postgres_server, tmp_path, monkeypatch, capfd, caplog):
    secret = f"pwQz{form.replace('_', '')}9Secret"
    db = f"secrets_{form}"
    postgres_server.create_database(db)
    url = FORMS[form].format(secret=secret, port=postgres_server.port, closed=free_port(), db=db)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    instance_dir, run_tmp, dbt_runs = tmp_path / "instance", tmp_path / "tmp", tmp_path / "dbt_runs"
    for folder in (instance_dir, run_tmp, dbt_runs):
        folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(run_tmp))  # every temporary file of the run, kept to be searched
    monkeypatch.setenv("TMPDIR", str(run_tmp))
    keep_dbt_artifacts(monkeypatch, dbt_runs)
    sample_data.upload(load_settings(), DAY, count=1, rows=40)
    caplog.set_level(logging.DEBUG)

    with DagsterInstance.local_temp(str(instance_dir)) as instance:
        result = materialize(
            ASSETS,
            resources=build_resources(),
            instance=instance,
            partition_key=DAY.isoformat(),
            raise_on_error=False,
        )
        events = instance.all_logs(result.run_id)

    # The run did what it should: delivered, or (refused) failed at the warehouse with a clear message.
    warehouse_events = [e for e in events if e.dagster_event and e.dagster_event.step_key == "kpis_warehouse"]
    if form == "refused":
        assert not result.success
        failure = next(e for e in warehouse_events if e.dagster_event.event_type_value == "STEP_FAILURE")
        assert "Postgres refused postgresql://postgres@127.0.0.1" in str(failure.dagster_event.event_specific_data)
    else:
        assert result.success
        with psycopg2.connect(postgres_server.url(db)) as conn, conn.cursor() as cursor:
            cursor.execute("select date::text from kpi_daily")
            assert cursor.fetchall() == [(DAY.isoformat(),)]
        metadata = result.asset_materializations_for_node("kpis_warehouse")[0].metadata
        assert metadata["warehouse"].value.startswith("postgresql://postgres@127.0.0.1:")
        # Delivered once: no retry of a step that had committed
        assert not [e for e in warehouse_events if e.dagster_event.event_type_value == "STEP_UP_FOR_RETRY"]
    assert files_under(dbt_runs), "dbt's artifacts were not kept: the search would prove nothing"

    written = files_under(instance_dir, run_tmp, dbt_runs, DBT_PROJECT_DIR / "target", DBT_PROJECT_DIR / "logs")
    written += [Path(pipeline_env["DUCKDB_PATH"])]
    printed = capfd.readouterr()
    texts = {"stdout": printed.out, "stderr": printed.err, "logging": caplog.text}
    texts["the run's events"] = "\n".join(str(event) for event in events)
    for needle in (secret, S3_SECRET):
        found = [str(path) for path in written if needle.encode() in path.read_bytes()]
        found += [name for name, text in texts.items() if needle in text]
        assert not found, f"{needle} found in {found}"
