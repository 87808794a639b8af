"""The one way a test steps aside when something it needs is not on this machine.

Locally a missing PostgreSQL, Chromium, Podman or ../shared data skips the test with a reason. Under CI (`CI=true`)
everything is installed on purpose (.ci/run), so the same absence fails the test, naming what is missing: a skip
there would hide a feature nobody tested.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str) -> NoReturn:
    """Skip the calling test (or fixture) because `what` is absent; fail instead under CI."""
    if running_in_ci():
        pytest.fail(f"CI=true, but {what}", pytrace=False)
    pytest.skip(what)
