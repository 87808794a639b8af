"""WAREHOUSE_URL, shown safely: the one way the Postgres connection string is ever rendered.

libpq (so psycopg2) accepts many forms: a URL with the password in its userinfo or as a `?password=` query
parameter, a key-value string (`host=... password=...`), several hosts (`host1:5432,host2:5433`). Rather than
masking each form, the string is parsed by libpq's own parser and only harmless keys are rebuilt: whatever else
it holds (password, sslpassword, options, ...) is never rendered. Nothing here raises.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# The keys that say where the rows go; every other key of the connection string stays hidden.
_SHOWN_KEYS = ("user", "host", "hostaddr", "port", "dbname")
_SECRET_KEYS = ("password", "sslpassword")
UNPARSABLE = "Postgres (WAREHOUSE_URL is set but is not a connection string libpq can parse)"


def _parse(url: str) -> dict[str, str] | None:
    try:
        from psycopg2.extensions import parse_dsn

        return parse_dsn(url)
    except Exception:  # noqa: BLE001 - any parse problem means: show nothing of it
        return None


def describe(url: str | None) -> str:
    """Where the rows go, without any secret: `postgresql://user@host:port/dbname`, or a fixed sentence."""
    if not url:
        return "DuckDB file (WAREHOUSE_URL is not set)"
    parts = _parse(url)
    if parts is None:
        return UNPARSABLE
    shown = {key: parts[key] for key in _SHOWN_KEYS if parts.get(key)}
    hosts = (shown.get("host") or shown.get("hostaddr") or "").split(",")
    ports = (shown.get("port") or "").split(",")
    if len(ports) != len(hosts):  # libpq: one port for every host
        ports = [ports[0]] * len(hosts)
    netloc = ",".join(
        _host(host) + (f":{quote(port, safe='')}" if port else "") for host, port in zip(hosts, ports, strict=True)
    )
    user = f"{quote(shown['user'], safe='')}@" if "user" in shown else ""
    dbname = quote(shown.get("dbname", ""), safe="")
    return f"postgresql://{user}{netloc}/{dbname}"


def _host(host: str) -> str:
    """A host as a URL writes it: an IPv6 address in brackets, a socket folder percent-encoded."""
    return f"[{host}]" if ":" in host else quote(host, safe=".-_")


def redact(text: str, url: str | None) -> str:
    """`text` (a driver's error message) without the passwords of `url`, nor any fragment of an unparsable one."""
    if not url:
        return text
    parts = _parse(url)
    if parts is None:  # libpq quotes the fragment it could not parse (missing "=" after "..."): never echo it
        return re.sub(r'"[^"]*"', '"***"', text.replace(url, "***"))
    for key in _SECRET_KEYS:
        if parts.get(key):
            text = text.replace(parts[key], "***")
    return text
