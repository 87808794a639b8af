"""The dbt models as daily-partitioned assets; their dbt tests become asset checks."""

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, Failure, MetadataValue
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project import dbt_args, kpis, quarantine
from dagster_project.constants import GROUP
from dagster_project.partitions import daily_partitions, run_window
from dagster_project.project import retailer_dbt_project, retailer_preparer
from dagster_project.resources import (
    DUCKDB_TIMEOUT,
    TRANSIENT_RETRIES,
    DuckDBWarehouse,
    RetailerS3Resource,
    warehouse_pool,
)

# The dbt source of the batches is the asset that audits them: its key in the asset graph.
OPERATIONAL_DATA = AssetKey("operational_data")


class RetailerTranslator(DagsterDbtTranslator):
    """@dbt_assets takes no group: every model of the project joins the chapter's one group. The source
    operational_data.daily_batches is what the Python asset `operational_data` publishes, so the models are
    downstream of it in the asset graph."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return OPERATIONAL_DATA
        return super().get_asset_key(dbt_resource_props)


# Below, the assets are built from the manifest: whatever loads them (CLI, dagster dev, webserver) gets a fresh one.
retailer_preparer.prepare_if_dev(retailer_dbt_project)


@dbt_assets(
    manifest=retailer_dbt_project.manifest_path,
    project=retailer_dbt_project,
    dagster_dbt_translator=RetailerTranslator(),
    partitions_def=daily_partitions,
    # A backfill of any range is one run and one `dbt build` over the whole window.
    backfill_policy=BackfillPolicy.single_run(),
    name="retailer_dbt_models",
    pool=warehouse_pool(),
    retry_policy=TRANSIENT_RETRIES,
)
def retailer_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBWarehouse, s3: RetailerS3Resource
):
    start, end = run_window(context)
    selected = {key.path[-1] for key in context.selected_asset_keys}
    # A subset (say average_sales_price alone, from its asset page) re-runs nothing upstream: what it reads must
    # be materialized for the run's days already, or the run stops here naming the days and the asset.
    _require_upstream(context)
    # Quarantined days (main.batch_audit, written by operational_data) are neither read, deleted nor rebuilt.
    skip_days = sorted(_quarantined(duckdb, start, end))

    # dbt writes its artifacts (manifest, run results, logs) into a folder per invocation: a temporary one keeps
    # dbt_project/target/ from growing a folder per run.
    with tempfile.TemporaryDirectory(prefix="dbt-run-") as target:
        invocation = dbt.cli(
            dbt_args.build_args(),
            env=dbt_args.window_env(start, end, skip_days),
            context=context,
            raise_on_error=False,
            target_path=Path(target),
        )
        # Buffered: the per-day metadata is read from the warehouse once dbt has released the DuckDB file's lock,
        # and must be attached before the events are yielded.
        events = list(invocation.stream())
        if invocation.is_successful():
            _attach_metadata(context, duckdb, selected, start, end)
        yield from events
        error = invocation.get_error()
    if error is not None:
        if DUCKDB_TIMEOUT in str(error):  # DuckDB's httpfs timed out on every attempt: retrying cannot help
            raise Failure(
                description="dbt could not read the snapshots from S3: S3 did not answer "
                f"({s3.timeouts()}). Nothing was delivered for this window: check that S3 is up "
                "(S3_ENDPOINT_URL), then re-run the failed partitions.\n\n" + str(error),
                allow_retries=False,
            ) from error
        if "Could not establish connection" in str(error) or "HTTP" in str(error):
            raise Failure(
                description="dbt could not read the snapshots from S3 (is the endpoint up? S3_ENDPOINT_URL). "
                "Nothing was delivered for this window: re-run the failed partitions once S3 answers again.\n\n"
                + str(error)
            ) from error
        raise error


def _require_upstream(context: AssetExecutionContext) -> None:
    """Every asset the selected models read, when it is not selected itself, is materialized for every day of the
    run (in this instance); otherwise a Failure naming the days and the asset to materialize first."""
    selected = context.selected_asset_keys
    days = list(context.partition_keys)
    missing: dict[AssetKey, list[str]] = {}
    for key in sorted(selected):
        for parent in sorted(context.assets_def.asset_deps[key]):
            if parent in selected or parent in missing:
                continue
            done = context.instance.get_materialized_partitions(parent)
            absent = [day for day in days if day not in done]
            if absent:
                missing[parent] = absent
    if missing:
        lines = [
            f"{parent.to_user_string()} has never been materialized for {dbt_args.day_ranges(absent)}"
            for parent, absent in missing.items()
        ]
        first = " and ".join(parent.to_user_string() for parent in missing)
        raise Failure(
            description="The selected models read assets this run does not build, and they are missing: "
            + "; ".join(lines)
            + f". Materialize {first} for those partitions first (or select them too, e.g. the whole "
            f"{GROUP} group), then re-run. Nothing was built.",
            metadata={"missing_upstream": MetadataValue.json({k.to_user_string(): v for k, v in missing.items()})},
            allow_retries=False,
        )


def _quarantined(duckdb: DuckDBWarehouse, start: dt.date, end: dt.date) -> dict[str, str]:
    if duckdb.postgres is None and not Path(duckdb.path).exists():  # nothing audited into this file: dbt says
        return {}  # which days lack a snapshot
    with duckdb.reader() as conn:
        return quarantine.quarantined(conn, start, end)


def _attach_metadata(context, duckdb: DuckDBWarehouse, models: set[str], start: dt.date, end: dt.date) -> None:
    """Per-day numeric metadata, rounded for people, so the UI plots each KPI across partitions; quarantined days
    say so instead."""
    with duckdb.reader() as conn:
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
