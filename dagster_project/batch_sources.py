"""Where the audit reads the daily batches from: an S3 prefix, an http(s) base URL or a local folder, each holding
`YYYY-MM-DD/stock.csv` (the run config `source_data_path` of the asset operational_data).

Each source only opens a day's file as chunks of bytes; the audit that follows (quarantine.py, batch_audit.py) is the
same whatever the source, and its snapshot always goes to S3_BUCKET. A path is validated before anything reads it,
and an error names it and says what a valid one looks like.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from dagster import Failure

from dagster_project.constants import BATCH_FILE_NAME
from dagster_project.dbt_args import MAX_SOURCE_URI_LENGTH, validate_source_uri
from dagster_project.settings import PROJECT_ROOT

CHUNK_BYTES = 1024**2
KINDS = "an s3://bucket/prefix, an https:// base URL or a local folder holding YYYY-MM-DD/stock.csv"
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_\-.=~%]+")


@dataclass
class OpenedBatch:
    """A day's file, opened: its size when the source tells it (refused above MAX_BATCH_BYTES before reading)."""

    size: int | None
    chunks: Iterator[bytes]
    close: Callable[[], None]


def _shown(path: str) -> str:
    return repr(path) if len(path) <= 80 else f"{path[:80]!r}... ({len(path):,} characters)"


def validate_source_data_path(path: str) -> str:
    """The path, normalized (no surrounding blanks, no trailing '/'), or ValueError naming it and the fix."""
    cleaned = path.strip().rstrip("/") or path.strip()
    if len(cleaned) > MAX_SOURCE_URI_LENGTH:
        raise ValueError(f"source_data_path is longer than {MAX_SOURCE_URI_LENGTH} characters: {_shown(path)}")
    if cleaned.startswith("s3://"):
        try:
            return validate_source_uri(cleaned)
        except ValueError as error:
            raise ValueError(f"source_data_path {_shown(path)}: {error}") from None
    if cleaned.startswith(("https://", "http://")):
        problem = _url_problem(cleaned)
        if problem:
            raise ValueError(f"source_data_path {_shown(path)} is not a usable base URL: {problem}")
        return cleaned
    if "://" in cleaned:
        raise ValueError(f"source_data_path {_shown(path)} has an unknown scheme: give {KINDS}")
    folder = local_folder(cleaned)
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise ValueError(f"source_data_path {_shown(path)} ({folder}) {state}: give {KINDS}")
    return cleaned


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return "it has no host"
    if parts.username or parts.password:
        return "it holds credentials (they would show in logs and metadata): serve the files without them"
    if parts.query or parts.fragment:
        return "it has a query or fragment: give the folder's URL only"
    for segment in parts.path.strip("/").split("/") if parts.path.strip("/") else []:
        if segment in ("", ".", ".."):
            return "its path must not have empty, '.' or '..' segments"
        if not _SAFE_SEGMENT.fullmatch(segment):
            return "its path may hold only letters, digits and _ - . = ~ %"
    return None


def local_folder(path: str) -> Path:
    """A local folder; relative paths are relative to the project root, as every path of settings.py."""
    folder = Path(path).expanduser()
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


class BatchSource:
    """The batches of one source. `uri(day)` names a day's file in messages, metadata and main.batch_audit."""

    def __init__(self, location: str):
        self.location = location

    def uri(self, day: str) -> str:
        return f"{self.location}/{day}/{BATCH_FILE_NAME}"

    def open(self, day: str) -> OpenedBatch | None:
        """The day's file, or None when it does not exist (a missing batch)."""
        raise NotImplementedError

    def reading(self, day: str, read: Callable):
        """`read()`, with the source's errors turned into a Failure that says what to fix."""
        return read()


class S3Source(BatchSource):
    def __init__(self, location: str, client, s3_call: Callable):
        super().__init__(location)
        self.bucket, _, self.prefix = location.removeprefix("s3://").partition("/")
        self.client, self.s3_call = client, s3_call

    def open(self, day: str) -> OpenedBatch | None:
        key = f"{self.prefix}/{day}/{BATCH_FILE_NAME}" if self.prefix else f"{day}/{BATCH_FILE_NAME}"
        response = self.s3_call(self.uri(day), self.client.get_object, Bucket=self.bucket, Key=key)
        if response is None:
            return None
        body = response["Body"]
        return OpenedBatch(response.get("ContentLength"), body.iter_chunks(CHUNK_BYTES), body.close)

    def reading(self, day: str, read: Callable):
        return self.s3_call(self.uri(day), read)


class HttpSource(BatchSource):
    def __init__(self, location: str, timeout: int):
        super().__init__(location)
        self.timeout = timeout

    def open(self, day: str) -> OpenedBatch | None:
        url = f"{self.location}/{quote(day)}/{BATCH_FILE_NAME}"
        try:
            response = urllib.request.urlopen(url, timeout=self.timeout)  # noqa: S310 (scheme checked: http(s))
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise Failure(
                description=f"{url} answered HTTP {error.code} {error.reason}. This is not a data problem: check "
                "that the server serves the batches at source_data_path, then re-run.",
                allow_retries=error.code >= 500,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise Failure(
                description=f"Could not reach {url} ({getattr(error, 'reason', error)}). Check that the server is "
                "up and source_data_path is right, then re-run the failed partitions: nothing was loaded."
            ) from None
        length = response.headers.get("Content-Length")
        chunks = iter(lambda: response.read(CHUNK_BYTES), b"")
        return OpenedBatch(int(length) if length and length.isdigit() else None, chunks, response.close)

    def reading(self, day: str, read: Callable):
        try:
            return read()
        except (TimeoutError, OSError) as error:
            raise Failure(
                description=f"Reading {self.uri(day)} failed ({error}): re-run the failed partitions once the "
                "server answers again; nothing of this day was loaded."
            ) from error


class LocalSource(BatchSource):
    def __init__(self, location: str):
        super().__init__(location)
        self.folder = local_folder(location)

    def uri(self, day: str) -> str:
        return str(self.folder / day / BATCH_FILE_NAME)

    def open(self, day: str) -> OpenedBatch | None:
        path = self.folder / day / BATCH_FILE_NAME
        if not path.is_file():
            return None
        handle = path.open("rb")
        return OpenedBatch(path.stat().st_size, iter(lambda: handle.read(CHUNK_BYTES), b""), handle.close)


def open_source(path: str, client, s3_call: Callable, timeout: int) -> BatchSource:
    """The source of a validated `source_data_path`: S3 (read with `client`), http(s) or a local folder."""
    location = validate_source_data_path(path)
    if location.startswith("s3://"):
        return S3Source(location, client, s3_call)
    if location.startswith(("https://", "http://")):
        return HttpSource(location, timeout)
    return LocalSource(location)
