"""Where chapter 1 keeps its files, and the helpers that create the sample stock files.

Every example that touches the disk goes through :class:`LocalDataDir`, so a test (or you) can point
the whole chapter at another folder without editing code: pass ``base_dir`` to the resource, or
export ``CHAPTER_1_DATA_DIR`` before starting Dagster.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from tooling.sample_batches import batch_csv

# Read at call time, not import time, so a test can monkeypatch the variable.
DATA_DIR_ENV_VAR = "CHAPTER_1_DATA_DIR"


def default_data_root() -> Path:
    """``$CHAPTER_1_DATA_DIR`` if set, else a folder under the system temp dir (not under DAGSTER_HOME)."""
    configured = os.environ.get(DATA_DIR_ENV_VAR)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "dagster_workshop" / "chapter_1"


def rows_for_day(day: dt.date) -> int:
    """Row count of a day's stock file: differs per day so two partitions report different counts."""
    return 80 + day.day


def ensure_stock_file(folder: Path, day: dt.date) -> Path:
    """Return the stock file of ``day`` in ``folder``, generating it first if it does not exist yet.

    In a real project the file would be dropped there by an upstream system; here the workshop's
    deterministic generator stands in for it, so the same day always gives the same file.
    """
    path = folder / f"{day.isoformat()}.csv"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(batch_csv(day, rows=rows_for_day(day)))
    return path


def read_stock_rows(path: Path) -> list[dict[str, str]]:
    """Parse a stock CSV into one dict per row (header names as keys)."""
    return list(csv.DictReader(io.StringIO(path.read_text())))


class LocalDataDir(ConfigurableResource):
    """The root folder of chapter 1's files (stock files, the sensor's inbox, reports).

    ``base_dir`` left empty means "decide when the run starts" (see :func:`default_data_root`).
    """

    base_dir: str = Field(
        default="",
        description=f"Root folder; empty means ${DATA_DIR_ENV_VAR} or <tmp>/dagster_workshop/chapter_1.",
    )

    def root(self) -> Path:
        return Path(self.base_dir) if self.base_dir else default_data_root()

    def folder(self, *parts: str) -> Path:
        """A sub-folder of the root, created on first use."""
        path = self.root().joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def main(argv: list[str] | None = None) -> None:
    """Write the stock files of a range of days into a sub-folder of the data dir, as an upstream system would."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", help="sub-folder of the data dir, e.g. stock_files or inbox")
    parser.add_argument("first_day", type=dt.date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("last_day", type=dt.date.fromisoformat, nargs="?", help="YYYY-MM-DD (default: first_day)")
    args = parser.parse_args(argv)
    folder = LocalDataDir().folder(args.folder)
    day = args.first_day
    while day <= (args.last_day or args.first_day):
        print(ensure_stock_file(folder, day))
        day += dt.timedelta(days=1)


if __name__ == "__main__":
    main()
