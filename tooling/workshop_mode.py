"""Chapter 2 as a workshop to do: `make workshop`, `make workshop-reset` and `make solution ASSIGNMENT=<1..6>`.

`make workshop` turns the working copy into the attendee's starting point on a local git branch `workshop`: every
solution region (tooling/workshop_regions.py) gets its stub, in one commit, so `git diff` shows the attendee's own
work and nothing is ever lost. It refuses a tree with uncommitted changes. The commit it started from is the
reference (git config workshop.reference): `make solution ASSIGNMENT=N` puts that assignment's regions back from
it, and `make workshop-reset` switches back to the branch it came from, the whole reference; the `workshop` branch
keeps the attendee's commits, and `make workshop` again continues on it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from tooling.workshop_regions import RegionError, marked_files, regions, with_reference, with_stubs

BRANCH = "workshop"
# Where `make workshop` records the commit it started from and the branch to go back to (the clone's git config).
REFERENCE_KEY = "workshop.reference"
RETURN_KEY = "workshop.return"
STARTING_POINT = "Workshop starting point: every Chapter 2 assignment replaced by its stub (make workshop)"


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def _is_checkout(root: Path) -> bool:
    return git(root, "rev-parse", "--is-inside-work-tree").returncode == 0


def uncommitted(root: Path, *paths: str) -> list[str]:
    """Tracked files with changes not committed (staged or not), relative to the root."""
    status = git(root, "status", "--porcelain", "--untracked-files=no", "--", *paths).stdout
    return [line[3:] for line in status.splitlines()]


def current_branch(root: Path) -> str:
    return git(root, "branch", "--show-current").stdout.strip()


def _branch_exists(root: Path, name: str) -> bool:
    return git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}").returncode == 0


def backup(root: Path, label: str, files: list[str]) -> Path:
    """Copies of `files` in .local/workshop-backups/<label>-<time>/ (gitignored), before they are overwritten."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = root / os.environ.get("LOCAL_STATE_DIR", ".local") / "workshop-backups" / f"{label}-{stamp}"
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, folder / name)
    return folder


def _commit(root: Path, message: str) -> subprocess.CompletedProcess[str]:
    """A commit of the tracked changes, with a stand-in author when git has none configured (a fresh laptop)."""
    identity = []
    if not git(root, "config", "user.email").stdout.strip():
        identity = ["-c", "user.name=Workshop attendee", "-c", "user.email=attendee@workshop.invalid"]
    return git(root, *identity, "commit", "--quiet", "--all", "--message", message)


def start(root: Path) -> int:
    """`make workshop`: the attendee's starting point on the branch `workshop`. 0 when on it."""
    if not _is_checkout(root):
        print("`make workshop` needs a git checkout of the workshop: it keeps the starting point on a git branch.")
        return 1
    if current_branch(root) == BRANCH:
        print(f"Already in workshop mode (branch {BRANCH}). `make workshop-reset` goes back to the full reference.")
        return 0
    dirty = uncommitted(root)
    if dirty:
        print(f"Not started, nothing changed: these files have uncommitted changes: {', '.join(dirty)}.")
        print("  Keep them with `git commit -am '...'` or `git stash`, then run `make workshop` again.")
        return 1
    came_from = current_branch(root) or git(root, "rev-parse", "HEAD").stdout.strip()
    if _branch_exists(root, BRANCH):
        git(root, "switch", "--quiet", BRANCH)
        git(root, "config", RETURN_KEY, came_from)
        print(f"Back on your branch {BRANCH}, with your work as you left it; `make workshop-reset` leaves it again.")
        print(f"  To start over instead: `make workshop-reset`, `git branch -D {BRANCH}` (drops it), `make workshop`.")
        return 0
    try:  # every stubbed file is computed before the first is written: a bad marker changes nothing
        stubbed = {path: with_stubs((root / path).read_text(), path, root) for path in marked_files(root)}
    except RegionError as error:
        print(f"Not started, nothing changed: {error}.")
        return 1
    reference = git(root, "rev-parse", "HEAD").stdout.strip()
    switched = git(root, "switch", "--quiet", "--create", BRANCH)
    if switched.returncode != 0:
        print(f"Not started, nothing changed: git could not create the branch {BRANCH}: {switched.stderr.strip()}")
        return 1
    for path, text in stubbed.items():
        (root / path).write_text(text)
    committed = _commit(root, STARTING_POINT)
    if committed.returncode != 0:
        print(f"The stubs are in place on branch {BRANCH}, but git did not commit them: {committed.stderr.strip()}")
        return 1
    git(root, "config", REFERENCE_KEY, reference)
    git(root, "config", RETURN_KEY, came_from)
    assignments = sorted({r.assignment for path in stubbed for r in regions(stubbed[path], path)}, key=int)
    print(f"Workshop mode: branch {BRANCH}, assignments {', '.join(assignments)} replaced by stubs in:")
    print(*(f"  {path}" for path in stubbed), sep="\n")
    print("  Each stub says what to write; the guide is dagster_project/README.md. `make check ASSIGNMENT=1` tells")
    print("  you what is still missing, `make solution ASSIGNMENT=1` puts the reference back, `git diff` shows your")
    print("  work, and `make workshop-reset` returns to the full reference (your branch keeps your commits).")
    return 0


