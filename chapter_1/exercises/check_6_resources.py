"""Check of "Try it" 1.6 (make check ASSIGNMENT=ch1-6): a new field of the resource, used by the asset."""

from dagster import materialize

from chapter_1.resources import StockApiResource, stock_api_session


def test_stock_api_resource_has_a_timeout():
    fields = StockApiResource.model_fields
    assert "timeout_seconds" in fields, "StockApiResource (chapter_1/resources.py) has no field timeout_seconds yet"
    default = fields["timeout_seconds"].default
    assert default == 10, f"timeout_seconds defaults to {default!r}, not 10"
    resource = StockApiResource(username="ada", api_key="sk-test-1234abcd", timeout_seconds=3)
    session = materialize([stock_api_session], resources={"stock_api": resource}).output_for_node(
        "api__stock_api_session"
    )
    assert str(session.get("timeout_seconds")) == "3", f"stock_api_session returned {session}: no timeout_seconds 3"
