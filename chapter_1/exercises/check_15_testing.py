"""Check of "Try it" 1.15 (make check ASSIGNMENT=ch1-15): a test of your own, found and passing."""

import importlib.util
from pathlib import Path

TEST_FILE = Path(__file__).resolve().parents[2] / "tests" / "chapter_1" / "test_ch1_io_managers.py"
TEST_NAME = "test_top_category_picks_the_largest"


def test_your_test_exists_and_passes():
    spec = importlib.util.spec_from_file_location("attendee_tests", TEST_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test = getattr(module, TEST_NAME, None)
    assert test is not None, f"tests/chapter_1/{TEST_FILE.name} has no {TEST_NAME} yet"
    test()  # an AssertionError here is your test failing: read its message
