"""Workshop assignment 5: each day partition as one JSON document in S3, written and read by an IO manager."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from dagster import ConfigurableIOManager, Failure, InputContext, OutputContext

from dagster_project import kpis
from dagster_project.io_managers.daily_values import DailyValues, complete, days_to_load, days_to_store
from dagster_project.quarantine import PARALLEL_TRANSFERS, s3_call
from dagster_project.resources import RetailerS3Resource, s3_timeouts_fail

CONTENT_TYPE = "application/json"


class S3JsonIOManager(ConfigurableIOManager):
    """s3://<bucket>/<prefix>/YYYY-MM-DD.json per day: one JSON object, the date and the day's values.

    A range is stored all or nothing: every document is rendered before the first PUT, and when a PUT fails the
    documents this run had already replaced get their previous bytes back (one that did not exist is deleted).
    The documents are deterministic (sorted keys), and one whose bytes would not change is not written again.
    """

    s3: RetailerS3Resource
    bucket: str
    prefix: str

    # >>> workshop 5 (stub: tooling/workshop_stubs/5_s3_json_handle_output.stub)
    def handle_output(self, context: OutputContext, obj: DailyValues) -> None:
        documents = {self._key(day): _render(day, obj[day]) for day in days_to_store(context, obj)}
        client = self.s3.get_client()
        with s3_timeouts_fail(f"writing the KPI documents to {self._uri('')}", self.s3):
            previous = self._read(client, list(documents))
            changed = {key: body for key, body in documents.items() if previous[key] != body}
            self._write(context, client, changed, previous)
        context.add_output_metadata(
            {
                "location": self._uri(""),
                "objects_written": len(changed),
                "objects_unchanged": len(documents) - len(changed),
            }
        )

    # <<< workshop 5

    # >>> workshop 5 (stub: tooling/workshop_stubs/5_s3_json_load_input.stub)
    def load_input(self, context: InputContext) -> DailyValues:
        keys = {self._key(day): day for day in days_to_load(context)}
        with s3_timeouts_fail(f"reading the KPI documents from {self._uri('')}", self.s3):
            found = self._read(self.s3.get_client(), list(keys))
        loaded = {keys[key]: _values(body) for key, body in found.items() if body is not None}
        return complete(context, loaded, self._uri(""))

    # <<< workshop 5

    def _key(self, day: str) -> str:
        return f"{self.prefix}/{day}.json"

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key or self.prefix + '/'}"

    def _read(self, client, keys: list[str]) -> dict[str, bytes | None]:
        """{key: its bytes, None when there is no such object}, fetched concurrently."""

        def get(key: str) -> bytes | None:
            response = s3_call(self._uri(key), client.get_object, Bucket=self.bucket, Key=key)
            return None if response is None else response["Body"].read()

        with ThreadPoolExecutor(PARALLEL_TRANSFERS) as pool:
            return dict(zip(keys, pool.map(get, keys), strict=True))

    def _write(self, context: OutputContext, client, documents: Mapping[str, bytes], previous) -> None:
        """PUT every document concurrently; if one fails, undo the others, then raise its error."""

        def put(key: str, body: bytes) -> None:
            s3_call(
                self._uri(key),
                client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=CONTENT_TYPE,
            )

        with ThreadPoolExecutor(PARALLEL_TRANSFERS) as pool:  # waits for every PUT, failed or not
            futures = {key: pool.submit(put, key, body) for key, body in documents.items()}
        failed = {key: future.exception() for key, future in futures.items() if future.exception()}
        if not failed:
            return
        written = [key for key in futures if key not in failed]
        self._restore(context, client, written, previous)
        raise failed[min(failed)]

    def _restore(self, context: OutputContext, client, keys: list[str], previous) -> None:
        def undo(key: str) -> None:
            uri = self._uri(key)
            if previous[key] is None:
                s3_call(uri, client.delete_object, Bucket=self.bucket, Key=key)
            else:
                # Our own documents are JSON: put back with the type they had, not S3's binary default.
                s3_call(
                    uri, client.put_object, Bucket=self.bucket, Key=key, Body=previous[key], ContentType=CONTENT_TYPE
                )

        def attempt(key: str) -> bool:
            try:
                undo(key)
            except Exception:  # noqa: BLE001 - reported below, the write's own error is what the step raises
                return False
            return True

        with ThreadPoolExecutor(PARALLEL_TRANSFERS) as pool:
            restored = dict(zip(keys, pool.map(attempt, keys), strict=True))
        stuck = sorted(self._uri(key) for key, done in restored.items() if not done)
        if stuck:
            context.log.error(
                f"A write failed and {len(stuck)} document(s) could not be put back, they hold this run's values: "
                f"{', '.join(stuck)}. Re-run the failed partitions once S3 answers."
            )
        else:
            context.log.warning(
                f"A write failed: the {len(keys)} document(s) this run had already replaced were put back as they were."
            )


def _render(day: str, values: Mapping[str, object]) -> bytes:
    try:
        return kpis.kpi_json(day, values)
    except (TypeError, ValueError) as error:
        raise Failure(
            description=f"The values of {day} cannot be written as JSON ({error}): nothing was written.",
            allow_retries=False,
        ) from error


def _values(body: bytes) -> dict[str, object]:
    """The stored values of a document, without the date it repeats (the day is the key)."""
    document = json.loads(body)
    document.pop("date", None)
    return document
