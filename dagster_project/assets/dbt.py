"""The dbt models as daily-partitioned assets; their dbt tests become asset checks."""

import datetime as dt
import json
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    BackfillPolicy,
    Config,
    Failure,
    MetadataValue,
)
from dagster_aws.s3 import S3Resource
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field, field_validator

from dagster_project import dbt_args, kpis, quarantine
from dagster_project.constants import DUCKDB_POOL, GROUP
from dagster_project.partitions import daily_partitions
from dagster_project.project import retailer_dbt_project, retailer_preparer
from dagster_project.resources import DUCKDB_TIMEOUT, TRANSIENT_RETRIES, DuckDBWarehouse, s3_timeouts_fail

# The one model that reads the batches from S3: whenever it is built, the window's batches are audited first.
LOADING_MODEL = "fct_sales_lines"


class RetailerTranslator(DagsterDbtTranslator):
    """@dbt_assets takes no group: every model of the project joins the chapter's one group."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP


class SourceConfig(Config):
    """Assignment 3, a configurable integration: read the batches of this run from another S3 folder."""

    source_uri: str | None = Field(
        default=None,
        description="s3://bucket/prefix holding YYYY-MM-DD/stock.csv; empty: S3_BUCKET/OPERATIONAL_DATA_PREFIX",
    )

    @field_validator("source_uri")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return dbt_args.validate_source_uri(value) if value else None


# Below, the assets are built from the manifest: whatever loads them (CLI, dagster dev, webserver) gets a fresh one.
retailer_preparer.prepare_if_dev(retailer_dbt_project)


@cache
def model_parents() -> dict[str, set[str]]:
    return dbt_args.model_parents(json.loads(retailer_dbt_project.manifest_path.read_text()))


@dbt_assets(
    manifest=retailer_dbt_project.manifest_path,
    project=retailer_dbt_project,
    dagster_dbt_translator=RetailerTranslator(),
    partitions_def=daily_partitions,
    # A backfill of any range is one run and one `dbt build` over the whole window.
    backfill_policy=BackfillPolicy.single_run(),
    name="retailer_dbt_models",
    pool=DUCKDB_POOL,
    retry_policy=TRANSIENT_RETRIES,
)
def retailer_dbt_models(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBWarehouse,
    s3: S3Resource,
    config: SourceConfig,
):
    start, end = _window(context)
    selected = {key.path[-1] for key in context.selected_asset_keys}
    # A subset (say kpi_daily alone, from its asset page) first loads the window into the models it reads,
    # so it never publishes stale data.
    upstream = dbt_args.missing_upstream(selected, model_parents())

    skip_days: list[str] = []
    if LOADING_MODEL in selected or LOADING_MODEL in upstream:
        with s3_timeouts_fail("auditing the window's batches", s3):
            skip_days = _audit(context, duckdb, s3, config.source_uri)
    build_args = dbt_args.build_args(start, end, skip_days)

    # dbt writes its artifacts (manifest, run results, logs) into a folder per invocation: a temporary one keeps
    # dbt_project/target/ from growing a folder per run.
    with tempfile.TemporaryDirectory(prefix="dbt-run-") as target:
        if upstream:
            context.log.info(f"Loading {', '.join(upstream)} for this window first: the selected models read them.")
            upstream_args = dbt_args.build_args(start, end, skip_days, select=upstream)
            dbt.cli(
                upstream_args, manifest=retailer_dbt_project.manifest_path, target_path=Path(target, "upstream")
            ).wait()
            _record_loaded_upstream(context, upstream, skip_days)

        invocation = dbt.cli(build_args, context=context, raise_on_error=False, target_path=Path(target, "build"))
        # Buffered: the per-day metadata is read from DuckDB once dbt has released its lock on the file,
        # and must be attached before the events are yielded.
        events = list(invocation.stream())
        if invocation.is_successful():
            _attach_metadata(context, duckdb, selected, start, end)
        yield from events
        error = invocation.get_error()
    if error is not None:
        if DUCKDB_TIMEOUT in str(error):  # DuckDB's httpfs timed out on every attempt: retrying cannot help
            raise Failure(
                description="dbt could not read the batches from S3: S3 did not answer "
                f"({s3.timeouts()}). Nothing was delivered for this window: check that S3 is up "
                "(S3_ENDPOINT_URL), then re-run the failed partitions.\n\n" + str(error),
                allow_retries=False,
            ) from error
        if "Could not establish connection" in str(error) or "HTTP" in str(error):
            raise Failure(
                description="dbt could not read the batches from S3 (is the endpoint up? S3_ENDPOINT_URL). "
                "Nothing was delivered for this window: re-run the failed partitions once S3 answers again.\n\n"
                + str(error)
            ) from error
        raise error


def _record_loaded_upstream(context: AssetExecutionContext, upstream: list[str], skip_days: list[str]) -> None:
    """Materializations for the upstream models a subset run loaded, so the UI does not show them missing."""
    for model in upstream:
        for partition in context.partition_keys:
            if partition not in skip_days:
                context.log_event(
                    AssetMaterialization(
                        asset_key=AssetKey(model),
                        partition=partition,
                        description="Loaded first, as a dependency of the selected models.",
                    )
                )


def _window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """[start, end) of the run's partitions; an empty or reversed range stops here, before S3, DuckDB or dbt."""
    tags = context.run.tags
    first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if first and last and last < first:
        raise Failure(
            description=f"The partition range {first}...{last} is reversed: its end is before its start. "
            f"Launch it again as {last}...{first}.",
            allow_retries=False,
        )
    keys = context.partition_keys
    if not keys:
        raise Failure(
            description=f"The partition range {first}...{last} holds no day: pick days of the daily partitions "
            "(from the first partition to yesterday).",
            allow_retries=False,
        )
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def _audit(context: AssetExecutionContext, duckdb: DuckDBWarehouse, s3: S3Resource, source: str | None) -> list[str]:
    """Audit the window's batches (write-audit-publish); returns the quarantined days, logged with their fix."""
    try:
        source_uri = dbt_args.validate_source_uri(source or s3.source_uri)
    except ValueError as error:  # S3_BUCKET / OPERATIONAL_DATA_PREFIX from the environment
        raise Failure(
            description=f"{error} (check S3_BUCKET and OPERATIONAL_DATA_PREFIX)", allow_retries=False
        ) from error
    days = list(context.partition_keys)
    audits = quarantine.fetch_and_audit(s3.get_client(), s3.bucket, s3.max_batch_bytes, source_uri, days)
    with duckdb.writer() as conn:
        quarantine.record(conn, audits)
    bad = [audit for audit in audits if not audit.ok]
    for audit in bad:
        context.log.error(audit.message())
    if len(bad) == len(audits):
        raise Failure(
            description="Every batch of the window failed its audit; nothing was loaded or delivered.\n"
            + "\n".join(audit.message() for audit in bad),
            metadata={"quarantined_days": [audit.day for audit in bad]},
            allow_retries=False,  # a data problem: retrying cannot fix it
        )
    approved = [audit for audit in audits if audit.ok]
    if approved:
        context.log.info(
            f"{len(approved)} day(s) approved; dbt reads only their snapshots, e.g. {approved[0].snapshot_uri}"
        )
    for audit in audits:
        if audit.ok and audit.duplicate_lines:
            context.log.info(f"{audit.day}: {audit.duplicate_lines} duplicated line(s) kept (see batch_audit.py)")
    return [audit.day for audit in bad]


