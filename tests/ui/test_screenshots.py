"""`make screenshots` for real: make run's data, start-local, Chromium, PNGs of the UI into SCREENSHOTS_DIR."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from PIL import Image

from dagster_project.settings import PROJECT_ROOT
from tests.support.prerequisites import missing
from tests.support.ui import CHROMIUM, MAKE, SCREENSHOT_SIZE, SCREENSHOTS, command_env, instance_home, make_variables


@pytest.mark.browser
@pytest.mark.services
def test_make_screenshots_writes_a_png_of_each_page(s3_endpoint, tmp_path):
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is absent: apt-get install chromium (.ci/run installs it)")
    out = tmp_path / "images"
    variables = {
        "SCREENSHOTS_DIR": str(out),
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_BUCKET": f"screenshots-{uuid.uuid4().hex[:12]}",
        "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "WAREHOUSE_URL": "",
        "DAGSTER_HOME": str(instance_home(tmp_path / "dagster_home")),
        "LOCAL_STATE_DIR": str(tmp_path / "local_state"),
        "CHAPTER_1_DATA_DIR": str(tmp_path / "chapter_1"),
    }
    committed = {name: (PROJECT_ROOT / "docs" / "images" / name).stat().st_mtime_ns for name in SCREENSHOTS}

    result = subprocess.run(
        [*MAKE, "screenshots", *make_variables(variables)],
        cwd=PROJECT_ROOT,
        env=command_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(path.name for path in out.iterdir()) == sorted(SCREENSHOTS)
    for name in SCREENSHOTS:
        with Image.open(out / name) as image:
            assert (image.format, image.size) == ("PNG", SCREENSHOT_SIZE), name
            # A real page, not a blank one: many distinct colours.
            assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 50, name
    # The committed pictures are left alone.
    assert {name: (PROJECT_ROOT / "docs" / "images" / name).stat().st_mtime_ns for name in SCREENSHOTS} == committed
