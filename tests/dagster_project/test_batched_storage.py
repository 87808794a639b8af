"""Batched event writes (dagster_project/batched_sqlite_storage.py, DAGSTER_EVENT_BATCH_SIZE) record exactly what
Dagster's one-by-one writes record: same run, stock vs batched, on SQLite and on a real Postgres.

The run is the project's pattern in miniature: daily-partitioned assets backfilled in one run (one materialization
per asset and day, each with its own metadata), an asset check, a downstream asset.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dagster
import pytest
import yaml
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    BackfillPolicy,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
    materialize,
)

from dagster_project import batched_sqlite_storage
from dagster_project.batched_sqlite_storage import BatchedSqliteEventLogStorage, BatchedSqliteStorage
from dagster_project.settings import DAGSTER_EVENT_BATCH_SIZE, PROJECT_ROOT

DAYS = DailyPartitionsDefinition(start_date="2024-01-01")
FIRST, LAST = "2024-01-01", "2024-01-12"
KEYS = (AssetKey("sales"), AssetKey("kpis"))
CHECK = AssetCheckKey(AssetKey("sales"), "rows_positive")
# Dagster's setting for a ranged run's plan (.env.example sets true: one planned event per asset; false: one per
# asset and day, a year's plan of 3,285 events): set in each test, so they do not depend on the caller's environment.
PLAN_AS_SUBSET = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


@asset(
    partitions_def=DAYS,
    backfill_policy=BackfillPolicy.single_run(),
    check_specs=[AssetCheckSpec("rows_positive", asset="sales")],
)
def sales(context) -> MaterializeResult:
    for day in context.partition_keys:
        context.add_asset_metadata({"rows": int(day[-2:]) * 10, "day": day}, partition_key=day)
    days = len(context.partition_keys)
    return MaterializeResult(check_results=[AssetCheckResult(passed=True, metadata={"days": days})])


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run(), deps=[sales])
def kpis(context) -> MaterializeResult:
    return MaterializeResult(metadata={"days": len(context.partition_keys)})


def run_backfill(instance: DagsterInstance) -> str:
    result = materialize(
        [sales, kpis],
        instance=instance,
        tags={"dagster/asset_partition_range_start": FIRST, "dagster/asset_partition_range_end": LAST},
    )
    assert result.success
    return result.run_id


def _values(metadata) -> dict:
    return {name: getattr(value, "value", value) for name, value in metadata.items()}


def recorded(instance: DagsterInstance, run_id: str) -> dict:
    """What the UI reads back: partitions, latest materialization and metadata per partition, checks, run."""
    found: dict = {"run_status": instance.get_run_by_id(run_id).status}
    for key in KEYS:
        records = sorted(instance.fetch_materializations(key, limit=1000).records, key=lambda r: r.storage_id)
        found[f"{key.to_user_string()} materializations"] = len(records)
        found[f"{key.to_user_string()} partitions"] = sorted(instance.get_materialized_partitions(key))
        found[f"{key.to_user_string()} latest by partition"] = {
            record.partition_key: _values(record.asset_materialization.metadata) for record in records
        }
        latest = instance.get_latest_materialization_event(key)
        found[f"{key.to_user_string()} latest"] = (
            latest.dagster_event.partition,
            _values(latest.asset_materialization.metadata),
        )
        entry = instance.get_asset_records([key])[0].asset_entry
        found[f"{key.to_user_string()} last run"] = entry.last_run_id == run_id
    history = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=100)
    found["checks"] = [
        (r.status.value, r.partition, getattr(r.evaluation, "passed", None), r.run_id == run_id) for r in history
    ]
    found["run events"] = [
        (event.dagster_event_type, str(event.dagster_event.asset_key), event.dagster_event.partition)
        for event in instance.all_logs(run_id)
        if event.is_dagster_event
    ]
    return found


def sqlite_instance(folder: Path, *, batched: bool) -> DagsterInstance:
    """A temporary instance: the project's dagster.yaml storage (batched), or Dagster's default SQLite storage."""
    folder.mkdir(parents=True)
    config = {"telemetry": {"enabled": False}}
    if batched:
        storage = yaml.safe_load((PROJECT_ROOT / "dagster_home" / "dagster.yaml").read_text())["storage"]
        assert storage["custom"]["config"] == {"base_dir": {"env": "DAGSTER_HOME"}}
        storage["custom"]["config"]["base_dir"] = str(folder)  # never the developer's DAGSTER_HOME
        config["storage"] = storage
    (folder / "dagster.yaml").write_text(yaml.safe_dump(config))
    return DagsterInstance.from_config(str(folder))


def test_the_local_instance_uses_the_batched_storage(tmp_path):
    instance = sqlite_instance(tmp_path / "home", batched=True)
    assert type(instance.event_log_storage) is BatchedSqliteEventLogStorage
    # Run workers rebuild the instance from its ref.
    assert type(DagsterInstance.from_ref(instance.get_ref()).event_log_storage) is BatchedSqliteEventLogStorage
    # Configured on its own, as an event_log_storage: from_config_value builds this class, not the parent.
    (tmp_path / "alone").mkdir()
    (tmp_path / "alone" / "dagster.yaml").write_text(
        yaml.safe_dump(
            {
                "event_log_storage": {
                    "module": "dagster_project.batched_sqlite_storage",
                    "class": "BatchedSqliteEventLogStorage",
                    "config": {"base_dir": str(tmp_path / "alone" / "events")},
                }
            }
        )
    )
    assert type(DagsterInstance.from_config(str(tmp_path / "alone")).event_log_storage) is (
        BatchedSqliteEventLogStorage
    )
    # Same files as Dagster's default SQLite storage: an existing local instance keeps its history.
    assert (tmp_path / "home" / "history" / "runs.db").exists()
    assert (tmp_path / "home" / "history" / "runs" / "index.db").exists()
    assert isinstance(instance.get_ref().storage_data.rehydrate(as_type=BatchedSqliteStorage), BatchedSqliteStorage)


@pytest.mark.slow
@pytest.mark.parametrize(("plan_as_subset", "plan_size"), [("false", 25), ("true", 3)])
def test_a_batch_is_one_transaction_per_database_file(tmp_path, monkeypatch, plan_as_subset, plan_size):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", DAGSTER_EVENT_BATCH_SIZE)
    monkeypatch.setenv(PLAN_AS_SUBSET, plan_as_subset)
    instance = sqlite_instance(tmp_path / "home", batched=True)
    connections, batches = [], []
    connect, store_batch = BatchedSqliteEventLogStorage._connect, BatchedSqliteEventLogStorage.store_event_batch

    def counting_connect(self, shard):
        connections.append(shard)
        return connect(self, shard)

    def recording_batch(self, events):
        before = len(connections)
        store_batch(self, events)
        kinds = {event.dagster_event_type for event in events}
        batches.append((kinds, len(events), connections[before:]))

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "_connect", counting_connect)
    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch", recording_batch)
    run_id = run_backfill(instance)
    # One batch per asset: its 12 daily materializations, written in two transactions (the run's file, the index);
    # one by one, they take two each.
    materializations = {DagsterEventType.ASSET_MATERIALIZATION}
    assert [(size, shards) for kinds, size, shards in batches if kinds == materializations] == [
        (12, [run_id, "index"]),
        (12, [run_id, "index"]),
    ]
    # The run's plan (a planned materialization per asset and day, or per asset, and the check's) is one batch too.
    planned = {DagsterEventType.ASSET_MATERIALIZATION_PLANNED, DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED}
    assert [(size, shards) for kinds, size, shards in batches if kinds == planned] == [(plan_size, [run_id, "index"])]
    assert all(kinds in (materializations, planned) for kinds, _, _ in batches), batches


@pytest.mark.slow
@pytest.mark.parametrize("plan_as_subset", ["false", "true"])
def test_sqlite_batched_records_what_the_stock_storage_records(tmp_path, monkeypatch, plan_as_subset):
    monkeypatch.setenv(PLAN_AS_SUBSET, plan_as_subset)
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    stock = sqlite_instance(tmp_path / "stock", batched=False)
    assert type(stock.event_log_storage) is not BatchedSqliteEventLogStorage
    expected = recorded(stock, run_backfill(stock))

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", DAGSTER_EVENT_BATCH_SIZE)
    batched = sqlite_instance(tmp_path / "batched", batched=True)
    actual = recorded(batched, run_backfill(batched))

    assert actual == expected
    assert expected["sales partitions"] == [f"2024-01-{day:02d}" for day in range(1, 13)]
    assert expected["sales latest by partition"]["2024-01-07"] == {"rows": 70, "day": "2024-01-07"}
    assert expected["sales latest"][0] == LAST
    assert ("SUCCEEDED", None, True, True) in expected["checks"]


@pytest.mark.slow
def test_a_failed_batch_falls_back_to_single_writes_without_duplicates(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(PLAN_AS_SUBSET, "false")
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    stock = sqlite_instance(tmp_path / "stock", batched=False)
    expected = recorded(stock, run_backfill(stock))

    # The index transaction of the first batch (the run's plan: 24 planned materializations and the check's plan)
    # fails after the run's file was written.
    failures = []
    store_tags = BatchedSqliteEventLogStorage._store_asset_event_tags

    def failing_once(self, conn, events, event_ids):
        if len(events) > 1 and not failures:
            failures.append(len(events))
            raise RuntimeError("injected: the index is unavailable")
        return store_tags(self, conn, events, event_ids)

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "_store_asset_event_tags", failing_once)
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", DAGSTER_EVENT_BATCH_SIZE)
    batched = sqlite_instance(tmp_path / "batched", batched=True)
    actual = recorded(batched, run_backfill(batched))

    assert failures == [24]
    assert "Falling back to storing multiple single-event storage requests" in capfd.readouterr().err
    assert actual == expected  # no event twice in the run's log, none missing


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_batched_records_what_single_writes_record(postgres_server, tmp_path, monkeypatch):
    def postgres_instance(name: str) -> DagsterInstance:
        url = postgres_server.create_database(f"{name}_{tmp_path.name}".lower()[:60])
        (tmp_path / name).mkdir()
        (tmp_path / name / "dagster.yaml").write_text(yaml.safe_dump({"storage": {"postgres": {"postgres_url": url}}}))
        return DagsterInstance.from_config(str(tmp_path / name))

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    single = postgres_instance("single")
    expected = recorded(single, run_backfill(single))

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", DAGSTER_EVENT_BATCH_SIZE)
    batched = postgres_instance("batched")
    calls = []
    store_batch = type(batched.event_log_storage).store_event_batch
    monkeypatch.setattr(
        type(batched.event_log_storage),
        "store_event_batch",
        lambda self, events: calls.append(len(events)) or store_batch(self, events),
    )
    actual = recorded(batched, run_backfill(batched))

    assert calls.count(12) == 2  # each asset's 12 materializations in one batch
    assert actual == expected
    assert expected["kpis partitions"] == [f"2024-01-{day:02d}" for day in range(1, 13)]


def test_the_storage_refuses_another_dagster_release(monkeypatch):
    monkeypatch.setattr(dagster, "__version__", "1.99.0")
    spec = importlib.util.spec_from_file_location("batched_copy", batched_sqlite_storage.__file__)
    with pytest.raises(ImportError, match=r"supports dagster 1\.13\.27 only, and dagster 1\.99\.0 is installed"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