def _attach_metadata(context, duckdb: DuckDBWarehouse, models: set[str], start: dt.date, end: dt.date) -> None:
    """Per-day numeric metadata, rounded for people, so the UI plots each KPI across partitions; quarantined days
    say so instead."""
    with duckdb.read_only() as conn:
        held_back = quarantine.quarantined(conn, start, end)
        for day, message in held_back.items():
            for model in models:
                context.add_asset_metadata({"quarantined": message}, asset_key=model, partition_key=day)

        def per_day(model: str, values: Mapping[str, Mapping[str, Any]]) -> None:
            for day, entries in values.items():
                if day not in held_back:
                    context.add_asset_metadata(dict(entries), asset_key=model, partition_key=day)

        for model, column in (("fct_sales_lines", "sales_date"), ("kpi_daily_breakdown", "date")):
            if model in models:
                counts = kpis.rows_per_day(conn, model, column, start, end)
                per_day(model, {day: {"dagster/row_count": count} for day, count in counts.items()})
        for model in models & set(kpis.KPI_MODELS):
            values = kpis.model_kpi(conn, model, start, end)
            per_day(model, {day: {model: _kpi_metadata(model, value)} for day, value in values.items()})
        if "kpi_daily" in models:
            rows = kpis.daily_kpis(conn, start, end)
            per_day(
                "kpi_daily",
                {day: {name: _kpi_metadata(name, value) for name, value in row.items()} for day, row in rows.items()},
            )
            # One chart per run, on its last day: a PNG per partition would bloat the event log.
            last_day = (end - dt.timedelta(days=1)).isoformat()
            from dagster_project import charts  # matplotlib: imported when a chart is drawn, not at load

            chart = charts.as_markdown(charts.trend_png(kpis.trend(conn, end)))
            context.add_asset_metadata(
                {"kpi_trend": MetadataValue.md(chart)}, asset_key="kpi_daily", partition_key=last_day
            )


def _kpi_metadata(name: str, value: float | int) -> MetadataValue:
    """A KPI as numeric metadata the UI plots: money to cents, ratios to 4 digits, counts as integers."""
    shown = kpis.for_people(name, value)
    return MetadataValue.int(shown) if isinstance(shown, int) else MetadataValue.float(shown)
