"""The pure helpers that turn partitions into dbt arguments and S3 keys into sensor requests."""

import datetime as dt
import json

import pytest

from dagster_project import dbt_args
from dagster_project.project import retailer_dbt_project
from dagster_project.sensors import new_batch_days


def test_window_vars_are_min_inclusive_max_exclusive():
    start = dt.datetime(2023, 8, 2, tzinfo=dt.UTC)
    assert dbt_args.window_vars(start, start + dt.timedelta(days=3)) == {
        "min_date": "2023-08-02",
        "max_date": "2023-08-05",
    }
    with pytest.raises(ValueError, match="empty window"):
        dbt_args.window_vars(start, start)


def test_build_args_carry_the_window_and_an_optional_source():
    args = dbt_args.build_args(dt.date(2023, 8, 2), dt.date(2023, 8, 3))
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == {"min_date": "2023-08-02", "max_date": "2023-08-03"}

    args = dbt_args.build_args(dt.date(2023, 8, 2), dt.date(2023, 8, 3), "s3://other-bucket/drops/")
    assert json.loads(args[2])["operational_data_uri"] == "s3://other-bucket/drops"


def test_build_args_skip_quarantined_days_and_can_select_models():
    args = dbt_args.build_args(
        dt.date(2023, 8, 2), dt.date(2023, 8, 5), skip_days=["2023-08-04", "2023-08-03"], select={"b", "a"}
    )
    assert args[:3] == ["build", "--select", "a b"]
    assert json.loads(args[4])["skip_days"] == ["2023-08-03", "2023-08-04"]
    with pytest.raises(ValueError):
        dbt_args.build_args(dt.date(2023, 8, 2), dt.date(2023, 8, 5), skip_days=["2023-08-04' or 1=1"])


@pytest.mark.parametrize(
    "uri",
    ["/etc/passwd", "s3://bucket/../secret", "s3://b/x' or 1=1", "https://bucket/x", "s3://UPPER/x", "s3://b//x"],
)
def test_source_uri_is_validated(uri):
    with pytest.raises(ValueError, match="source_uri must look like"):
        dbt_args.validate_source_uri(uri)


def test_missing_upstream_walks_the_graph():
    parents = {"fct": set(), "kpi": {"fct"}, "breakdown": {"fct"}, "report": {"kpi"}}
    assert dbt_args.missing_upstream({"report"}, parents) == ["fct", "kpi"]
    assert dbt_args.missing_upstream({"kpi", "fct"}, parents) == []
    assert dbt_args.missing_upstream({"fct"}, parents) == []


def test_model_parents_look_through_the_ephemeral_staging_model():
    manifest = json.loads(retailer_dbt_project.manifest_path.read_text())
    assert dbt_args.model_parents(manifest) == {
        "fct_sales_lines": set(),
        "kpi_daily": {"fct_sales_lines"},
        "kpi_daily_breakdown": {"fct_sales_lines"},
    }


def test_new_batch_days_requests_each_new_day_once():
    keys = [
        "operational_data/2023-08-03/stock.csv",
        "operational_data/2023-08-02/stock.csv",
        "operational_data/2023-08-02/readme.txt",
        "operational_data/notes/stock.csv",
    ]
    assert new_batch_days(keys, "operational_data", None) == (["2023-08-02", "2023-08-03"], "2023-08-03")
    assert new_batch_days(keys, "operational_data", "2023-08-03") == ([], "2023-08-03")
    # A day without a partition yet stops the scan; it is picked up on a later tick.
    keys.append("operational_data/2023-08-05/stock.csv")
    available = {"2023-08-02", "2023-08-03", "2023-08-04"}
    assert new_batch_days(keys, "operational_data", "2023-08-02", available) == (["2023-08-03"], "2023-08-03")
