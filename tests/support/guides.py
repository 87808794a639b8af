"""The Chapter 1 guide as its tests read it: chapter_1/README.md, then its sections in chapter_1/guide/."""

from pathlib import Path

CHAPTER_1 = Path(__file__).resolve().parents[2] / "chapter_1"
CHAPTER_1_GUIDE_FILES = [CHAPTER_1 / "README.md", *sorted((CHAPTER_1 / "guide").glob("*.md"))]


def chapter_1_guide() -> str:
    """Every file of the guide, one after the other (each ends with a newline)."""
    return "".join(path.read_text() for path in CHAPTER_1_GUIDE_FILES)
