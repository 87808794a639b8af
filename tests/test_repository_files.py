"""Files of the repository itself: line endings, the dev container's host, the pictures the docs show."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from dagster_project.settings import PROJECT_ROOT
from tests.support.ui import SCREENSHOTS, documentation_files


def git_attributes(paths: list[str], *names: str) -> dict[str, dict[str, str]]:
    """{path: {attribute: value}} as Git resolves them from .gitattributes."""
    output = subprocess.run(
        ["git", "check-attr", *names, "--", *paths], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, dict[str, str]] = {}
    for line in output.splitlines():
        path, name, value = line.rsplit(": ", 2)
        found.setdefault(path, {})[name] = value
    return found


def test_scripts_and_everything_the_image_copies_are_checked_out_with_lf():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    text_files = [path for path in tracked if not path.endswith(".png")]
    assert "docker/dagster/entrypoint.sh" in text_files
    attributes = git_attributes(text_files, "eol")
    not_lf = sorted(path for path, values in attributes.items() if values["eol"] != "lf")
    assert not not_lf, f"checked out without eol=lf on Windows: {not_lf}"


def test_pictures_are_binary():
    attributes = git_attributes(["docs/images/any.png"], "binary", "eol")
    assert attributes["docs/images/any.png"]["binary"] == "set"


def test_dev_container_asks_for_the_workshop_machine():
    config = json.loads((PROJECT_ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert config["hostRequirements"] == {"cpus": 4, "memory": "8gb"}
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "4 CPUs and 8 GB" in readme


# Markdown images `![alt](path)` and HTML `<img src="path">`.
IMAGE_REFERENCE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)|<img\s[^>]*src=\"([^\"]+)\"")


def referenced_images() -> dict[Path, list[str]]:
    """{image file: [Markdown files showing it]} over every Markdown file of the project (local images only)."""
    found: dict[Path, list[str]] = {}
    for document in documentation_files():
        for match in IMAGE_REFERENCE.finditer(document.read_text()):
            target = match[1] or match[2]
            if target.startswith(("http://", "https://", "data:")):
                continue
            image = (document.parent / target.split("#")[0]).resolve()
            found.setdefault(image, []).append(str(document.relative_to(PROJECT_ROOT)))
    return found


def test_every_image_the_docs_show_exists():
    images = referenced_images()
    missing = {str(image): documents for image, documents in images.items() if not image.is_file()}
    assert not missing, f"images referenced but absent: {missing}"
    # The screenshots of `make screenshots` are all shown somewhere.
    shown = {image.name for image in images if image.parent == PROJECT_ROOT / "docs" / "images"}
    assert set(SCREENSHOTS) <= shown, f"not shown in any Markdown file: {set(SCREENSHOTS) - shown}"


RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def test_every_relative_link_of_the_docs_resolves():
    """A guide split or a file moved leaves no dead link: each relative target exists beside its document."""
    dead = [
        f"{doc.relative_to(PROJECT_ROOT)}: {target}"
        for doc in documentation_files()
        for target in RELATIVE_LINK.findall(doc.read_text())
        if not (doc.parent / target.split("#")[0]).exists()
    ]
    assert len(documentation_files()) >= 10
    assert not dead, dead
