"""The workshop's hands-on mode: `make check ASSIGNMENT=<id>` and `make solution ASSIGNMENT=<id>`.

One registry (EXERCISES) says, per exercise id, what its check runs (pytest node ids), what to tell the attendee
when it fails, and where its reference solution is. A check prints one plain block (what is missing or wrong, from
the checks' assertion messages, never a traceback) and exits 1; a passing check prints one OK line.

Chapter 1's ids are `ch1-<section>`, and a solution is a patch against the starting code: `make solution` applies
it with git and never loses work (a file with uncommitted edits is copied to .local/workshop-backups/ first and
patched only if the patch fits on top of the edits; otherwise nothing changes and the message says how to keep
them). Chapter 2's assignments are `1`..`6`: their solutions are regions of the reference code, which `make workshop`
replaces by stubs and `make solution` restores (tooling/workshop_mode.py).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from tooling import workshop_mode

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHAPTER_1_CHECKS = "chapter_1/exercises"
CHAPTER_1_SOLUTIONS = "chapter_1/exercises/solutions"
CHAPTER_2_CHECKS = "tests/workshop"


@dataclass(frozen=True)
class Exercise:
    """One "Try it": its check (pytest node ids, relative to the project root) and its reference solution."""

    id: str
    title: str
    # What the attendee is asked to do, printed when the check fails.
    task: str
    checks: tuple[str, ...]
    # Chapter 1: a unified diff (git format) against the starting code, relative to the project root. Chapter 2:
    # None, the solution is the reference code's regions marked with the assignment (tooling/workshop_regions.py).
    solution: str | None


def _chapter_1(section: int, title: str, task: str, check_file: str) -> Exercise:
    return Exercise(
        id=f"ch1-{section}",
        title=f"Chapter 1, section {section}: {title}",
        task=task,
        checks=(f"{CHAPTER_1_CHECKS}/{check_file}",),
        solution=f"{CHAPTER_1_SOLUTIONS}/ch1-{section}.patch",
    )


def _chapter_2(number: int, title: str, task: str, check_file: str) -> Exercise:
    return Exercise(
        id=str(number),
        title=f"Chapter 2, assignment {number}: {title}",
        task=task,
        checks=(f"{CHAPTER_2_CHECKS}/{check_file}",),
        solution=None,
    )


EXERCISES: dict[str, Exercise] = {
    exercise.id: exercise
    for exercise in (
        _chapter_1(
            1,
            "an op in math_job",
            "add an op report_result to chapter_1/ops_and_jobs.py that takes multiply_by_two's output and returns "
            "'The result is <n>', and call it in math_operations (the graph still returns the doubled number).",
            "check_1_ops.py",
        ),
        _chapter_1(
            2,
            "a monthly_stock asset with deps",
            "add an asset stock/monthly_stock (group stock_pipeline, deps on stock/weekly_stock) to "
            "chapter_1/assets.py that writes monthly_stock/monthly_stock.json (each category's weekly units x 4) "
            "and reports total_quantity; register it in chapter_1/definitions.py.",
            "check_2_assets.py",
        ),
        _chapter_1(
            3,
            "a metadata value on each observation",
            "give every AssetObservation of observe_stock_files (chapter_1/observations.py) a category_count: "
            "the number of distinct categories in the file.",
            "check_3_observations.py",
        ),
        _chapter_1(
            4,
            "a third op in the graph-backed asset",
            "add an op sort_by_units to chapter_1/graph_assets.py that orders the totals by units, largest first, "
            "and make it the last op of units_per_category.",
            "check_4_graph_assets.py",
        ),
        _chapter_1(
            5,
            "a job that fails its type check",
            "add a job zero_number_job to chapter_1/dagster_types.py that runs square_root(emit_number()) with "
            "the job's default config value 0, so PositiveNumber rejects it; register it in definitions.py.",
            "check_5_dagster_types.py",
        ),
        _chapter_1(
            6,
            "a new resource field",
            "add a field timeout_seconds (int, default 10) to StockApiResource in chapter_1/resources.py and "
            "return it in stock_api_session's dict.",
            "check_6_resources.py",
        ),
        _chapter_1(
            7,
            "a new config field",
            "add a field separator (str, default ' ') to RepeatConfig in chapter_1/run_config.py and join the "
            "words of repeat_word with it.",
            "check_7_run_config.py",
        ),
        _chapter_1(
            8,
            "a partitioned asset's range",
            "end the daily partitions of chapter_1/partitions.py with August 2023: 2023-08-02 to 2023-08-31, "
            "30 partitions (end_date is exclusive).",
            "check_8_partitions.py",
        ),
        _chapter_1(
            9,
            "the range of a backfill run",
            "add first_day and last_day to daily_stock_file's materialization metadata (chapter_1/partitions.py): "
            "the first and the last key of context.partition_keys.",
            "check_9_backfills.py",
        ),
        _chapter_1(
            10,
            "an IO manager for another format",
            "add a CsvFileIOManager (base_dir: str) to chapter_1/io_managers.py that stores a dict[str, int] as "
            "<base_dir>/<key path>.csv with the header 'key,value', and loads it back with int values.",
            "check_10_io_managers.py",
        ),
        _chapter_1(
            11,
            "a schedule for another hour",
            "add a schedule evening_math_schedule to chapter_1/schedules.py that runs math_job every day at "
            "18:00 UTC, and register it in definitions.py.",
            "check_11_schedules.py",
        ),
        _chapter_1(
            12,
            "a sensor on another folder",
            "add a sensor archive_file_sensor to chapter_1/sensors.py that requests one ingest_file_job run per "
            "new *.csv in <data dir>/archive (cursor as in new_file_sensor), and register it in definitions.py.",
            "check_12_sensors.py",
        ),
        _chapter_1(
            13,
            "a metadata plot",
            "add a numeric materialization metadata average_sale to sales_report (chapter_1/metadata.py): "
            "total sales / row count, rounded to 2 decimals.",
            "check_13_metadata.py",
        ),
        _chapter_1(
            14,
            "a job in the Definitions",
            "register an asset job stock_pipeline_job in chapter_1/definitions.py that materializes the group "
            "stock_pipeline (define_asset_job, AssetSelection.groups).",
            "check_14_definitions.py",
        ),
        _chapter_1(
            15,
            "a test of your own",
            "write test_top_category_picks_the_largest in tests/chapter_1/test_ch1_io_managers.py: call the asset "
            "top_category directly on {'Furniture': 3, 'Technology': 7} and assert it returns "
            "{'category': 'Technology', 'units': 7}.",
            "check_15_testing.py",
        ),
        _chapter_2(
            1,
            "operational_data and num_records",
            "in dagster_project/assets/operational_data.py, attach each day's metadata to its own partition and "
            "record num_records (the day's sales lines, a number) with snapshot_uri and duplicate_lines.",
            "check_1_operational_data.py",
        ),
        _chapter_2(
            2,
            "one asset per KPI",
            "write the dbt models revenue (sum of Sales), units_sold (sum of Quantity) and average_sales_price "
            "(revenue / units_sold) in dbt_project/models/marts/, one row per day of the run's window.",
            "check_2_kpi_models.py",
        ),
        _chapter_2(
            3,
            "a configurable source",
            "give OperationalDataConfig (dagster_project/assets/operational_data.py) a validated source_data_path "
            "and read the run's batches from it when it is set.",
            "check_3_source_data_path.py",
        ),
        _chapter_2(
            4,
            "daily partitions on every asset",
            "give the delivery assets (dagster_project/assets/delivery.py, DELIVERY) the daily partitions and the "
            "single-run backfill policy of the other assets.",
            "check_4_partitions.py",
        ),
        _chapter_2(
            5,
            "an S3 JSON IO manager",
            "write S3JsonIOManager.handle_output and load_input (dagster_project/io_managers/s3_json.py): one JSON "
            "document per day at s3://<bucket>/kpis/YYYY-MM-DD.json, and back.",
            "check_5_s3_json_io_manager.py",
        ),
        _chapter_2(
            6,
            "a Postgres time-series IO manager",
            "write PostgresTimeSeriesIOManager.handle_output and load_input "
            "(dagster_project/io_managers/postgres_time_series.py): one row per day, upserted in one transaction.",
            "check_6_postgres_io_manager.py",
        ),
    )
}
CHAPTER_2 = "ch2"  # the selector of every Chapter 2 assignment (make check ASSIGNMENT=ch2)


def require(module: str, name: str):
    """``module.name``, or a failed check saying which file lacks it (for the checks, before they use it)."""
    found = getattr(importlib.import_module(module), name, None)
    assert found is not None, f"{module.replace('.', '/')}.py has no {name} yet"
    return found


def _usage() -> str:
    lines = ["Exercises (make check ASSIGNMENT=<id>, make solution ASSIGNMENT=<id>):"]
    lines += [f"  {exercise.id:<7} {exercise.title}" for exercise in EXERCISES.values()]
    return "\n".join(lines)


def select(selector: str | None) -> list[Exercise]:
    """The exercises a selector names: one id (ch1-5, 3), or a chapter (ch1, ch2: all its exercises)."""
    if not selector:
        raise SystemExit(f"Which exercise? Give ASSIGNMENT=<id>.\n{_usage()}")
    if selector in EXERCISES:
        return [EXERCISES[selector]]
    if selector == CHAPTER_2:
        return [exercise for exercise in EXERCISES.values() if exercise.solution is None]
    chosen = [exercise for exercise in EXERCISES.values() if exercise.id.startswith(f"{selector}-")]
    if not chosen:
        raise SystemExit(f"No exercise {selector!r}.\n{_usage()}")
    return chosen


def _module(node_id: str) -> str:
    """chapter_1/exercises/check_1_ops.py::test_x -> chapter_1.exercises.check_1_ops (a JUnit classname)."""
    return node_id.split("::")[0].removesuffix(".py").replace("/", ".")


def failure_messages(junit_xml: Path) -> dict[str, list[str]]:
    """{test module: the first line of each failed, broken or skipped test's message}, from pytest's JUnit XML.

    A skipped check is not a passed one: something it needs is missing on this machine (say PostgreSQL).
    """
    messages: dict[str, list[str]] = {}
    for case in ElementTree.parse(junit_xml).getroot().iter("testcase"):
        for problem in (*case.findall("failure"), *case.findall("error"), *case.findall("skipped")):
            if problem.tag == "skipped":
                lines = [f"could not check it on this machine: {problem.get('message') or 'skipped'}"]
            elif problem.tag == "failure":  # an assertion or an exception in the test: its message's first line
                lines = (problem.get("message") or "").strip().splitlines()[:1]
            else:  # an import that failed while collecting: the exception, the last line of the traceback
                lines = [line.removeprefix("E").strip() for line in (problem.text or "").splitlines()][-1:]
            first = lines[0] if lines and lines[0] else "the check failed without a message"
            # A collection error (an import failing) names the module in `name`, a test failure in `classname`.
            module = case.get("classname") or case.get("name", "")
            messages.setdefault(module, []).append(first.removeprefix("AssertionError: "))
    return messages


def check(exercises: list[Exercise], root: Path = PROJECT_ROOT) -> int:
    """Run the exercises' checks in one pytest; per exercise one OK line, or what is wrong and the task.

    0 when every check passes, else 1.
    """
    with tempfile.TemporaryDirectory(prefix="workshop-check-") as folder:
        report = Path(folder) / "report.xml"
        # -m "" lifts pyproject's default marker filter; no cache, no output: the report is the JUnit XML.
        command = [sys.executable, "-m", "pytest", "-q", "-m", "", "-p", "no:cacheprovider", f"--junitxml={report}"]
        node_ids = [node_id for exercise in exercises for node_id in exercise.checks]
        proc = subprocess.run([*command, *node_ids], cwd=root, capture_output=True, text=True)
        messages = failure_messages(report) if report.exists() else {}
    failed = 0
    for exercise in exercises:
        problems = [message for node_id in exercise.checks for message in messages.get(_module(node_id), [])]
        if not problems:
            print(f"OK {exercise.id}: {exercise.title}")
            continue
        failed += 1
        print(f"NOT YET {exercise.id}: {exercise.title}")
        print(*(f"  - {problem}" for problem in problems), sep="\n")
        print(f"  Task: {exercise.task}")
        print(
            f"  Then: make check ASSIGNMENT={exercise.id}   Reference solution: make solution ASSIGNMENT={exercise.id}"
        )
    if proc.returncode != 0 and not failed:  # pytest itself failed (a usage error, no test found): its last words
        print("pytest did not run the checks:", *(proc.stdout + proc.stderr).strip().splitlines()[-3:], sep="\n  ")
    return 1 if failed or proc.returncode != 0 else 0


def patched_files(patch: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """The files a patch changes, relative to the project root."""
    numstat = workshop_mode.git(root, "apply", "--numstat", str(patch)).stdout
    return [line.split("\t")[2] for line in numstat.splitlines()]


def solution(exercise: Exercise, root: Path = PROJECT_ROOT) -> int:
    """Apply the exercise's reference solution without losing work. 0 when it is in place.

    git apply is all-or-nothing. Files with uncommitted edits are copied to a backup folder first, and the patch
    goes on top of the edits only when it applies cleanly; otherwise nothing changes and the message says why.
    Chapter 2's solutions are regions of the reference code: workshop_mode puts them back.
    """
    if exercise.solution is None:
        return workshop_mode.solve(exercise.id, root)
    patch = root / exercise.solution
    if workshop_mode.git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        print(f"`make solution` needs a git checkout of the workshop (it applies {exercise.solution} with git).")
        return 1
    files = patched_files(patch, root)
    if workshop_mode.git(root, "apply", "--reverse", "--check", str(patch)).returncode == 0:
        print(f"The solution of {exercise.id} is already in place ({', '.join(files)}).")
        return 0
    edited = [line[3:] for line in workshop_mode.git(root, "status", "--porcelain", "--", *files).stdout.splitlines()]
    if workshop_mode.git(root, "apply", "--check", str(patch)).returncode != 0:
        print(
            f"Not applied, nothing changed: the solution of {exercise.id} does not fit your version of "
            f"{', '.join(files)} (your edits touch the same lines)."
        )
        print(
            f"  Keep your work with `git stash` (back with `git stash pop`) or `git commit`, or drop it with "
            f"`git checkout -- {' '.join(files)}`; then run `make solution ASSIGNMENT={exercise.id}` again."
        )
        print(f"  Or read the solution: {exercise.solution}")
        return 1
    if edited:
        backup = workshop_mode.backup(root, exercise.id, edited)
    applied = workshop_mode.git(root, "apply", str(patch))
    if applied.returncode != 0:  # checked just above: only a file changing meanwhile gets here
        print(f"Not applied, nothing changed: {applied.stderr.strip()}")
        return 1
    print(f"Applied the solution of {exercise.id} ({exercise.solution}) to {', '.join(files)}.")
    if edited:
        print(
            f"  Your uncommitted edits of {', '.join(edited)} are kept (the solution went on top of them); "
            f"copies from before are in {backup.relative_to(root)}/."
        )
    else:
        print(f"  See it with `git diff`; back to the starting code with `git checkout -- {' '.join(files)}`.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["check", "solution", "list", "workshop", "workshop-reset"])
    parser.add_argument("exercise", nargs="?", help="an exercise id (ch1-1, 3), or a chapter (ch1, ch2)")
    args = parser.parse_args(argv)
    if args.action == "list":
        print(_usage())
        return 0
    if args.action == "workshop":
        return workshop_mode.start(PROJECT_ROOT)
    if args.action == "workshop-reset":
        return workshop_mode.reset(PROJECT_ROOT)
    if args.action == "check":
        return check(select(args.exercise))
    return max(solution(exercise) for exercise in select(args.exercise))


if __name__ == "__main__":
    sys.exit(main())
