"""The line rules are defined once (batch_audit.LINE_RULES): the DuckDB scan and the Python line check agree.

The scan decides what is loaded; the Python check only names the lines of a file the scan flagged. Each value below
goes into one column of an otherwise good batch, and both must give the verdict written next to it.
"""

import datetime as dt
from pathlib import Path

import pytest

from dagster_project.batch_audit import EXPECTED_COLUMNS, LINE_RULES
from dagster_project.batch_scan import screen
from tooling.sample_batches import batch_csv

GOOD = batch_csv(dt.date(2023, 8, 10), rows=3)
# (column, value, passes)
CASES = [
    ("Sales", "12.5", True),
    ("Sales", " 12.5 ", True),
    ("Sales", "1e3", True),
    ("Sales", "-4.2", True),  # a return: negative sales are legitimate
    ("Sales", "abc", False),
    ("Sales", "", False),
    ("Sales", "inf", False),
    ("Sales", "nan", False),
    ("Profit", "-0.75", True),
    ("Profit", "NaN", False),
    ("Quantity", "3", True),
    ("Quantity", " 7 ", True),
    ("Quantity", "0", True),
    ("Quantity", "2147483647", True),
    ("Quantity", "2147483648", False),
    ("Quantity", "-3", False),
    ("Quantity", "3.0", False),
    ("Quantity", "+5", False),
    ("Quantity", "three", False),
    ("Discount", "0", True),
    ("Discount", "1", True),
    ("Discount", "0.2", True),
    ("Discount", "1.5", False),
    ("Discount", "-0.1", False),
]


def _batch_with(column: str, value: str) -> str:
    header, first, *rest = GOOD.splitlines()
    fields = first.split(",")
    assert len(fields) == len(EXPECTED_COLUMNS), "the sample line holds no quoted comma"
    fields[EXPECTED_COLUMNS.index(column)] = value
    return "\n".join([header, ",".join(fields), *rest]) + "\n"


@pytest.mark.parametrize(("column", "value", "passes"), CASES, ids=[f"{c}={v!r}" for c, v, _ in CASES])
def test_the_scan_and_the_line_check_give_the_same_verdict(tmp_path: Path, column, value, passes):
    path = tmp_path / "2023-08-10.csv"
    path.write_text(_batch_with(column, value))
    rule = next(rule for rule in LINE_RULES if rule.name == column)

    scan_passes = "2023-08-10" in screen({"2023-08-10": path})
    problems = rule.problems("line 2", value)

    assert scan_passes is passes
    assert (not problems) is passes, problems
    if not passes:
        assert problems[0].startswith(f"line 2: {column} "), problems


def test_every_typed_column_of_the_contract_has_one_rule():
    assert [rule.name for rule in LINE_RULES] == ["Sales", "Quantity", "Discount", "Profit"]
    assert {rule.name for rule in LINE_RULES} <= set(EXPECTED_COLUMNS)
