"""Every bad-batch case of the catalogue, against the pure audit; and what a good batch looks like."""

import datetime as dt

import pytest

from dagster_project.batch_audit import audit_batch, audit_framing, missing
from dagster_project.batch_scan import screen
from tests.support.bad_batches import BAD_BATCHES
from tooling.sample_batches import batch_csv

DAY = "2023-08-10"
URI = f"s3://dagster/operational_data/{DAY}/stock.csv"
GOOD = batch_csv(dt.date(2023, 8, 10), rows=80).encode()


def test_a_good_batch_passes():
    audit = audit_batch(DAY, URI, GOOD)
    assert audit.ok, audit.problems
    assert audit.lines == 80
    assert audit.message() == f"{DAY}: {URI}: ok (80 lines)"


def test_the_real_batches_pass(real_batches_dir):
    for path in sorted(real_batches_dir.glob("*/stock.csv")):
        audit = audit_batch(path.parent.name, str(path), path.read_bytes())
        assert audit.ok, audit.message()


def test_duplicated_lines_are_kept_and_counted():
    lines = GOOD.splitlines(keepends=True)
    audit = audit_batch(DAY, URI, b"".join(lines + lines[1:4]))
    assert audit.ok
    assert audit.lines == 83
    assert audit.duplicate_lines == 3


def test_crlf_line_endings_and_a_byte_order_mark_are_accepted():
    audit = audit_batch(DAY, URI, b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n"))
    assert audit.ok, audit.problems


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_each_bad_batch_is_quarantined_with_its_reason_and_fix(case):
    make, expected = BAD_BATCHES[case]
    audit = missing(DAY, URI) if make is None else audit_batch(DAY, URI, make(GOOD))

    assert not audit.ok
    message = audit.message()
    assert expected in message
    # The day, the key and what to do.
    assert message.startswith(f"{DAY}: {URI} was quarantined")
    assert f"upload it again to {URI}, then re-materialize partition {DAY}" in message


def test_line_problems_are_capped_but_counted():
    lines = GOOD.splitlines(keepends=True)
    bad = [lines[0]] + [line.replace(b",United States,", b",United States,extra,") for line in lines[1:]]
    audit = audit_batch(DAY, URI, b"".join(bad))
    assert "line 2 has 14 fields instead of 13" in audit.message()
    assert "and 75 more problem line(s)" in audit.message()


def _stopped_by_framing(case: str) -> bool:
    """The whole-file checks reject the file, so the DuckDB scan never sees it (as in quarantine.fetch_and_audit)."""
    return not audit_framing(DAY, URI, BAD_BATCHES[case][0](GOOD))[0].ok


# A missing file has no bytes to check: it is in neither list (test_each_bad_batch_... covers it).
FRAMING_CASES = sorted(case for case, (make, _) in BAD_BATCHES.items() if make and _stopped_by_framing(case))
SCANNED_CASES = sorted(case for case, (make, _) in BAD_BATCHES.items() if make and not _stopped_by_framing(case))


@pytest.mark.parametrize("case", FRAMING_CASES)
def test_the_whole_file_checks_stop_a_bad_file_before_its_lines_with_the_reason(case):
    framing, _ = audit_framing(DAY, URI, BAD_BATCHES[case][0](GOOD))
    assert not framing.ok
    assert BAD_BATCHES[case][1] in framing.message()


@pytest.mark.parametrize("case", SCANNED_CASES)
def test_the_fast_duckdb_screen_never_passes_a_file_the_line_audit_rejects(case, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD_BATCHES[case][0](GOOD))
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)

    verdicts = screen({"bad": path, "good": good})

    assert "bad" not in verdicts
    assert verdicts["good"] == (80, 0)
