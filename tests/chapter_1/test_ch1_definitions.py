import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, Definitions

from chapter_1.definitions import defs
from tests.support.guides import chapter_1_guide

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAPTER = REPO_ROOT / "chapter_1"
README = chapter_1_guide()
DAGSTER = Path(sys.executable).parent / "dagster"
LOCATION = "chapter-1-dagster_basics"


def test_package_exposes_one_definitions_object():
    # Run in a subprocess from the repo root, exactly as `dagster dev -m chapter_1` imports it.
    code = "import chapter_1, chapter_1.definitions as d; assert chapter_1.defs is d.defs; print(d.defs)"
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Definitions" in proc.stdout
    assert isinstance(defs, Definitions)


def test_definitions_contents():
    repo = defs.get_repository_def()
    assert {job.name for job in repo.get_all_jobs() if not job.name.startswith("__")} == {
        "math_job",
        "positive_number_job",
        "number_validation_job",
        "observe_stock_files_job",
        "repeat_job",
        "ingest_file_job",
        "daily_stock_files_job",
    }
    assert {s.name for s in repo.schedule_defs} == {"daily_math_schedule", "daily_stock_files_schedule"}
    assert {s.name for s in repo.sensor_defs} == {"new_file_sensor"}
    assert set(defs.resources) == {"io_manager", "json_io_manager", "data_dir", "stock_api"}
    assert len(defs.resolve_asset_graph().get_all_asset_keys()) == 10


@pytest.mark.slow  # seconds of dbt/Dagster work: runs in make test, not in the quick set
def test_dagster_definitions_validate_cli(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CHAPTER_1_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-m", "chapter_1"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stdout + proc.stderr


def _python_blocks():
    """(declared source file or None, code) for every ```python block of the README."""
    source = r"(?:From \[`((?:chapter_1|tests/chapter_1)/\w+\.py)`\]\([\w./]+\.py\):\n\n)?"
    return re.compile(source + r"```python\n(.*?)```", re.S).findall(README)


def test_readme_code_is_the_modules_code():
    sources = {f"chapter_1/{path.name}": path.read_text() for path in CHAPTER.glob("*.py")}
    # Section 15 quotes tests: those are declared with their file, and compared with it.
    sources |= {f"tests/chapter_1/{path.name}": path.read_text() for path in Path(__file__).parent.glob("*.py")}
    blocks = _python_blocks()
    assert len(blocks) == README.count("```python") >= 20
    assert sum(declared.startswith("tests/") for declared, _ in blocks) >= 5
    for declared, code in blocks:
        candidates = [sources[declared]] if declared else [sources[name] for name in sources if "tests/" not in name]
        # Pieces are top-level definitions, separated by two blank lines as in the modules.
        for piece in code.strip("\n").split("\n\n\n"):
            assert any(piece in source for source in candidates), f"README code not in {declared}:\n{piece}"


def test_readme_links_point_to_real_definitions():
    repo = defs.get_repository_def()
    graph = defs.resolve_asset_graph()
    names = {
        "jobs": {job.name for job in repo.get_all_jobs()},
        "schedules": {s.name for s in repo.schedule_defs},
        "sensors": {s.name for s in repo.sensor_defs},
        "resources": set(defs.resources),
        "asset-groups": {node.group_name for node in graph.asset_nodes},
    }
    links = re.findall(rf"localhost:3000/locations/{LOCATION}/([\w-]+)/(\w+)", README)
    assert len(links) >= 12
    for kind, name in links:
        assert name in names[kind], f"{kind}/{name} in README is not defined"

    keys = graph.get_all_asset_keys()
    asset_links = re.findall(r"localhost:3000/assets/([\w/]+)", README)
    assert len(asset_links) >= 10
    for path in asset_links:
        assert AssetKey(path.split("/")) in keys, f"asset {path} in README is not defined"


def test_readme_names_real_tests():
    test_names = set()
    # The chapter's tests, and the browser test that makes the clicks of sections 8 and 9.
    for path in [*Path(__file__).parent.glob("test_*.py"), REPO_ROOT / "tests" / "ui" / "test_browser.py"]:
        test_names |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.M))
    cited = set(re.findall(r"`(test_\w+)`", README))
    assert len(cited) >= 20
    assert cited <= test_names, f"README cites missing tests: {cited - test_names}"


def _bash_lines() -> list[str]:
    """The commands of the README's ```bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    return [line.strip() for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_every_dagster_command_of_the_guide_names_its_instance():
    """A run started from the command line shows in the UI only with the instance folder of the running Dagster."""
    commands = [line for line in _bash_lines() if re.search(r"\bdagster (dev|asset|job)\b", line)]
    assert len(commands) >= 2
    for command in commands:
        assert command.startswith('DAGSTER_HOME="$PWD/dagster_home" '), command
    # The folder the guide names is the repository's instance, whose dagster.yaml turns the first-visit dialog off.
    instance = (REPO_ROOT / "dagster_home" / "dagster.yaml").read_text()
    assert "nux:\n  enabled: false" in instance and "telemetry:\n  enabled: false" in instance
    assert "second terminal" in README and "holds its terminal" in README


@pytest.mark.slow  # two pytest runs in subprocesses
def test_guide_commands_run_one_test():
    commands = [line for line in _bash_lines() if line.startswith(".venv/bin/pytest") and "-q" in line]
    assert len(commands) == 2
    for command in commands:
        proc = subprocess.run(
            shlex.split(command.replace(".venv/bin/pytest", str(DAGSTER.parent / "pytest"), 1))
            + ["-p", "no:cacheprovider"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert "1 passed" in proc.stdout, proc.stdout[-2000:]
