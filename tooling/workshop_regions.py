"""The solution regions of Chapter 2's assignments: the reference code marks each one with two comment lines,

    # >>> workshop 1 (stub: tooling/workshop_stubs/1_day_metadata.stub)
    ... the reference solution ...
    # <<< workshop 1

(`--` instead of `#` in SQL). The attendee's starting point is the same code with each region's body replaced by its
stub, a file of tooling/workshop_stubs/ that says what to write there and where to look; the markers stay, so a
solution can be put back region by region. Stubs replace regions only, so they never drift from the code around
them: whoever changes the reference outside a region changes the starting point with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Where regions may be: the code the attendee works on (Dagster's and dbt's), never tests or tooling.
REGION_FOLDERS = ("dagster_project", "dbt_project/models", "dbt_project/macros")
REGION_SUFFIXES = {".py", ".sql", ".yml"}
STUBS_FOLDER = "tooling/workshop_stubs"
_BEGIN = re.compile(r"^\s*(?:#|--) >>> workshop (?P<assignment>\d+) \(stub: (?P<stub>[^)\s]+)\)\s*$")
_END = re.compile(r"^\s*(?:#|--) <<< workshop (?P<assignment>\d+)\s*$")


class RegionError(ValueError):
    """Markers that do not pair up, or a stub that is missing: says the file, the line and the fix."""


@dataclass(frozen=True)
class Region:
    assignment: str
    stub: str  # the stub's path, relative to the project root
    begin: int  # index of the begin marker's line
    end: int  # index of the end marker's line

    @property
    def key(self) -> tuple[str, str]:
        """What names a region in any version of its file: its assignment and its stub."""
        return self.assignment, self.stub


def regions(text: str, path: str) -> list[Region]:
    """The regions of one file, in order; RegionError when its markers do not pair up."""
    found: list[Region] = []
    open_at: tuple[int, re.Match] | None = None
    for number, line in enumerate(text.splitlines()):
        if begin := _BEGIN.match(line):
            if open_at:
                raise RegionError(
                    f"{path}:{number + 1}: a workshop region begins inside the one of line {open_at[0] + 1}; "
                    "close that one first with its `<<< workshop` line"
                )
            open_at = (number, begin)
        elif end := _END.match(line):
            if not open_at or open_at[1]["assignment"] != end["assignment"]:
                raise RegionError(f"{path}:{number + 1}: `<<< workshop {end['assignment']}` closes no region")
            found.append(Region(end["assignment"], open_at[1]["stub"], open_at[0], number))
            open_at = None
    if open_at:
        raise RegionError(f"{path}:{open_at[0] + 1}: workshop region {open_at[1]['assignment']} is never closed")
    keys = [region.key for region in found]
    if len(keys) != len(set(keys)):
        raise RegionError(f"{path}: two workshop regions share an assignment and a stub; give each its own stub")
    return found


def marked_files(root: Path) -> dict[str, list[Region]]:
    """{path relative to root: its regions} for every file of REGION_FOLDERS that has any."""
    marked = {}
    for folder in REGION_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in REGION_SUFFIXES and path.is_file() and "target" not in path.parts:
                relative = path.relative_to(root).as_posix()
                if found := regions(path.read_text(), relative):
                    marked[relative] = found
    return marked


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def body(text: str, region: Region) -> str:
    """What is between a region's markers."""
    return "".join(_lines(text)[region.begin + 1 : region.end])


def _replace(text: str, path: str, bodies: dict[tuple[str, str], str]) -> str:
    """`text` with the body of each region named in `bodies` replaced (the markers stay)."""
    lines = _lines(text)
    for region in reversed(regions(text, path)):
        if region.key in bodies:
            lines[region.begin + 1 : region.end] = _lines(bodies[region.key])
    return "".join(lines)


def stub_text(root: Path, stub: str) -> str:
    path = root / stub
    if not path.is_file():
        raise RegionError(f"the stub {stub} is missing: a workshop marker names it, add it or fix the marker")
    return path.read_text()


def with_stubs(text: str, path: str, root: Path, assignments: set[str] | None = None) -> str:
    """`text` with the regions of `assignments` (all when None) holding their stubs."""
    bodies = {
        region.key: stub_text(root, region.stub)
        for region in regions(text, path)
        if assignments is None or region.assignment in assignments
    }
    return _replace(text, path, bodies)


def with_reference(text: str, reference: str, path: str, assignment: str) -> str:
    """`text` with the regions of `assignment` holding the bodies they have in `reference` (another version of the
    file); RegionError naming the region when `text` lost the markers of one."""
    wanted = {r.key: body(reference, r) for r in regions(reference, path) if r.assignment == assignment}
    present = {region.key for region in regions(text, path)}
    lost = sorted(stub for (_, stub) in wanted.keys() - present)
    if lost:
        raise RegionError(
            f"{path} has lost the markers of workshop {assignment} (stub {', '.join(lost)}): put the lines "
            f"`>>> workshop {assignment} ...` and `<<< workshop {assignment}` back around your code"
        )
    return _replace(text, path, wanted)
