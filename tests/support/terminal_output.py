"""What a user's terminal shows: the warning lines in a command's output, and the warnings the project accepts."""

from __future__ import annotations

import re

from dagster_project.settings import PROJECT_ROOT

# Python's warning lines (`...: BetaWarning: ...`) and Dagster's WARNING log lines (how code servers report them).
WARNING_LINE = re.compile(r"\w*Warning: |\bWARNING\b")


def warning_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if WARNING_LINE.search(line)]


def accepted_warnings() -> str:
    """PYTHONWARNINGS as .env.example sets it: what make (so make run, start-local) and Docker Compose export."""
    for line in (PROJECT_ROOT / ".env.example").read_text().splitlines():
        if line.startswith("PYTHONWARNINGS="):
            return line.partition("=")[2]
    raise AssertionError(".env.example sets no PYTHONWARNINGS")
