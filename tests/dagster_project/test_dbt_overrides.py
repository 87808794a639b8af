"""The private dagster-dbt hooks RetailerDbtCliResource overrides: guarded by version, and still doing their job."""

from __future__ import annotations

import importlib.util
import json

import dagster_dbt
import dagster_dbt.core.resource as dbt_resource
import pytest
from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version
from packaging import version

from dagster_project import dbt_overrides
from dagster_project.project import DBT_EXECUTABLE, retailer_dbt_project


def test_the_overrides_refuse_another_dagster_dbt_release(monkeypatch):
    monkeypatch.setattr(dagster_dbt, "__version__", "0.30.1")
    spec = importlib.util.spec_from_file_location("dbt_overrides_copy", dbt_overrides.__file__)
    with pytest.raises(ImportError) as refused:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    message = str(refused.value)
    assert "supports dagster-dbt 0.29.27 only, and dagster-dbt 0.30.1 is installed" in message
    assert "_cli_version" in message and "_initialize_dbt_core_adapter" in message
    assert "Check them against dagster-dbt 0.30.1" in message  # what to do
    assert "pin dagster-dbt==0.29.27 back in pyproject.toml and constraints.txt" in message


def fail_on_version_subprocess(monkeypatch) -> None:
    def check_output(command, *args, **kwargs):
        raise AssertionError(f"dagster-dbt ran a subprocess: {command}")

    monkeypatch.setattr(dbt_resource, "check_output", check_output)


def retailer_dbt() -> dbt_overrides.RetailerDbtCliResource:
    return dbt_overrides.RetailerDbtCliResource(project_dir=retailer_dbt_project, dbt_executable=DBT_EXECUTABLE)


def test_the_dbt_version_comes_without_a_subprocess_and_no_adapter_opens(monkeypatch):
    fail_on_version_subprocess(monkeypatch)
    dbt = retailer_dbt()

    assert dbt._cli_version == version.parse(dbt_core_version) == version.parse("1.11.16")
    assert dbt._initialize_dbt_core_adapter(["build"]) is None


@pytest.mark.slow
def test_a_real_dbt_run_needs_no_version_subprocess_nor_adapter(monkeypatch, tmp_path):
    """dbt parse through the resource: the manifest is written, with no `dbt --version` and no adapter opened."""
    fail_on_version_subprocess(monkeypatch)
    adapters = []
    monkeypatch.setattr(DbtCliResource, "_initialize_dbt_core_adapter", lambda self, args: adapters.append(args))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))

    invocation = retailer_dbt().cli(["parse", "--quiet"], target_path=tmp_path / "target").wait()

    assert invocation.is_successful()
    assert adapters == []
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert "model.retailer_kpis.kpi_daily" in manifest["nodes"]
