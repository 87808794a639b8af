"""The catalogue of bad daily batches: how each is made from a good one, and what the audit must say."""

import gzip

from dagster_project.batch_audit import HEADER


def _lines(good: bytes) -> list[bytes]:
    return good.splitlines(keepends=True)


def _replace_field(good: bytes, column: int, value: bytes, line: int = 1) -> bytes:
    lines = _lines(good)
    fields = lines[line].rstrip(b"\n").split(b",")
    fields[column] = value
    lines[line] = b",".join(fields) + b"\n"
    return b"".join(lines)


# name: (make the bad file from a good one (None: delete it), fragment the quarantine message must contain)
BAD_BATCHES = {
    "missing_file": (None, "no batch was found at that key"),
    "blank_lines": (lambda good: b"\n\n  \n\n", "only blank lines"),
    "header_only": (lambda good: _lines(good)[0], "a header but no sales lines"),
    "no_header": (lambda good: b"".join(_lines(good)[1:]), "the first line is not the header"),
    "semicolons": (lambda good: good.replace(b",", b";"), "semicolon-separated"),
    "missing_column": (
        lambda good: b"".join(b",".join(line.split(b",")[:-1]) + b"\n" for line in _lines(good)),
        "missing column(s) Profit",
    ),
    "renamed_column": (
        lambda good: good.replace(b"Quantity", b"Units", 1),
        "missing column(s) Quantity and unexpected column(s) 'Units'",
    ),
    "extra_column": (
        lambda good: b"".join(line.rstrip(b"\n") + b",x\n" for line in _lines(good)).replace(
            b"Profit,x", b"Profit,Store", 1
        ),
        "unexpected column(s) 'Store'",
    ),
    "non_numeric_sales": (lambda good: _replace_field(good, 9, b"12.5x"), "line 2: Sales '12.5x' is not a number"),
    "non_numeric_quantity": (lambda good: _replace_field(good, 10, b"three"), "Quantity 'three' is not a whole number"),
    "negative_quantity": (lambda good: _replace_field(good, 10, b"-2", line=3), "line 4: Quantity -2 is negative"),
    "discount_out_of_range": (lambda good: _replace_field(good, 11, b"1.5", line=2), "Discount 1.5 is outside [0, 1]"),
    "invalid_utf8": (lambda good: good.replace(b"Consumer", b"Consum\xff\xfe", 1), "invalid UTF-8"),
    # Cut in the middle of the last line: it lacks fields. (A last line that is whole but has no line break is fine.)
    "truncated_last_line": (
        lambda good: good[: len(good) - len(_lines(good)[-1]) // 2],
        "has no line break: the file looks truncated",
    ),
    "huge_quantity": (lambda good: _replace_field(good, 10, b"99999999999"), "Quantity 99999999999 is too large"),
    # A quote opened and never closed swallows the rest of the file into one field.
    "unterminated_quote": (
        lambda good: b"".join(_lines(good)[:2]) + b'"' + b"".join(_lines(good)[2:]),
        "a quote opened on line 3 may never be closed",
    ),
    # An opening quote never closed on the first line: the "header" runs past the CSV reader's field limit.
    "unreadable_header": (lambda good: b'"' + b"x" * 200_000 + b"\n" + good, "cannot be read as the header"),
    "zero_bytes": (lambda good: b"", "the file is empty (0 bytes)"),
    "gzip": (lambda good: gzip.compress(good, mtime=0), "gzip-compressed"),
}

assert HEADER  # the catalogue is built on the contract header
