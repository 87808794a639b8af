"""Chapter 1 stands alone: it neither names nor loads Chapter 2's code location."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_chapter_1_does_not_mention_chapter_2():
    mentions = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "chapter_1").rglob("*")
        if path.is_file() and path.suffix in {".py", ".md"} and "dagster_project" in path.read_text()
    ]
    assert not mentions


def test_loading_chapter_1_loads_nothing_of_chapter_2():
    script = "import json, sys; import chapter_1.definitions; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    modules = json.loads(result.stdout.splitlines()[-1])
    assert "chapter_1.definitions" in modules
    assert not [name for name in modules if name.split(".")[0] == "dagster_project"]
