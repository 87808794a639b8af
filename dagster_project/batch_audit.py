"""The audit of a daily batch before anything is loaded from it (write-audit-publish, per day).

No Dagster and no S3 here: the file arrives as chunks of bytes, is copied once to a local file while the whole-file
checks run (size, sha256, gzip, UTF-8), then its lines are checked by ONE DuckDB scan (`screen`) with the same
CSV reader and casts that write the approved snapshot (`write_snapshots`): what dbt loads is, by construction,
what the audit approved. Only a file the scan flags is read again line by line in Python, to name its bad lines.
Memory stays bounded whatever the file's size: nothing holds the whole file.

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

import duckdb

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
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
SCAN_MEMORY_LIMIT = "200MB"  # the scans' working memory: with Python and boto3, an audit peaks near 0.4 GB
SNAPSHOT_DAYS_PER_WRITE = 64  # days per partitioned Parquet write (each open writer holds buffers)
_MAX_QUANTITY = 2**31 - 1  # the snapshot's Quantity is a 32-bit integer
# The typed columns of the snapshot: the scan checks `try_cast` of exactly these, the snapshot is written with them.
_TYPED = {
    "Sales": '{cast}("Sales" as double)',
    "Quantity": '{cast}(trim("Quantity") as integer)',
    "Discount": '{cast}("Discount" as double)',
    "Profit": '{cast}("Profit" as double)',
}


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
    newlines, printable, last = 0, False, b""
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
        printable = printable or bool(chunk.strip())
        last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        audit.problems.append(f"invalid UTF-8 at byte {audit.size - 1} (a cut character at the end of the file)")
        return audit
    audit.sha256 = digest.hexdigest()
    audit.ends_with_newline = last in (b"\n", b"\r")
    if audit.size == 0:
        audit.problems.append("the file is empty (0 bytes)")
    elif not printable:
        audit.problems.append("the file holds only blank lines")
    return audit


def check_header(audit: BatchAudit, path: Path) -> None:
    """The first record must be exactly the contract's header (quoted names and a byte-order mark are fine)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        header = next(csv.reader(file), [])
    problem = _header_problem(header)
    if problem:
        audit.problems.append(problem)


def audit_lines(audits: dict[str, BatchAudit], files: dict[str, Path]) -> None:
    """The line checks of every file that passed the whole-file checks: one DuckDB scan, then names if flagged."""
    passed = screen(files)
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


def _read_csv(paths_parameter: str, columns: str, *, lenient: bool) -> str:
    """DuckDB's reader of the batches, defined once for the scan and the snapshot: the contract's dialect."""
    rejects = ", store_rejects = true, ignore_errors = true" if lenient else ""
    return (
        f"read_csv({paths_parameter}, header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
        f"filename = true, columns = {{{columns}}}{rejects})"
    )


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def _as_text() -> str:
    return ", ".join(f"'{name}': 'varchar'" for name in EXPECTED_COLUMNS)


