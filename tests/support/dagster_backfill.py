"""A partitioned backfill of an asset group, launched through the webserver's GraphQL API as the UI launches it.

Shared by the tests of the Docker stack: its native twin (tests/docker/test_native_stack.py) and the real stack
under Podman (tests/docker/test_podman_stack.py).
"""

from __future__ import annotations

from collections.abc import Callable

from tooling.processes import graphql, wait_until

BACKFILL_MUTATION = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""
BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status isAssetBackfill numPartitions
      runs { runId status tags { key value } }
    }
    ... on Error { message }
  }
}
"""
ASSETS_QUERY = """
query Assets($group: AssetGroupSelector!) {
  assetNodes(group: $group) { assetKey { path } isMaterializable }
}
"""
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
# Chapter 2's group and what it materializes.
RETAILER_KPIS_ASSETS = {
    ("operational_data",),
    ("fct_sales_lines",),
    ("revenue",),
    ("units_sold",),
    ("average_sales_price",),
    ("kpi_daily",),
    ("kpi_daily_breakdown",),
    ("kpis_json",),
    ("kpis_warehouse",),
}


def run_backfill(
    base_url: str,
    location: str,
    group: str,
    days: list[str],
    timeout: float,
    details: Callable[[], str] = str,
) -> dict:
    """Backfill every materializable asset of `group` for `days`; follow it until it ends.

    Returns the backfill as GraphQL reports it (status, isAssetBackfill, numPartitions, runs) plus its `id` and
    the asset `selection` launched.
    """
    selector = {"groupName": group, "repositoryName": "__repository__", "repositoryLocationName": location}
    nodes = graphql(base_url, ASSETS_QUERY, {"group": selector})["assetNodes"]
    selection = [{"path": node["assetKey"]["path"]} for node in nodes if node["isMaterializable"]]
    params = {"partitionNames": days, "assetSelection": selection}
    launched = graphql(base_url, BACKFILL_MUTATION, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    state: dict = {}

    def finished() -> bool:
        state.update(graphql(base_url, BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"])
        return state.get("status") in FINISHED

    wait_until(finished, timeout, what="the backfill to finish", interval=0.5, details=lambda: f"{state}\n{details()}")
    return {"id": backfill_id, "selection": selection, **state}


def assert_one_successful_run(backfill: dict, days: list[str], details: str = "") -> dict:
    """The backfill succeeded as ONE run over the whole window (single-run backfill policy); that run."""
    assert backfill["isAssetBackfill"] and backfill["numPartitions"] == len(days)
    assert backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, f"{backfill}\n{details}"
    [run] = backfill["runs"]
    assert run["status"] == "SUCCESS"
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert tags["dagster/backfill"] == backfill["id"]
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        days[0],
        days[-1],
    )
    return run
