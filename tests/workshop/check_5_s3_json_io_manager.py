"""Check of assignment 5 (make check ASSIGNMENT=5): S3JsonIOManager stores each day as kpis/YYYY-MM-DD.json, the
bytes of the contract, in real S3 over HTTP, and loads them back for a downstream asset."""

from dagster_project.settings import load_settings
from tests.support.delivered_assets import delivered_asset, reader_asset
from tests.support.kpi_reference import HAND_WRITTEN_DELIVERY
from tests.support.workshop_checks import run_days, why_it_failed
from tooling import sample_data

DAYS = ["2023-08-02", "2023-08-03", "2023-08-04"]
ROWS = {day: HAND_WRITTEN_DELIVERY["kpi_daily_rows"][day] for day in DAYS}
IO_MANAGER = "s3_json_io_manager"


def test_each_day_is_one_json_document_in_s3_and_comes_back(pipeline_env):
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.ensure_bucket(client, settings.s3_bucket)

    stored = run_days(DAYS, ["delivered"], assets=[delivered_asset(IO_MANAGER, ROWS)])

    assert stored.success, f"storing {DAYS[0]}...{DAYS[-1]} through {IO_MANAGER}: {why_it_failed(stored)}"
    listed = client.list_objects_v2(Bucket=settings.s3_bucket).get("Contents", [])
    found = {
        item["Key"]: client.get_object(Bucket=settings.s3_bucket, Key=item["Key"])["Body"].read() for item in listed
    }
    for day in DAYS:
        key = f"kpis/{day}.json"
        assert key in found, f"s3://{settings.s3_bucket}/{key} was not written (objects written: {sorted(found)})"
        expected = HAND_WRITTEN_DELIVERY["json_documents"][day].encode()
        assert found[key] == expected, f"{key} holds {found[key][:200]!r}, not {expected[:200]!r} (kpis.kpi_json)"

    received: list = []
    loaded = run_days(DAYS, ["reader"], assets=[delivered_asset(IO_MANAGER, {}), reader_asset(received)])
    assert loaded.success, f"loading {DAYS[0]}...{DAYS[-1]} back for a downstream asset: {why_it_failed(loaded)}"
    assert received == [ROWS], f"a downstream asset received {received[0] if received else None}, not {ROWS}"
