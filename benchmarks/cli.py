"""The command line of `make bench` (`python -m benchmarks`): parse the sizes, start the bench's own S3 and
PostgreSQL, measure, print the tables and the targets, write the results JSON and print its path last."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import benchmarks
from benchmarks.config import RESULTS_DIR, SIZES, BenchFailure, parse_sizes, preflight, say
from benchmarks.measure import machine_description
from benchmarks.report import build_results, format_table, format_targets, missing_keys, results_file_name
from benchmarks.runner import Bench
from benchmarks.startup import startup
from tooling import local_s3
from tooling.local_postgres import PostgresServer, find_bindir
from tooling.processes import free_port, stop_group


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=benchmarks.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="small", help="small (default), year, 10m, or a comma-separated list")
    parser.add_argument("--anchor-b-runs", type=int, default=5, help="single-day runs for anchor B (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the cheap measurements (median; default 3)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write the JSON")
    parser.add_argument("--keep-work-dir", action="store_true", help="keep the temporary folder (logs, DuckDB)")
    args = parser.parse_args(argv)
    try:
        names = parse_sizes(args.size)
    except ValueError as error:
        parser.error(str(error))
    if args.anchor_b_runs < 1 or args.repeats < 1:
        parser.error("--anchor-b-runs and --repeats must be at least 1")

    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the processes the bench started are stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    started = dt.datetime.now(dt.UTC)
    work = Path(tempfile.mkdtemp(prefix="dagster-bench-"))
    endpoint = f"http://127.0.0.1:{free_port()}"
    say(f"bench {', '.join(names)}: work folder {work}, local S3 at {endpoint}")
    moto = postgres = None
    failed = True
    try:
        preflight()
        machine = machine_description()
        (work / "logs").mkdir(parents=True, exist_ok=True)
        moto = local_s3.start_server(endpoint, log_path=work / "logs" / "moto.log")
        if bindir := find_bindir():
            postgres = PostgresServer(free_port(), bindir).start()
            say(f"PostgreSQL {bindir.parent.name} for the Postgres-backed instance on port {postgres.port}")
        else:
            say("no PostgreSQL server binaries (apt-get install postgresql): the Postgres backfill is not measured")
        bench = Bench(
            work=work, endpoint=endpoint, repeats=args.repeats, anchor_b_runs=args.anchor_b_runs, postgres=postgres
        )
        startup_figures = startup(work, endpoint, args.repeats)
        sizes = {name: bench.size(SIZES[name]) for name in names}
        machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        document = build_results(machine, sizes, startup_figures, [sys.executable, *sys.argv], started.isoformat())
        if missing := missing_keys(document):
            raise BenchFailure(f"the results lack {missing}")
        failed = False
    except BenchFailure as error:
        say(f"\nBENCH FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nBENCH INTERRUPTED: no results written")
        return 130
    finally:
        if failed:
            say(f"Logs and data kept in {work}")
        if postgres is not None:
            postgres.stop()
        if moto is not None:
            stop_group(moto, timeout=20)
        if not failed and not args.keep_work_dir:
            shutil.rmtree(work, ignore_errors=True)

    say("")
    say(format_table(document["sizes"]))
    say("")
    say(
        f"code location chapter-2: {startup_figures['code_location_load_s']:.2f} s import + Definitions, "
        f"{startup_figures['code_location_process_s']:.2f} s whole process (median of {args.repeats}; "
        f"manifest untouched: {startup_figures['code_location_manifest_untouched']})"
    )
    say(
        f"local UI: /server_info answered after {startup_figures['ui_ready_s']:.1f} s, "
        f"code location loaded after {startup_figures['ui_location_loaded_s']:.1f} s"
    )
    if "small" in names:
        say("(small is not a target size: its ratios are for information; the targets are for year and 10m)")
    say("\ntargets (issues #7, #14; benchmarks/README.md explains each MISS):")
    say(format_targets(document["targets"]))
    if args.keep_work_dir:
        say(f"\nwork folder kept: {work}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / results_file_name(names, started)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
    say(str(path))
    return 0
