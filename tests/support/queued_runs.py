"""Runs launched at once through a real `dagster dev` (webserver + daemon, queued runs), and what the instance's
event log says about them: shared by the DuckDB pool test and the Postgres target's concurrency test."""

from __future__ import annotations

import time
from itertools import pairwise

from dagster import DagsterEventType, DagsterInstance

from tooling.processes import graphql

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
RETRY_OR_FAILURE = {
    DagsterEventType.STEP_UP_FOR_RETRY,
    DagsterEventType.STEP_RESTARTED,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.RUN_FAILURE,
}


def launch_day_runs(url: str, days: list[str]) -> list[str]:
    """One run of retailer_kpis_job per day, launched back to back (the queue starts them); their run ids."""
    run_ids = []
    for day in days:
        params = {
            "selector": {
                "repositoryLocationName": "chapter-2-retailer_kpis",
                "repositoryName": "__repository__",
                "jobName": "retailer_kpis_job",
            },
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": day}]},
        }
        launched = graphql(url, LAUNCH, {"params": params}, timeout=300)["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_ids.append(launched["run"]["runId"])
    return run_ids


def wait_finished(instance: DagsterInstance, run_ids: list[str], timeout: float) -> list:
    """The runs once all are finished (`timeout` is a hang guard only, never a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
        if all(run.is_finished for run in runs):
            return runs
        assert time.monotonic() < deadline, [run.status for run in runs]
        time.sleep(2)


def retries_or_failures(events) -> list[tuple]:
    """(run id, step, event) of every step that failed or retried: a lock collision that succeeded on retry too."""
    return [(e.run_id, e.step_key, e.dagster_event_type) for e in events if e.dagster_event_type in RETRY_OR_FAILURE]


def spans(events, start: DagsterEventType, ends: set[DagsterEventType]) -> dict[tuple, tuple[float, float]]:
    """{(run id, step key or None): (start time, end time)} from the instance's event log."""
    started = {(e.run_id, e.step_key): e.timestamp for e in events if e.dagster_event_type == start}
    ended = {(e.run_id, e.step_key): e.timestamp for e in events if e.dagster_event_type in ends}
    assert set(started) == set(ended), "a run or step started without ending (or the reverse)"
    return {key: (started[key], ended[key]) for key in started}


def overlaps(intervals: dict[tuple, tuple[float, float]]) -> list[tuple]:
    """Consecutive intervals (by start) where the second starts before the first ends: none means none overlap."""
    ordered = sorted(intervals.items(), key=lambda item: item[1])
    return [(a, b) for (a, (_, a_end)), (b, (b_start, _)) in pairwise(ordered) if b_start < a_end]
