"""`make start-local` / `make stop-local`: the Docker stack's twin without Docker.

The local S3 emulator with the sample data, then `dagster dev` (webserver, daemon and both code locations of
workspace.yaml) on 127.0.0.1 with the SQLite instance of DAGSTER_HOME. Ctrl-C or `make stop-local` stops it all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from dagster_project.private_files import owner_only_umask, private_dir
from dagster_project.settings import PROJECT_ROOT, dagster_home, load_settings, local_state_dir
from tooling import local_s3, pid_files, processes, sample_data


def pid_file() -> Path:
    """Where `start` keeps the pid of `dagster dev` for `stop` (in LOCAL_STATE_DIR, read now)."""
    return local_state_dir() / "dagster_dev.pid"


def prepare_data(start: dt.date | None = None, days: int = sample_data.SAMPLE_DAYS) -> None:
    """Start the local S3 when the endpoint is local, and upload the sample batches it lacks.

    By default those of `make run`: the `days` days up to the latest partition.
    """
    start = start or sample_data.latest_days(days)[0]
    settings = load_settings()
    endpoint = settings.s3_endpoint_url
    is_local = bool(endpoint) and endpoint.startswith(("http://127.0.0.1", "http://localhost"))
    if is_local and local_s3.ensure_running(endpoint):
        print(f"started the local S3 emulator at {endpoint}")
    sample_data.upload(settings, start, days, rows=sample_data.SAMPLE_ROWS, skip_existing=True)


def dagster_dev_command(port: int) -> list[str]:
    dagster = str(Path(sys.executable).parent / "dagster")
    return [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)]


def start(port: int, wait: bool = True) -> subprocess.Popen:
    owner_only_umask()  # the instance, the DuckDB file and the logs of everything started from here
    prepare_data()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home())}
    private_dir(dagster_home(), existing_too=True)
    private_dir(local_state_dir(), existing_too=True)
    # Its own process group (job control): the webserver, daemon and code servers stop together.
    process = processes.start_group(dagster_dev_command(port), env)
    pids = pid_file()
    pid_files.write(pids, process.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until(lambda: processes.webserver_ready(url), 180, f"the Dagster UI at {url}", process=process)
    except RuntimeError:
        raise SystemExit(f"dagster dev exited with code {process.returncode}; see the output above") from None
    except TimeoutError:
        stop_dagster_dev(process)
        raise SystemExit(f"the Dagster UI did not answer at {url} within 180 s") from None
    print(
        f"\nDagster UI ready: {url}\n"
        f"  First open the KPI assets: {url}/locations/chapter-2-retailer_kpis/asset-groups/retailer_kpis\n"
        f"  Chapter 1's examples:      {url}/locations/chapter-1-dagster_basics/jobs/math_job\n"
        "  Stop with Ctrl-C, or `make stop-local` from another terminal.\n",
        flush=True,
    )
    if wait:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            process.wait()
        except (KeyboardInterrupt, SystemExit):
            stop_dagster_dev(process)
        finally:
            pids.unlink(missing_ok=True)
    return process


def stop_dagster_dev(dagster_dev: subprocess.Popen | int) -> None:
    """Stop dagster dev's process group: it stops its webserver, daemon and code servers itself, or is killed."""
    left = processes.stop_group(dagster_dev)
    if left:
        print(
            f"dagster dev did not stop within {processes.STOP_TIMEOUT:.0f} s: killed\n{processes.describe(left)}",
            file=sys.stderr,
        )


def stop() -> None:
    """`make stop-local`: the dagster dev and the local S3 that start-local started (from their pid files)."""
    pids = pid_file()
    if pids.exists():
        pid = pid_files.live_pid(pids)
        if pid is None:
            print(f"{pids} names no running dagster dev started by start-local: nothing was signalled")
        else:
            stop_dagster_dev(pid)
            print("stopped dagster dev")
        pids.unlink(missing_ok=True)
    if local_s3.stop():
        print("stopped the local S3 emulator")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DAGSTER_PORT") or 3000))
    args = parser.parse_args(argv)
    if args.action == "start":
        start(args.port)
    else:
        stop()


if __name__ == "__main__":
    main()
