"""Chapter 1: Dagster basics. `dagster dev -m chapter_1` loads the ``defs`` object below."""

from chapter_1.definitions import defs

__all__ = ["defs"]