def _connect(spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for the scans, bounded: past SCAN_MEMORY_LIMIT it spills to `spill_dir`."""
    conn = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "memory_limit": SCAN_MEMORY_LIMIT,
            "temp_directory": str(spill_dir),
        }
    )
    # A partitioned write buffers rows per day until this many: smaller keeps a big day's memory flat.
    conn.execute("set partitioned_write_flush_threshold = 100000")
    return conn


def screen(files: dict[str, Path]) -> dict[str, tuple[int, int]]:
    """{day: (lines, duplicate lines)} of the files whose every line passes the rules; a day left out is flagged.

    One DuckDB scan reads every column as text: lines with the wrong number of fields land in DuckDB's rejects
    table, the rest are cast exactly as the snapshot casts them and checked as `_row_problems` checks them.
    """
    if not files:
        return {}
    every_column = ", ".join(f'"{name}"' for name in EXPECTED_COLUMNS)
    sales, profit = (_TYPED[name].format(cast="try_cast") for name in ("Sales", "Profit"))
    quantity, discount = (_TYPED[name].format(cast="try_cast") for name in ("Quantity", "Discount"))
    paths = [str(path) for path in files.values()]
    conn = _connect(next(iter(files.values())).parent)
    try:
        rows = conn.execute(
            f"""
            -- duplicates by a 64-bit hash of the whole line: a count for the record, collisions are negligible
            select filename, count(*) as lines, count(*) - count(distinct hash({every_column})) as duplicates,
                count(*) filter (
                    where {sales} is null or not isfinite({sales}) or {profit} is null or not isfinite({profit})
                       or not regexp_full_match(trim("Quantity"), '[0-9]+') or {quantity} is null
                       or {discount} is null or not ({discount} between 0 and 1)
                ) as broken
            from {_read_csv("?", _as_text(), lenient=True)}
            group by filename
            """,
            [paths],
        ).fetchall()
        rejected = {
            path
            for (path,) in conn.execute(
                "select distinct file_path from reject_scans s join reject_errors e using (scan_id, file_id)"
            ).fetchall()
        }
    except duckdb.Error:
        return {}  # a file the scanner cannot even read: flag them all, the line-by-line audit will say why
    finally:
        conn.close()
    by_path = {str(path): day for day, path in files.items()}
    return {
        by_path[path]: (lines, duplicates)
        for path, lines, duplicates, broken in rows
        if broken == 0 and lines > 0 and path not in rejected
    }


def write_snapshots(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """{day: Parquet file} of the approved files, typed with the casts the scan checked.

    Partitioned writes of SNAPSHOT_DAYS_PER_WRITE days at a time: one pass per group is fast, and each day's open
    Parquet writer costs memory, so a year at once would not fit in SCAN_MEMORY_LIMIT.
    """
    if not files:
        return {}
    typed = ", ".join(
        _TYPED[name].format(cast="cast") + f' as "{name}"' if name in _TYPED else f'"{name}"'
        for name in EXPECTED_COLUMNS
    )
    by_path = {str(path): day for day, path in files.items()}
    paths = list(by_path)
    conn = _connect(folder.parent)
    try:
        conn.execute("create temp table days (filename varchar, batch_day varchar)")
        conn.executemany("insert into days values (?, ?)", list(by_path.items()))
        for first in range(0, len(paths), SNAPSHOT_DAYS_PER_WRITE):
            conn.execute(
                f"copy (select {typed}, days.batch_day from {_read_csv('?', _as_text(), lenient=False)} "
                f"join days using (filename)) to '{_sql_text(str(folder))}' "  # COPY's target cannot be a parameter
                "(format parquet, partition_by (batch_day), overwrite_or_ignore)",
                [paths[first : first + SNAPSHOT_DAYS_PER_WRITE]],
            )
    finally:
        conn.close()
    snapshots = {day: list(Path(folder, f"batch_day={day}").glob("*.parquet")) for day in files}
    split = [day for day, parts in snapshots.items() if len(parts) != 1]
    if split:  # one file per day is what gets uploaded: never publish part of a day
        raise RuntimeError(f"DuckDB wrote the snapshot of {', '.join(split)} as several files")
    return {day: parts[0] for day, parts in snapshots.items()}


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
    found = []
    for name in ("Sales", "Discount", "Profit"):
        if _number(row[_INDEX[name]]) is None:
            found.append(f"{where}: {name} {row[_INDEX[name]]!r} is not a number")
    quantity = row[_INDEX["Quantity"]].strip()
    if not _WHOLE_NUMBER.fullmatch(quantity):
        found.append(f"{where}: Quantity {quantity!r} is not a whole number")
    elif int(quantity) < 0:
        found.append(f"{where}: Quantity {quantity} is negative")
    elif int(quantity) > _MAX_QUANTITY:
        found.append(f"{where}: Quantity {quantity} is too large (at most {_MAX_QUANTITY})")
    discount = _number(row[_INDEX["Discount"]])
    if discount is not None and not 0 <= discount <= 1:
        found.append(f"{where}: Discount {row[_INDEX['Discount']]} is outside [0, 1]")
    return found
