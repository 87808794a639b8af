"""The audit's memory does not grow with a batch: a batch of a few hundred MB, good or with one bad last line,
is audited (and its snapshot written) in a child process whose peak RSS is measured."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from dagster_project.settings import PROJECT_ROOT, load_settings
from tooling import sample_data

BIG_BYTES = 300 * 1024**2
# The stated bound on the audit process's peak RSS (Python, boto3, DuckDB and the work), whatever the batch size:
# the same bound holds for a 10 KB batch and a 300 MB one (before streaming, a 200 MB file peaked at 0.78 GB).
PEAK_BOUND_MB = 450

AUDIT_IN_A_CHILD = """
import json, sys
from dagster_project import quarantine
from tooling import sample_data
from dagster_project.settings import load_settings
settings = load_settings()
client = sample_data.s3_client(settings)
audits = quarantine.fetch_and_audit(
    client, settings.s3_bucket, settings.max_batch_bytes, settings.source_uri, sys.argv[1:]
)
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big test process would report the
# parent's peak (the xdist worker's 530 MB); VmHWM belongs to this process's own address space.
[hwm] = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
peak_mb = int(hwm.split()[1]) / 1024
print(json.dumps({"peak_mb": peak_mb, "audits": [[a.day, a.ok, a.lines, a.problems] for a in audits]}))
"""


def audit_in_a_child(env: dict, day: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", AUDIT_IN_A_CHILD, day],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_big_batch(path, day: dt.date, bad_last_line: bool) -> int:
    """About BIG_BYTES of real-looking sales lines (a generated day repeated), streamed to disk; returns lines."""
    text = sample_data.batch_csv(day, 5000)
    header, body = text.split("\n", 1)
    lines = 0
    with path.open("w") as out:
        out.write(header + "\n")
        while out.tell() < BIG_BYTES:
            out.write(body)
            lines += 5000
        if bad_last_line:
            out.write("Standard Class,Consumer,United States,Boston,Massachusetts,02215,East,Art,Art,1.5,-2,0,0.1\n")
            lines += 1
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("bad_last_line", [False, True], ids=["good", "one_bad_last_line"])
def test_peak_memory_of_the_audit_stays_bounded_for_a_big_batch(pipeline_env, tmp_path, bad_last_line):
    settings = load_settings()
    client = sample_data.s3_client(settings)
    sample_data.ensure_bucket(client, settings.s3_bucket)
    small, big = dt.date(2023, 8, 2), dt.date(2023, 8, 3)
    sample_data.upload(settings, small, count=1, rows=80)
    path = tmp_path / "big.csv"
    lines = write_big_batch(path, big, bad_last_line)
    client.upload_file(str(path), settings.s3_bucket, sample_data.batch_key(settings, big))
    path.unlink()

    baseline = audit_in_a_child(pipeline_env, small.isoformat())
    measured = audit_in_a_child(pipeline_env, big.isoformat())

    [(_, ok, counted, problems)] = measured["audits"]
    if bad_last_line:
        assert not ok and f"line {lines + 1}: Quantity -2 is negative" in problems
    else:
        assert ok and counted == lines
    print(f"peak RSS: {baseline['peak_mb']:.0f} MB for 10 KB, {measured['peak_mb']:.0f} MB for {BIG_BYTES >> 20} MB")
    assert baseline["audits"][0][1]
    assert measured["peak_mb"] < PEAK_BOUND_MB
