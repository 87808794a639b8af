"""The audit of a daily batch before anything is loaded from it (write-audit-publish, per day).

No Dagster and no S3 here: the file arrives as chunks of bytes, is copied once to a local file while the whole-file
checks run (size, sha256, gzip, UTF-8), then its lines are checked by ONE DuckDB scan (batch_scan.py's `screen`)
with the same CSV reader and casts that write the approved snapshot (`write_snapshots`): what dbt loads is, by
construction, what the audit approved. Only a file the scan flags is read again line by line in Python, to name
its bad lines. Memory stays bounded whatever the file's size: nothing holds the whole file.

A day whose batch fails the audit is quarantined: it is not loaded, and whatever was delivered for it before
stays exactly as it was. Messages name the day, the S3 key, the problem and the fix.

Duplicated lines are kept: the retailer's export has no line id, and two identical lines are two sales of
the same product at the same price (the real data has them). They are counted in the audit.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import math
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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
WHOLE_NUMBER = "-?[0-9]+"  # the same pattern for Python's re and DuckDB's regexp_full_match


@dataclass(frozen=True)
class ColumnRule:
    """A typed column of the contract: how the snapshot casts it and the range its values must fall in.

    These are the audit's line rules, defined once: batch_scan.py renders them as SQL for the one DuckDB scan (and
    the snapshot's casts); `_row_problems` checks them in Python only to name the lines of a file the scan flagged.
    """

    name: str
    whole: bool  # a whole number (a 32-bit integer in the snapshot), else a finite double
    low: float | None = None
    high: float | None = None

    def problems(self, where: str, value: str) -> list[str]:
        if self.whole:
            value = value.strip()
            if not re.fullmatch(WHOLE_NUMBER, value):
                return [f"{where}: {self.name} {value!r} is not a whole number"]
            number: float | None = int(value)
        elif (number := _number(value)) is None:
            return [f"{where}: {self.name} {value!r} is not a number"]
        below = self.low is not None and number < self.low
        if not below and (self.high is None or number <= self.high):
            return []
        if not self.whole:
            return [f"{where}: {self.name} {value} is outside [{self.low}, {self.high}]"]
        if below:
            return [f"{where}: {self.name} {value} is negative"]  # the whole-number columns start at 0
        return [f"{where}: {self.name} {value} is too large (at most {self.high})"]


LINE_RULES = (
    ColumnRule("Sales", whole=False),
    ColumnRule("Quantity", whole=True, low=0, high=2**31 - 1),  # the snapshot's Quantity is a 32-bit integer
    ColumnRule("Discount", whole=False, low=0, high=1),
    ColumnRule("Profit", whole=False),
)


@dataclass
class BatchAudit:
    day: str
    uri: str
    lines: int = 0
    duplicate_lines: int = 0
    problems: list[str] = field(default_factory=list)
    size: int = 0  # bytes read
    sha256: str | None = None  # of the bytes audited (the whole file when it passed)
    ends_with_newline: bool = True
    odd_quotes: bool = False  # an odd number of '"': a quote is never closed
    snapshot_uri: str | None = None  # where the approved rows are, set once uploaded

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


def too_large(day: str, uri: str, size: int, max_bytes: int) -> BatchAudit:
    return BatchAudit(
        day,
        uri,
        size=size,
        problems=[
            f"the file is {size:,} bytes, above the maximum batch size of {max_bytes:,} bytes (MAX_BATCH_BYTES): "
            "split the day's sales into a smaller file, or raise MAX_BATCH_BYTES if the machine has the room"
        ],
    )


def copy_checked(day: str, uri: str, chunks: Iterable[bytes], out: BinaryIO, max_bytes: int) -> BatchAudit:
    """Copy the file's chunks to `out` once, running the checks on the whole file as they pass.

    Size (stops above `max_bytes`), sha256, gzip, UTF-8 (incrementally: a character split across chunks is fine),
    and whether there is anything but whitespace. Memory: one chunk.
    """
    audit = BatchAudit(day, uri)
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
    newlines, quotes, printable, last = 0, 0, False, b""
    for chunk in chunks:
        if not chunk:
            continue
        if audit.size == 0 and chunk.startswith(GZIP_MAGIC):
            audit.problems.append("the file is gzip-compressed but named .csv: upload it uncompressed")
            return audit
        if audit.size + len(chunk) > max_bytes:
            return too_large(day, uri, audit.size + len(chunk), max_bytes)
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            line = newlines + chunk[: error.start].count(b"\n") + 1
            audit.problems.append(
                f"invalid UTF-8 at byte {audit.size + error.start} (line {line}): export the file as UTF-8"
            )
            return audit
        digest.update(chunk)
        out.write(chunk)
        audit.size += len(chunk)
        newlines += chunk.count(b"\n")
        quotes += chunk.count(b'"')
        printable = printable or bool(chunk.strip())
        last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        audit.problems.append(f"invalid UTF-8 at byte {audit.size - 1} (a cut character at the end of the file)")
        return audit
    audit.sha256 = digest.hexdigest()
    audit.ends_with_newline = last in (b"\n", b"\r")
    audit.odd_quotes = quotes % 2 == 1
    if audit.size == 0:
        audit.problems.append("the file is empty (0 bytes)")
    elif not printable:
        audit.problems.append("the file holds only blank lines")
    return audit


def check_header(audit: BatchAudit, path: Path) -> None:
    """The first record must be exactly the contract's header (quoted names and a byte-order mark are fine)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        try:
            header = next(csv.reader(file), [])
        except csv.Error as error:  # e.g. a first "line" past csv's field size limit
            audit.problems.append(f"the first line cannot be read as the header ({error}): it must be {HEADER}")
            return
    problem = _header_problem(header)
    if problem:
        audit.problems.append(problem)


