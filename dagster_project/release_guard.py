"""The one check for modules that override private parts of a library: such a module loads on the release it was
written for and refuses any other at import, saying what to do, instead of misbehaving quietly."""

from __future__ import annotations


def require_release(
    package: str, installed: str, supported: str, *, module: str, overrides: str, fallback: str
) -> None:
    """ImportError unless `installed` is `supported`; `overrides` names what `module` relies on, `fallback` the
    way out other than updating the module."""
    if installed != supported:
        raise ImportError(
            f"{module} supports {package} {supported} only, and {package} {installed} is installed: it overrides "
            f"{overrides}. Check them against {package} {installed} and update the supported version in {module}, "
            f"or {fallback}."
        )
