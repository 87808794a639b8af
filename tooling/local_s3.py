"""A real S3 endpoint on 127.0.0.1 without Docker: moto's server, started as its own process.

LocalStack (docker-compose.yml) is the production-like emulator; this one serves tests, `make run` and
`make start-local`. It speaks the same HTTP API, starts in a fraction of a second and keeps data in memory.

    python -m tooling.local_s3 start   # idempotent: does nothing if the endpoint already answers
    python -m tooling.local_s3 stop
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from dagster_project.settings import load_settings, local_state_dir
from tooling import pid_files, processes

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


def pid_file() -> Path:
    """Where `ensure_running` keeps the pid of the emulator it started (in LOCAL_STATE_DIR, read now)."""
    return local_state_dir() / "local_s3.pid"


# A hang guard, not an expectation: moto starts in a few seconds, but a loaded machine took over 20 (its death
# is noticed at once).
START_TIMEOUT = 120.0


def start_server(endpoint_url: str, log_path: Path | None = None) -> subprocess.Popen:
    """Start moto's S3 server for `endpoint_url` (http://127.0.0.1:PORT) and wait until it answers."""
    parsed = urlparse(endpoint_url)
    if parsed.scheme != "http" or not parsed.port:
        raise ValueError(f"the local S3 emulator needs an http://host:port endpoint, got {endpoint_url!r}")
    command = [sys.executable, "-m", "moto.server", "-H", parsed.hostname, "-p", str(parsed.port)]
    # Its own process group, so that `stop` (or the test that started it) ends it whatever it started.
    process = processes.start_group(command, log_path=log_path or Path(os.devnull))
    try:
        processes.wait_until(
            lambda: processes.http_answers(endpoint_url),
            START_TIMEOUT,
            f"the S3 emulator at {endpoint_url}",
            interval=0.05,
            process=process,
        )
    except Exception:
        processes.stop_group(process, timeout=0)
        raise
    return process


def ensure_running(endpoint_url: str) -> bool:
    """Start a detached emulator unless something already answers; True if this call started it."""
    if processes.http_answers(endpoint_url):
        return False
    state_dir = local_state_dir()
    state_dir.mkdir(parents=True, exist_ok=True)
    process = start_server(endpoint_url, log_path=state_dir / "local_s3.log")
    pid_files.write(pid_file(), process.pid)
    return True


def stop() -> bool:
    """Stop the emulator that `ensure_running` started; True if one was running."""
    path = pid_file()
    if not path.exists():
        return False
    pid = pid_files.live_pid(path)  # None: the emulator is gone, or the pid is another program's by now
    path.unlink()
    if pid is None:
        return False
    processes.stop_group(pid)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    endpoint = load_settings().s3_endpoint_url or DEFAULT_ENDPOINT
    if args.action == "start":
        started = ensure_running(endpoint)
        print(f"local S3 {'started' if started else 'already answering'} at {endpoint}")
    elif args.action == "stop":
        print("local S3 stopped" if stop() else "no local S3 started by this project is running")
    else:
        answering = processes.http_answers(endpoint)
        print(f"{endpoint}: {'answering' if answering else 'not answering'}")
        sys.exit(0 if answering else 1)


if __name__ == "__main__":
    main()
