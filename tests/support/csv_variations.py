"""The catalogue of well-formed CSV variations a daily batch may come in, each made from the plain file.

RFC 4180 allows them and common exporters write them (spreadsheets, pandas, DuckDB or PostgreSQL COPY). Each
must be accepted and computed exactly as the plain file: docs/reliability.md lists them, and
test_csv_variations.py runs each end to end.
"""

import csv
import io

from dagster_project.batch_audit import EXPECTED_COLUMNS


def _rows(plain: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(plain.decode(), newline="")))


def _write(rows: list[list[str]], **options) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, **options).writerows(rows)
    return out.getvalue().encode()


def _quote_text_columns(plain: bytes) -> bytes:
    """Quotes around the text columns only (spreadsheets' "quote text cells", PostgreSQL's FORCE_QUOTE)."""
    rows = _rows(plain)
    text = [i for i, name in enumerate(EXPECTED_COLUMNS) if name not in ("Sales", "Quantity", "Discount", "Profit")]
    lines = [
        ",".join(f'"{v}"' if number == 0 or i in text else v for i, v in enumerate(row))
        for number, row in enumerate(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _embedded(plain: bytes, value: str) -> bytes:
    """The first line's City holds a comma, a quote or a line break: quoted, with quotes doubled (RFC 4180)."""
    rows = _rows(plain)
    rows[1][EXPECTED_COLUMNS.index("City")] = value
    return _write(rows, lineterminator="\n")


# name: (make the variation from the plain file, who writes it)
CSV_VARIATIONS = {
    "no_final_line_break": (lambda plain: plain.rstrip(b"\n"), "editors, many exporters"),
    "crlf": (lambda plain: plain.replace(b"\n", b"\r\n"), "Excel, LibreOffice, Python csv (RFC 4180's own)"),
    "crlf_no_final_line_break": (lambda plain: plain.rstrip(b"\n").replace(b"\n", b"\r\n"), "Excel"),
    "utf8_bom": (lambda plain: b"\xef\xbb\xbf" + plain, "Excel 'CSV UTF-8'"),
    "utf8_bom_crlf": (lambda plain: b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n"), "Excel on Windows"),
    "all_fields_quoted": (
        lambda plain: _write(_rows(plain), quoting=csv.QUOTE_ALL, lineterminator="\n"),
        "pandas quoting=QUOTE_ALL, DuckDB COPY (FORCE_QUOTE *)",
    ),
    "text_fields_quoted": (_quote_text_columns, "spreadsheets, PostgreSQL COPY (FORCE_QUOTE)"),
    "embedded_comma": (lambda plain: _embedded(plain, "Washington, D.C."), "any exporter: the field is quoted"),
    "embedded_quote": (lambda plain: _embedded(plain, 'The "Big" Apple'), "any exporter: quotes doubled"),
    "embedded_line_break": (lambda plain: _embedded(plain, "New York\nCity"), "spreadsheets (a cell with Alt+Enter)"),
    "trailing_blank_line": (lambda plain: plain + b"\n", "hand edits, some exporters"),
    "cr_line_endings": (lambda plain: plain.replace(b"\n", b"\r"), "old Mac spreadsheets ('CSV (Macintosh)')"),
}
