"""Dagster's SQLite storage, writing a batch of asset events in one transaction per database file.

With `DAGSTER_EVENT_BATCH_SIZE` > 0, Dagster hands the materializations of a multi-partition output (a year
backfill in one run: 365 per asset) to `EventLogStorage.store_event_batch`. Postgres writes such a batch in one
statement; the stock SQLite storage inherits a loop over `store_event`, which opens a new engine and commits twice
per event (the run's database and the cross-run index). `BatchedSqliteEventLogStorage` writes the whole batch in
one transaction on each of the two files, and records the same rows the loop would: the events in the run's
database, their copies, tags and the asset's latest entry in the index, and a planned check's execution row.
Dagster batches the planned events of a run the same way (one per asset and partition: 3,285 for a year of
the project's 9 assets, more than its materializations) with the check plans among them. On any other batch
(other event types) it keeps the loop.

The local instance uses it through `BatchedSqliteStorage` (dagster_home/dagster.yaml), which lays its files out
exactly like Dagster's default SQLite storage, so an existing local instance keeps its history. Its folder is
`base_dir` (DAGSTER_HOME in dagster.yaml): a process opening the instance with `DagsterInstance.from_config(folder)`
must have DAGSTER_HOME pointing at that folder too.

Both classes lean on private methods of Dagster's SQL storages: they are written against one Dagster release and
refuse to load on any other (update them with the pin, then run tests/dagster_project/test_batched_storage.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData, serialize_value

from dagster_project.release_guard import require_release

SUPPORTED_DAGSTER_VERSION = "1.13.27"
require_release(
    "dagster",
    dagster.__version__,
    SUPPORTED_DAGSTER_VERSION,
    module=__name__,
    overrides="private methods of Dagster's SQLite event log",
    fallback="remove the `storage: custom:` block of dagster_home/dagster.yaml to use Dagster's own SQLite storage",
)

# The event types one batch transaction may hold; any other batch goes through `store_event` one by one.
ASSET_EVENT_TYPES = frozenset(
    {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_OBSERVATION,
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    }
)
CHECK_PLANNED = DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED


def _is_asset_event(event: EventLogEntry) -> bool:
    dagster_event = event.dagster_event
    return bool(dagster_event and dagster_event.event_type in ASSET_EVENT_TYPES and dagster_event.asset_key)


def _batchable(event: EventLogEntry) -> bool:
    return _is_asset_event(event) or event.dagster_event_type == CHECK_PLANNED


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log whose `store_event_batch` commits once per database file instead of twice per event."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> BatchedSqliteEventLogStorage:
        # The parent builds a SqliteEventLogStorage whatever `cls` is.
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if len(events) < 2 or not all(_batchable(event) for event in events):
            super().store_event_batch(events)
            return
        run_rows = self._write_run_shards(events)
        try:
            self._write_index(events)
        except BaseException:
            # Dagster falls back to storing each event on its own: leave nothing behind for it to duplicate.
            self._delete_run_rows(run_rows)
            raise

    def _write_run_shards(self, events: Sequence[EventLogEntry]) -> dict[str, list[int]]:
        """Each run's events in its own database, one transaction per run; {run_id: ids written}."""
        written: dict[str, list[int]] = {}
        for run_id in dict.fromkeys(event.run_id for event in events):
            rows = [self._event_to_row(event) for event in events if event.run_id == run_id]
            ids = written.setdefault(run_id, [])
            try:
                with self.run_connection(run_id) as conn:
                    for row in rows:
                        ids.append(conn.execute(SqlEventLogStorageTable.insert().values(**row)).inserted_primary_key[0])
            except BaseException:
                written.pop(run_id)  # rolled back
                self._delete_run_rows(written)
                raise
        return written

    def _write_index(self, events: Sequence[EventLogEntry]) -> None:
        """The copies of the events in the index, their tags, each asset's latest event and the planned checks'
        execution rows, in one transaction."""
        with self.index_transaction() as conn:
            event_ids = [conn.execute(self.prepare_insert_event(event)).inserted_primary_key[0] for event in events]
            assets = [(event, id_) for event, id_ in zip(events, event_ids, strict=True) if _is_asset_event(event)]
            self._store_asset_event_tags(conn, [event for event, _ in assets], [id_ for _, id_ in assets])
            # `store_event` updates the asset's row once per event; only the last one per asset stays.
            latest = {event.dagster_event.asset_key: (event, id_) for event, id_ in assets}
            for event, event_id in latest.values():
                self._store_asset_event(conn, event, event_id)
            for event, event_id in zip(events, event_ids, strict=True):
                if event.dagster_event_type == CHECK_PLANNED:
                    conn.execute(self._planned_check_rows(event, event_id))

    def _planned_check_rows(self, event: EventLogEntry, event_id: int):
        """The insert `_store_asset_check_evaluation_planned` runs on a connection of its own, here for ours."""
        planned = event.dagster_event.event_specific_data
        partitions = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        return AssetCheckExecutionsTable.insert().values(
            [
                dict(
                    asset_key=planned.asset_key.to_string(),
                    check_name=planned.check_name,
                    partition=partition,
                    run_id=event.run_id,
                    execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
                    evaluation_event=serialize_value(event),
                    evaluation_event_timestamp=self._event_insert_timestamp(event),
                    evaluation_event_storage_id=event_id,
                )
                for partition in partitions
            ]
        )

    def _delete_run_rows(self, written: dict[str, list[int]]) -> None:
        for run_id, ids in written.items():
            if ids:
                with self.run_connection(run_id) as conn:
                    conn.execute(SqlEventLogStorageTable.delete().where(SqlEventLogStorageTable.c.id.in_(ids)))


class BatchedSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (same files under `base_dir`) with the batched event log.

    dagster.yaml:  storage: {custom: {module: dagster_project.batched_sqlite_storage, class: BatchedSqliteStorage,
    config: {base_dir: {env: DAGSTER_HOME}}}}
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # The parent's __init__, with the batched event log in place of SqliteEventLogStorage.
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = BatchedSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> BatchedSqliteStorage:
        # The parent builds a DagsterSqliteStorage whatever `cls` is.
        return cls.from_local(inst_data=inst_data, **config_value)