def reset(root: Path) -> int:
    """`make workshop-reset`: back to the branch `make workshop` started from. Uncommitted work is refused."""
    if not _is_checkout(root) or current_branch(root) != BRANCH:
        print(f"Not in workshop mode (the branch {BRANCH} is not checked out): this is the full reference already.")
        return 0
    dirty = uncommitted(root)
    if dirty:
        print(f"Not reset, nothing changed: your uncommitted work in {', '.join(dirty)} would not follow you.")
        print(f"  Keep it on the {BRANCH} branch with `git commit -am 'my work'` (or `git stash`), then run")
        print("  `make workshop-reset` again.")
        return 1
    back_to = git(root, "config", RETURN_KEY).stdout.strip() or git(root, "config", REFERENCE_KEY).stdout.strip()
    switched = git(root, "switch", "--quiet", *([] if _branch_exists(root, back_to) else ["--detach"]), back_to)
    if switched.returncode != 0:
        print(f"Not reset: git could not switch to {back_to}: {switched.stderr.strip()}")
        return 1
    print(f"The full reference is back ({back_to}). Your work stays on the branch {BRANCH}: `make workshop` (or")
    print(f"`git switch {BRANCH}`) continues it.")
    return 0


def reference(root: Path) -> str:
    """The commit the reference solutions come from: the one `make workshop` started from, else HEAD."""
    return git(root, "config", REFERENCE_KEY).stdout.strip() or "HEAD"


def _edited_regions(root: Path, path: str, assignment: str) -> bool:
    """Whether the regions of `assignment` in the working file differ from the last commit's."""
    committed = git(root, "show", f"HEAD:{path}")
    text = (root / path).read_text()
    return committed.returncode != 0 or with_reference(text, committed.stdout, path, assignment) != text


def solve(assignment: str, root: Path) -> int:
    """`make solution ASSIGNMENT=N`: that assignment's regions back from the reference; edits elsewhere stay.

    A file whose uncommitted edits would be overwritten is copied to .local/workshop-backups/ first.
    """
    if not _is_checkout(root):
        print("`make solution` needs a git checkout of the workshop (the reference solutions come from git).")
        return 1
    source = reference(root)
    solved: dict[str, str] = {}
    try:
        for path, found in marked_files(root).items():
            if any(region.assignment == assignment for region in found):
                shown = git(root, "show", f"{source}:{path}")
                if shown.returncode != 0:
                    print(f"Not applied, nothing changed: {path} is not in the reference {source}.")
                    return 1
                solved[path] = with_reference((root / path).read_text(), shown.stdout, path, assignment)
    except RegionError as error:
        print(f"Not applied, nothing changed: {error}.")
        return 1
    if not solved:
        print(f"No workshop region of assignment {assignment} in this copy: nothing to apply.")
        return 1
    changed = [path for path, text in solved.items() if (root / path).read_text() != text]
    if not changed:
        print(f"The solution of assignment {assignment} is already in place ({', '.join(solved)}).")
        return 0
    # Uncommitted work in this assignment's regions (edits elsewhere stay as they are): copied first.
    edited = [path for path in uncommitted(root, *changed) if _edited_regions(root, path, assignment)]
    saved = backup(root, assignment, edited) if edited else None
    for path in changed:
        (root / path).write_text(solved[path])
    print(f"Put the reference solution of assignment {assignment} in {', '.join(changed)}.")
    if saved:
        print(f"  Your uncommitted version of {', '.join(edited)} is in {saved.relative_to(root)}/.")
    print("  See it with `git diff`.")
    return 0
