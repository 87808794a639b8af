"""Pure helpers that turn a Dagster run into dbt arguments: no Dagster context, unit-tested on their own."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping

_SOURCE_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[A-Za-z0-9_\-./=]+)?$")


def window_vars(start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> dict[str, str]:
    """dbt vars for a partition time window: min_date inclusive, max_date exclusive."""
    min_date, max_date = _as_date(start), _as_date(end)
    if max_date <= min_date:
        raise ValueError(f"empty window: {min_date} .. {max_date}")
    return {"min_date": min_date.isoformat(), "max_date": max_date.isoformat()}


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def validate_source_uri(uri: str) -> str:
    """An `s3://bucket/prefix` to read batches from, refused if it could escape or inject anything."""
    cleaned = uri.strip().rstrip("/")
    if ".." in cleaned.split("/") or not _SOURCE_URI.match(cleaned) or "//" in cleaned[len("s3://") :]:
        raise ValueError(
            f"source_uri must look like s3://bucket/prefix (lowercase bucket, no '..', no quotes), got {uri!r}"
        )
    return cleaned


def build_args(
    start: dt.datetime | dt.date,
    end: dt.datetime | dt.date,
    source_uri: str | None = None,
    skip_days: Iterable[str] = (),
    select: Iterable[str] = (),
) -> list[str]:
    """`dbt build` arguments for one window, optionally reading the batches from another S3 folder, leaving
    quarantined days untouched, and limited to some models (else Dagster's own selection applies)."""
    vars_: dict[str, object] = window_vars(start, end)
    if source_uri:
        vars_["operational_data_uri"] = validate_source_uri(source_uri)
    skip = sorted(dt.date.fromisoformat(day).isoformat() for day in skip_days)
    if skip:
        vars_["skip_days"] = skip
    select_args = ["--select", " ".join(sorted(select))] if select else []
    return ["build", *select_args, "--vars", json.dumps(vars_, sort_keys=True)]


def missing_upstream(selected: Iterable[str], parents: Mapping[str, Iterable[str]]) -> list[str]:
    """Models upstream of `selected` (transitively, within `parents`) that are not selected themselves.

    A run of only `kpi_daily` for a new day must first load that day into the models it reads, or it would
    publish stale data.
    """
    selected = set(selected)
    missing: set[str] = set()
    stack = [parent for model in selected for parent in parents.get(model, ())]
    while stack:
        model = stack.pop()
        if model in selected or model in missing:
            continue
        missing.add(model)
        stack.extend(parents.get(model, ()))
    return sorted(missing)


def model_parents(manifest: Mapping) -> dict[str, set[str]]:
    """{model: models it reads} from a dbt manifest, looking through ephemeral models (inlined, not assets)."""
    nodes = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}

    def materialized_parents(uid: str) -> set[str]:
        found: set[str] = set()
        for parent in nodes[uid]["depends_on"]["nodes"]:
            if parent not in nodes:
                continue  # sources, macros
            if nodes[parent]["config"]["materialized"] == "ephemeral":
                found |= materialized_parents(parent)
            else:
                found.add(nodes[parent]["name"])
        return found

    return {
        node["name"]: materialized_parents(uid)
        for uid, node in nodes.items()
        if node["config"]["materialized"] != "ephemeral"
    }
