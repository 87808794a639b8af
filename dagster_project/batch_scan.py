"""The DuckDB side of the audit: the line scan and the snapshots, with ONE definition of the CSV reader and casts.

`screen` checks every line of many files in one scan; `write_snapshots` writes the approved files as typed Parquet
with the very same reader and casts, so the snapshot dbt loads is, by construction, what the scan approved. Both
run in a bounded in-memory DuckDB that spills to the audit's temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.batch_audit import EXPECTED_COLUMNS

SCAN_MEMORY_LIMIT = "200MB"  # the scans' working memory: with Python and boto3, an audit peaks near 0.4 GB
SNAPSHOT_DAYS_PER_WRITE = 64  # days per partitioned Parquet write (each open writer holds buffers)
# The typed columns of the snapshot: the scan checks `try_cast` of exactly these, the snapshot is written with them.
_TYPED = {
    "Sales": '{cast}("Sales" as double)',
    "Quantity": '{cast}(trim("Quantity") as integer)',
    "Discount": '{cast}("Discount" as double)',
    "Profit": '{cast}("Profit" as double)',
}


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
