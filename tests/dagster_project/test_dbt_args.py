"""The pure helpers that turn partitions into dbt arguments and S3 keys into sensor requests."""

import datetime as dt
import json

import pytest

from dagster_project import dbt_args
from dagster_project.automation import new_batch_days


def test_window_vars_are_min_inclusive_max_exclusive():
    start = dt.datetime(2023, 8, 2, tzinfo=dt.UTC)
    assert dbt_args.window_vars(start, start + dt.timedelta(days=3)) == {
        "min_date": "2023-08-02",
        "max_date": "2023-08-05",
    }
    with pytest.raises(ValueError, match="empty window"):
        dbt_args.window_vars(start, start)


def test_the_window_reaches_dbt_in_the_environment_not_in_its_args():
    env = dbt_args.window_env(dt.date(2023, 8, 2), dt.date(2023, 8, 3))
    assert list(env) == [dbt_args.WINDOW_ENV] == ["RETAILER_KPIS_WINDOW"]
    assert json.loads(env["RETAILER_KPIS_WINDOW"]) == {"min_date": "2023-08-02", "max_date": "2023-08-03"}
    # --vars would make dbt parse the whole project again for every new window
    assert dbt_args.build_args() == ["build"]


def test_the_window_skips_quarantined_days_and_build_args_can_select_models():
    env = dbt_args.window_env(dt.date(2023, 8, 2), dt.date(2023, 8, 5), skip_days=["2023-08-04", "2023-08-03"])
    assert json.loads(env["RETAILER_KPIS_WINDOW"])["skip_days"] == ["2023-08-03", "2023-08-04"]
    assert dbt_args.build_args(select={"b", "a"}) == ["build", "--select", "a b"]
    with pytest.raises(ValueError):
        dbt_args.window_env(dt.date(2023, 8, 2), dt.date(2023, 8, 5), skip_days=["2023-08-04' or 1=1"])


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("/etc/passwd", "must start with s3://"),
        ("https://bucket/x", "must start with s3://"),
        ("s3://bucket/../secret", "'.' or '..' segments"),
        ("s3://bucket/./evil", "'.' or '..' segments"),  # boto3 reads './evil/...', httpfs 'evil/...'
        ("s3://bucket/a/./b", "'.' or '..' segments"),
        ("s3://bucket//x", "empty"),
        ("s3://bucket/x' or 1=1", "no quotes"),
        ("s3://UPPER/x", "3 to 63 lowercase"),
        ("s3://ab/x", "3 to 63 lowercase"),
        ("s3://" + "b" * 64 + "/x", "3 to 63 lowercase"),
        ("s3://bucket..x/p", "without '..'"),
        ("s3://-bucket/p", "start and end with a letter or digit"),
        ("s3://192.168.1.1/p", "IP address"),
        ("s3://xn--bucket/p", "S3 reserves"),
        ("s3://bucket-s3alias/p", "S3 reserves"),
    ],
)
def test_source_uri_is_validated_against_s3s_rules(uri, reason):
    with pytest.raises(ValueError, match="source_uri must look like") as error:
        dbt_args.validate_source_uri(uri)
    assert reason in str(error.value)


def test_a_huge_source_uri_is_refused_without_repeating_it():
    uri = "s3://bucket/" + "a" * 200_000
    with pytest.raises(ValueError, match="longer than 512 characters") as error:
        dbt_args.validate_source_uri(uri)
    assert len(str(error.value)) < 400


@pytest.mark.parametrize(
    ("uri", "normalized"),
    [
        (" s3://my.bucket-1/operational_data/ ", "s3://my.bucket-1/operational_data"),
        ("s3://dagster", "s3://dagster"),
        ("s3://abc/a.b/c=d/e_f-g", "s3://abc/a.b/c=d/e_f-g"),
    ],
)
def test_valid_source_uris_are_normalized(uri, normalized):
    assert dbt_args.validate_source_uri(uri) == normalized


def test_day_ranges_join_consecutive_days():
    days = ["2023-08-09", "2023-08-02", "2023-08-03", "2023-08-04", "2023-08-03", "2023-08-31", "2023-09-01"]
    assert dbt_args.day_ranges(days) == "2023-08-02...2023-08-04, 2023-08-09, 2023-08-31...2023-09-01"
    assert dbt_args.day_ranges(["2023-08-02"]) == "2023-08-02"


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
