"""`make start-local` / `make stop-local`: the Docker stack's twin without Docker.

The local S3 emulator with the sample data, then `dagster dev` (webserver, daemon and both code locations of
workspace.yaml) on 127.0.0.1 with the SQLite instance of DAGSTER_HOME. Ctrl-C or `make stop-local` stops it all.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dagster_project.private_files import owner_only_umask, private_dir
from dagster_project.settings import PROJECT_ROOT, dagster_home, load_settings, local_state_dir
from tooling import local_s3, pid_files, sample_data


def pid_file() -> Path:
    """Where `start` keeps the pid of `dagster dev` for `stop` (in LOCAL_STATE_DIR, read now)."""
    return local_state_dir() / "dagster_dev.pid"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def prepare_data(start: dt.date = sample_data.SAMPLE_START, days: int = sample_data.SAMPLE_DAYS) -> None:
    """Start the local S3 when the endpoint is local, and upload the sample batches it lacks."""
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
    process = subprocess.Popen(
        dagster_dev_command(port), cwd=PROJECT_ROOT, env=env, start_new_session=True, preexec_fn=_default_interrupts
    )
    pids = pid_file()
    pid_files.write(pids, process.pid)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while not server_ready(url):
        if process.poll() is not None:
            raise SystemExit(f"dagster dev exited with code {process.returncode}; see the output above")
        if time.monotonic() > deadline:
            stop_group(process.pid)
            raise SystemExit(f"the Dagster UI did not answer at {url} within 180 s")
        time.sleep(0.5)
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
            stop_group(process.pid)
        finally:
            pids.unlink(missing_ok=True)
    return process


def _default_interrupts() -> None:
    """In dagster dev, before it starts: Ctrl-C's default action, even when this process was started ignoring it.

    A job a script starts in the background (`make start-local &`, CI) ignores SIGINT, children inherit that, and
    Dagster maps SIGTERM to SIGINT's handler: dagster dev would then ignore SIGTERM from `make stop-local` too.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _reap(pid: int) -> None:
    """Collect `pid`'s exit status if it is this process's child (the Ctrl-C path of `start`).

    An ended process stays in its group as a zombie until its parent collects it, and `killpg(pgid, 0)` still
    finds a zombie: without this, Ctrl-C always waited the full timeout, then sent SIGKILL.
    """
    with contextlib.suppress(ChildProcessError):  # not our child (`make stop-local`): its parent collects it
        os.waitpid(pid, os.WNOHANG)


def stop_group(pid: int, timeout: float = 30) -> bool:
    """SIGTERM to the process group `pid` leads; True when its leader had to be killed after `timeout`.

    The leader (dagster dev) stops its webserver, daemon and code servers itself, so it is the one to wait for.
    Whatever is left of the group once it is gone is orphaned, or a zombie no init process collects (containers
    without an init), and is killed outright instead of being waited for.
    """
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            print(f"dagster dev (pid {pid}) did not stop within {timeout:.0f} s: killed", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _reap(pid)
            return True
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return False


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop() -> None:
    pids = pid_file()
    if pids.exists():
        pid = pid_files.live_pid(pids)
        if pid is None:
            print(f"{pids} names no running dagster dev started by start-local: nothing was signalled")
        else:
            stop_group(pid)
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