def audit_lines(audits: dict[str, BatchAudit], files: dict[str, Path]) -> None:
    """The line checks of every file that passed the whole-file checks: one DuckDB scan, then names if flagged."""
    from dagster_project.batch_scan import screen  # batch_scan reads this module's contract

    passed = screen({day: path for day, path in files.items() if not audits[day].odd_quotes})
    for day, path in files.items():
        if day in passed:
            audits[day].lines, audits[day].duplicate_lines = passed[day]
        else:
            name_line_problems(audits[day], path)


def audit_batch(day: str, uri: str, body: bytes, max_bytes: int = 2**62) -> BatchAudit:
    """The whole audit of one file held in memory (tests, small tools): the same steps as a window's."""
    with tempfile.TemporaryDirectory(prefix="batch-audit-") as folder:
        path = Path(folder, f"{day}.csv")
        with path.open("wb") as out:
            audit = copy_checked(day, uri, [body], out, max_bytes)
        if audit.ok:
            check_header(audit, path)
        if audit.ok:
            audit_lines({day: audit}, {day: path})
    return audit


def audit_framing(day: str, uri: str, body: bytes) -> tuple[BatchAudit, str | None]:
    """The checks before the lines (whole file, header); returns the audit and the text when they passed."""
    with tempfile.TemporaryDirectory(prefix="batch-audit-") as folder:
        path = Path(folder, f"{day}.csv")
        with path.open("wb") as out:
            audit = copy_checked(day, uri, [body], out, 2**62)
        if audit.ok:
            check_header(audit, path)
        return audit, (body.decode("utf-8") if audit.ok else None)


def name_line_problems(audit: BatchAudit, path: Path) -> None:
    """Read a flagged file line by line (streamed) to name its bad lines; at most MAX_LINE_PROBLEMS are listed."""
    shown: list[str] = []
    more, lines, last_number, last_bad = 0, 0, 1, False
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = csv.reader(file)
        try:
            next(rows, None)  # the header, checked by check_header
            first_line = rows.line_num + 1
            for row in rows:
                where = (first_line, rows.line_num)
                first_line, last_number = rows.line_num + 1, rows.line_num
                if not row:
                    continue  # a blank line between records carries no sale
                lines += 1
                problems = _row_problems(*where, row)
                room = max(0, MAX_LINE_PROBLEMS - len(shown))
                shown.extend(problems[:room])
                more += len(problems[room:])
                last_bad = bool(problems)
        except csv.Error as error:  # e.g. a field past csv's size limit: an unterminated quote
            shown.append(f"line {rows.line_num}: the CSV cannot be read ({error})")
            last_bad = True
    audit.lines = lines
    if not lines and not shown:
        audit.problems.append("the file has a header but no sales lines")
        return
    audit.problems.extend(shown)
    if more:
        audit.problems.append(f"and {more} more problem line(s)")
    if last_bad and not audit.ends_with_newline:
        audit.problems.append(f"the last line ({last_number}) has no line break: the file looks truncated")
    if not audit.problems and audit.odd_quotes:
        audit.problems.append('a quote (") is opened and never closed: the file has an odd number of quotes')
    if not audit.problems:
        # The scan flagged what Python's reader accepts (an exotic number format): the scan's verdict stands,
        # since the snapshot is written by the same scanner.
        audit.problems.append("DuckDB's CSV reader cannot read every line with the contract's types")


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


def _row_problems(first: int, last: int, row: list[str]) -> list[str]:
    """The problems of the record on lines first..last (more than one line when a quoted field holds line breaks)."""
    where = f"line {last}" if first == last else f"the line starting at line {first}"
    if len(row) != len(EXPECTED_COLUMNS):
        unclosed = f" (a quote opened on line {first} may never be closed)" if first != last else ""
        return [f"{where} has {len(row)} fields instead of {len(EXPECTED_COLUMNS)}{unclosed}"]
    return [problem for rule in LINE_RULES for problem in rule.problems(where, row[_INDEX[rule.name]])]
