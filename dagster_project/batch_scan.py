"""The DuckDB side of the audit: the line scan and the snapshots, with ONE definition of the CSV reader and casts.

`screen` checks every line of many files in one scan; `write_snapshots` writes the approved files as typed Parquet
with the very same reader and casts, so the snapshot dbt loads is, by construction, what the scan approved. Both
run in a bounded in-memory DuckDB that spills to the audit's temporary folder.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from dagster_project.batch_audit import EXPECTED_COLUMNS, LINE_RULES, WHOLE_NUMBER, ColumnRule

SCAN_MEMORY_LIMIT = "200MB"  # the scans' working memory: with Python and boto3, an audit peaks near 0.3 GB
SNAPSHOT_DAYS_PER_WRITE = 64  # days per partitioned Parquet write (each open writer holds buffers)


def _typed(rule: ColumnRule, cast: str) -> str:
    """A typed column of the snapshot: the scan checks its `try_cast`, the snapshot is written with its `cast`."""
    if rule.whole:
        return f'{cast}(trim("{rule.name}") as integer)'
    return f'{cast}("{rule.name}" as double)'


def _breaks(rule: ColumnRule) -> str:
    """SQL that is true for a line breaking the rule: ColumnRule.problems, for the scan."""
    value = _typed(rule, "try_cast")
    checks = [f"{value} is null"]
    if rule.whole:
        checks.insert(0, f"not regexp_full_match(trim(\"{rule.name}\"), '{WHOLE_NUMBER}')")
    else:
        checks.append(f"not isfinite({value})")
    if rule.low is not None:
        checks.append(f"{value} < {rule.low}")
    if rule.high is not None:
        checks.append(f"{value} > {rule.high}")
    return " or ".join(checks)


def _read_csv(paths_parameter: str, columns: str) -> str:
    """DuckDB's strict reader of the batches, defined once for the scan and the snapshot: the contract's dialect."""
    return (
        f"read_csv({paths_parameter}, header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
        f"filename = true, columns = {{{columns}}})"
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
    # A partitioned write buffers rows per day until this many, partly outside memory_limit: at 100,000 a 300 MB
    # day peaked at 0.37-0.58 GB, at 20,000 at 0.22-0.26 GB, in the same time (a year of small days: unchanged).
    conn.execute("set partitioned_write_flush_threshold = 20000")
    return conn


def screen(files: dict[str, Path]) -> dict[str, tuple[int, int]]:
    """{day: (lines, duplicate lines)} of the files whose every line passes the rules; a day left out is flagged.

    One strict DuckDB scan of all the files (the reader that writes the snapshots) reads every column as text and
    checks batch_audit.LINE_RULES with the casts the snapshot makes. A file the reader refuses
    (wrong field count, unclosed quote) fails the whole scan: then each file is scanned alone to find which.
    DuckDB 1.5's multi-file scan stops silently at a quote left open at the end of a file: audit_lines keeps such
    files (an odd number of quote characters) out of it.
    """
    if not files:
        return {}
    spill_dir = next(iter(files.values())).parent
    try:
        return _scan(files, spill_dir)
    except duckdb.Error:
        if len(files) == 1:
            return {}
    passed: dict[str, tuple[int, int]] = {}
    for day, path in files.items():
        with contextlib.suppress(duckdb.Error):  # a file the reader refuses is flagged: the line audit says why
            passed |= _scan({day: path}, spill_dir)
    return passed


def _scan(files: dict[str, Path], spill_dir: Path) -> dict[str, tuple[int, int]]:
    every_column = ", ".join(f'"{name}"' for name in EXPECTED_COLUMNS)
    broken = " or ".join(f"({_breaks(rule)})" for rule in LINE_RULES)
    conn = _connect(spill_dir)
    try:
        rows = conn.execute(
            f"""
            -- duplicates by a 64-bit hash of the whole line: a count for the record, collisions are negligible
            select filename, count(*) as lines, count(*) - count(distinct hash({every_column})) as duplicates,
                count(*) filter (where {broken}) as broken
            from {_read_csv("?", _as_text())}
            group by filename
            """,
            [[str(path) for path in files.values()]],
        ).fetchall()
    finally:
        conn.close()
    by_path = {str(path): day for day, path in files.items()}
    return {by_path[path]: (lines, duplicates) for path, lines, duplicates, broken in rows if broken == 0 and lines > 0}


def write_snapshots(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """{day: Parquet file} of the approved files, typed with the casts the scan checked.

    Partitioned writes of SNAPSHOT_DAYS_PER_WRITE days at a time: one pass per group is fast, and each day's open
    Parquet writer costs memory, so a year at once would not fit in SCAN_MEMORY_LIMIT.
    """
    if not files:
        return {}
    rules = {rule.name: rule for rule in LINE_RULES}
    typed = ", ".join(
        f'{_typed(rules[name], "cast")} as "{name}"' if name in rules else f'"{name}"' for name in EXPECTED_COLUMNS
    )
    by_path = {str(path): day for day, path in files.items()}
    paths = list(by_path)
    conn = _connect(folder.parent)
    try:
        conn.execute("create temp table days (filename varchar, batch_day varchar)")
        conn.executemany("insert into days values (?, ?)", list(by_path.items()))
        for first in range(0, len(paths), SNAPSHOT_DAYS_PER_WRITE):
            conn.execute(
                f"copy (select {typed}, days.batch_day from {_read_csv('?', _as_text())} "
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
