"""WAREHOUSE_URL in every form libpq accepts is described without its password, and describing never fails."""

import psycopg2
import pytest

from dagster_project import warehouse_url
from dagster_project.resources import PostgresWarehouse
from dagster_project.settings import load_settings

SECRET = "pw-Describe-51c0"
# Every form psycopg2 (libpq) accepts, with the description each must get.
FORMS = {
    "userinfo": (f"postgresql://kpis:{SECRET}@db.example:5432/kpis", "postgresql://kpis@db.example:5432/kpis"),
    "query_parameter": (f"postgresql://kpis@db.example/kpis?password={SECRET}", "postgresql://kpis@db.example/kpis"),
    "both": (
        f"postgres://kpis:{SECRET}@db.example/kpis?sslmode=require&password={SECRET}",
        "postgresql://kpis@db.example/kpis",
    ),
    "key_value": (
        f"host=db.example port=5433 dbname=kpis user=kpis password={SECRET}",
        "postgresql://kpis@db.example:5433/kpis",
    ),
    "key_value_quoted": (
        f"host=db.example dbname=kpis user=kpis password='{SECRET} has spaces'",
        "postgresql://kpis@db.example/kpis",
    ),
    "multiple_hosts": (
        f"postgresql://kpis:{SECRET}@db1.example:5432,db2.example:5433/kpis",
        "postgresql://kpis@db1.example:5432,db2.example:5433/kpis",
    ),
    "multiple_hosts_key_value": (
        f"host=db1.example,db2.example port=5432 dbname=kpis user=kpis password={SECRET}",
        "postgresql://kpis@db1.example:5432,db2.example:5432/kpis",
    ),
    "ssl_key_password": (
        f"postgresql://kpis@db.example/kpis?sslpassword={SECRET}&options=-c%20x%3D{SECRET}",
        "postgresql://kpis@db.example/kpis",
    ),
    "socket_folder": (
        f"postgresql:///kpis?host=/run/postgresql&password={SECRET}",
        "postgresql://%2Frun%2Fpostgresql/kpis",
    ),
    "ipv6": (f"postgresql://kpis:{SECRET}@[::1]:5432/kpis", "postgresql://kpis@[::1]:5432/kpis"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_accepted_form_is_described_without_its_secret(form):
    url, expected = FORMS[form]
    psycopg2.extensions.parse_dsn(url)  # a form the driver accepts
    description = PostgresWarehouse(url=url).describe()
    assert description == expected
    assert SECRET not in description


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg2://kpis:{SECRET}@db.example/kpis",  # SQLAlchemy's form: not libpq's
        f"host=db.example password {SECRET}",
        f"dbname=kpis password={SECRET} port",
    ],
)
def test_a_string_libpq_refuses_is_described_by_a_fixed_sentence(url):
    assert warehouse_url.describe(url) == warehouse_url.UNPARSABLE
    with pytest.raises(psycopg2.Error) as error:
        psycopg2.connect(url, connect_timeout=2)
    assert SECRET not in warehouse_url.redact(str(error.value), url)


def test_the_driver_message_is_redacted_and_unset_is_the_duckdb_file():
    url = f"postgresql://kpis@db.example/kpis?password={SECRET}"
    assert warehouse_url.redact(f"failed for {SECRET}!", url) == "failed for ***!"
    assert warehouse_url.describe(None) == warehouse_url.describe("") == "DuckDB file (WAREHOUSE_URL is not set)"


def test_the_settings_never_show_a_secret_in_their_repr(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", FORMS["userinfo"][0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET + "-s3")
    assert SECRET not in repr(load_settings())
