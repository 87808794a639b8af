"""The audit of a daily batch before anything is loaded from it (write-audit-publish, per day).

Pure functions over the file's bytes: no Dagster, no S3, no DuckDB, so every bad-batch case is unit-tested.
A day whose batch fails the audit is quarantined: it is not loaded, and whatever was delivered for it
before stays exactly as it was. Messages name the day, the S3 key, the problem and the fix.

Duplicated lines are kept: the retailer's export has no line id, and two identical lines are two sales of
the same product at the same price (the real data has them). They are counted in the audit.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

EXPECTED_COLUMNS = (
    "Ship Mode",
    "Segment",
    "Country",
    "City",
    "State",
    "Postal Code",
    "Region",
    "Category",
    "Sub-Category",
    "Sales",
    "Quantity",
    "Discount",
    "Profit",
)
HEADER = ",".join(EXPECTED_COLUMNS)
_INDEX = {name: i for i, name in enumerate(EXPECTED_COLUMNS)}
MAX_LINE_PROBLEMS = 5
GZIP_MAGIC = b"\x1f\x8b"
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class BatchAudit:
    day: str
    uri: str
    lines: int = 0
    duplicate_lines: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        """One paragraph for logs, checks and `make run`: the day, the key, every problem and the fix."""
        if self.ok:
            return f"{self.day}: {self.uri}: ok ({self.lines} lines)"
        return (
            f"{self.day}: {self.uri} was quarantined, nothing of this day was loaded or delivered: "
            + "; ".join(self.problems)
            + f". Fix the file and upload it again to {self.uri}, then re-materialize partition {self.day}."
        )


def missing(day: str, uri: str) -> BatchAudit:
    return BatchAudit(day, uri, problems=["no batch was found at that key (was the day's file uploaded?)"])


def audit_batch(day: str, uri: str, body: bytes) -> BatchAudit:
    """Check one day's file: framing, encoding, header, then every line's types and business rules."""
    audit, text = audit_framing(day, uri, body)
    return audit if text is None else _audit_lines(audit, text)


def audit_framing(day: str, uri: str, body: bytes) -> tuple[BatchAudit, str | None]:
    """The checks that need the whole file but not its lines: size, compression, encoding, header, last newline.

    Returns the audit and the decoded text (None when there is no text to read lines from).
    """
    audit = BatchAudit(day, uri)
    problems = audit.problems
    if not body:
        problems.append("the file is empty (0 bytes)")
        return audit, None
    if body.startswith(GZIP_MAGIC):
        problems.append("the file is gzip-compressed but named .csv: upload it uncompressed")
        return audit, None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        problems.append(f"invalid UTF-8 at byte {error.start} (line {line}): export the file as UTF-8")
        return audit, None
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is harmless
    if not text.strip():
        problems.append("the file holds only blank lines")
        return audit, None
    header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")]))
    header_problem = _header_problem(header)
    if header_problem:
        problems.append(header_problem)
        return audit, None
    if not text.endswith(("\n", "\r")):
        last = text.count("\n") + 1
        problems.append(f"the last line ({last}) does not end with a newline: the file looks truncated")
    return audit, text


def _audit_lines(audit: BatchAudit, text: str) -> BatchAudit:
    """Every line's field count, types and business rules, named by line number."""
    problems = audit.problems
    rows = csv.reader(io.StringIO(text, newline=""))
    next(rows)  # the header, checked by audit_framing

    # csv's C reader does the splitting; an empty list is a blank line between records, which carries no sale.
    data = [(number, row) for number, row in enumerate(rows, start=2) if row]
    audit.lines = len(data)
    if not data:
        problems.append("the file has a header but no sales lines")
        return audit
    line_problems = [] if _columns_are_valid([row for _, row in data]) else _line_problems(data)
    if line_problems:
        shown = line_problems[:MAX_LINE_PROBLEMS]
        more = len(line_problems) - len(shown)
        problems.extend(shown)
        if more:
            problems.append(f"and {more} more problem line(s)")
    audit.duplicate_lines = len(data) - len({tuple(row) for _, row in data})
    return audit


def _columns_are_valid(rows: list[list[str]]) -> bool:
    """The fast path, column at a time with numpy: True when no line breaks a rule.

    Only a file that fails here goes through the line-by-line check that names the lines; a year of batches
    is audited in a fraction of the time.
    """
    if any(len(row) != len(EXPECTED_COLUMNS) for row in rows):
        return False
    columns = list(zip(*rows, strict=True))
    try:
        numbers = {name: np.array(columns[_INDEX[name]], dtype=float) for name in ("Sales", "Discount", "Profit")}
        quantity = np.array(columns[_INDEX["Quantity"]], dtype=np.int64)
    except ValueError:
        return False
    discount = numbers["Discount"]
    return bool(
        all(np.isfinite(values).all() for values in numbers.values())
        and (quantity >= 0).all()
        and ((discount >= 0) & (discount <= 1)).all()
    )


def _line_problems(data: list[tuple[int, list[str]]]) -> list[str]:
    return [problem for number, row in data for problem in _row_problems(number, row)]


def _header_problem(header: list[str]) -> str | None:
    names = [name.strip() for name in header]
    if tuple(names) == EXPECTED_COLUMNS:
        return None
    raw = ",".join(header)
    for delimiter, label in _OTHER_DELIMITERS.items():
        if len(raw.split(delimiter)) >= len(EXPECTED_COLUMNS) // 2:
            return f"the file is {label}-separated: the batch must be comma-separated ({HEADER})"
    expected = set(EXPECTED_COLUMNS)
    if not expected & set(names):
        return f"the first line is not the header (it reads like data: {raw[:60]!r}): add the header line {HEADER}"
    missing_columns = [name for name in EXPECTED_COLUMNS if name not in names]
    extra_columns = [name for name in names if name not in expected]
    parts = []
    if missing_columns:
        parts.append("missing column(s) " + ", ".join(missing_columns))
    if extra_columns:
        parts.append("unexpected column(s) " + ", ".join(repr(name) for name in extra_columns))
    if not parts:
        parts.append("the columns are out of order")
    return "wrong header: " + " and ".join(parts) + f"; the header must be exactly {HEADER}"


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _row_problems(number: int, row: list[str]) -> list[str]:
    if len(row) != len(EXPECTED_COLUMNS):
        return [f"line {number} has {len(row)} fields instead of {len(EXPECTED_COLUMNS)}"]
    found = []
    for name in ("Sales", "Discount", "Profit"):
        if _number(row[_INDEX[name]]) is None:
            found.append(f"line {number}: {name} {row[_INDEX[name]]!r} is not a number")
    quantity = row[_INDEX["Quantity"]].strip()
    if not quantity.lstrip("-").isdigit():
        found.append(f"line {number}: Quantity {quantity!r} is not a whole number")
    elif int(quantity) < 0:
        found.append(f"line {number}: Quantity {quantity} is negative")
    discount = _number(row[_INDEX["Discount"]])
    if discount is not None and not 0 <= discount <= 1:
        found.append(f"line {number}: Discount {row[_INDEX['Discount']]} is outside [0, 1]")
    return found
