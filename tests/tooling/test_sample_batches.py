"""The generated batches stand in for the retailer: they pass Chapter 2's audit contract, byte for byte stable."""

from __future__ import annotations

import datetime as dt

from dagster_project import batch_audit
from tooling.sample_batches import HEADER, batch_csv

DAY = dt.date(2023, 8, 2)


def test_the_generator_writes_the_contract_header_and_the_asked_rows():
    lines = batch_csv(DAY, rows=80).splitlines()
    assert lines[0] == HEADER == batch_audit.HEADER  # the retailer's format is the audit's contract
    assert len(lines) == 81
    assert all(line.count(",") == HEADER.count(",") for line in lines[1:])


def test_a_batch_depends_only_on_day_rows_and_seed():
    assert batch_csv(DAY, rows=80, seed=7) == batch_csv(DAY, rows=80, seed=7)
    assert batch_csv(DAY, rows=80, seed=7) != batch_csv(DAY, rows=80, seed=8)
    assert batch_csv(DAY, rows=80) != batch_csv(DAY + dt.timedelta(days=1), rows=80)
