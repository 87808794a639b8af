"""The Dagster image builds for any user and with any builder, without a Docker engine (quick).

Regressions of what the first real `make start-dev` found (tests/docker/test_podman_stack.py runs the whole stack):
- `DAGSTER_UID=0` failed the build (`groupadd: GID '0' already exists`);
- a root-owned checkout stopped the containers of the default uid 1000 (`dbt_project is not writable`);
- `COPY --chmod` needs BuildKit, and Compose falls back to the classic builder when buildx is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dagster_project.settings import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "docker" / "dagster" / "Dockerfile"
# The flags the classic (pre-BuildKit) builder knows, by instruction; any other flag is BuildKit-only.
CLASSIC_FLAGS = {"FROM": {"--platform"}, "COPY": {"--from", "--chown"}, "ADD": {"--chown"}, "RUN": set()}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    joined = re.sub(r"\\\n", " ", text)
    return [(line.split()[0].upper(), line.split(maxsplit=1)[1]) for line in joined.splitlines() if line.strip()]


def test_the_dockerfile_uses_only_what_the_classic_builder_knows():
    first_line = DOCKERFILE.read_text().splitlines()[0]
    assert not re.match(r"#\s*syntax\s*=", first_line), "a syntax directive needs BuildKit"
    for instruction, arguments in instructions(DOCKERFILE):
        flags = {flag.split("=")[0] for flag in re.findall(r"(?:^|\s)(--[a-z-]+(?:=\S+)?)", arguments)}
        if instruction in CLASSIC_FLAGS:
            # RUN's own flags come first; later ones belong to the command (useradd --uid ...).
            leading = {f.split("=")[0] for f in re.findall(r"--[a-z-]+(?:=\S+)?", arguments.split(" ", 1)[0])}
            found = leading if instruction == "RUN" else flags
            assert found <= CLASSIC_FLAGS[instruction], f"{instruction} {arguments[:80]}: BuildKit-only flags"
        assert "<<" not in arguments, f"{instruction}: heredocs need BuildKit"


def test_the_entrypoint_is_executable_whatever_the_checkout_did():
    mode = subprocess.run(
        ["git", "ls-files", "-s", "docker/dagster/entrypoint.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.split()[0]
    assert mode == "100755"
    # And the image sets the mode itself (a Windows checkout or core.fileMode=false loses it).
    assert "chmod 0755 /usr/local/bin/dagster-entrypoint" in DOCKERFILE.read_text()


# Stand-ins for getent, groupadd and useradd over fake /etc/passwd and /etc/group files: they fail as the real
# ones do when the id is taken.
STUBS = {
    "getent": """db="$FAKE_ETC/$1"; awk -F: -v id="$2" '$3 == id {print; found=1} END {exit !found}' "$db" """,
    "groupadd": """gid="$2"; name="$3"
if awk -F: -v id="$gid" '$3 == id {f=1} END {exit !f}' "$FAKE_ETC/group"; then
  echo "groupadd: GID '$gid' already exists" >&2; exit 4; fi
echo "$name:x:$gid:" >> "$FAKE_ETC/group" """,
    "useradd": """uid="$2"; gid="$4"; name="${!#}"
if awk -F: -v id="$uid" '$3 == id {f=1} END {exit !f}' "$FAKE_ETC/passwd"; then
  echo "useradd: UID $uid is not unique" >&2; exit 4; fi
if ! awk -F: -v id="$gid" '$3 == id || $1 == id {f=1} END {exit !f}' "$FAKE_ETC/group"; then
  echo "useradd: group '$gid' does not exist" >&2; exit 6; fi
echo "$name:x:$uid:$gid::/home/$name:/bin/bash" >> "$FAKE_ETC/passwd" """,
}
BASE_PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"
BASE_GROUP = "root:x:0:\nusers:x:100:\nnogroup:x:65534:\n"


def create_user(tmp_path: Path, uid: int) -> tuple[str, str]:
    """Run the Dockerfile's user-creation RUN against the stubs; the resulting (passwd, group)."""
    [script] = [args for name, args in instructions(DOCKERFILE) if name == "RUN" and "useradd" in args]
    etc, stubs = tmp_path / "etc", tmp_path / "bin"
    etc.mkdir()
    stubs.mkdir()
    (etc / "passwd").write_text(BASE_PASSWD)
    (etc / "group").write_text(BASE_GROUP)
    for name, body in STUBS.items():
        (stubs / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "FAKE_ETC": str(etc), "DAGSTER_UID": str(uid)}
    result = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"DAGSTER_UID={uid}: {result.stderr}"
    return (etc / "passwd").read_text(), (etc / "group").read_text()


@pytest.mark.parametrize("uid", [0, 100, 1000, 65534])
def test_the_image_accepts_any_uid(tmp_path, uid):
    passwd, group = create_user(tmp_path, uid)
    users = {line.split(":")[2]: line.split(":")[0] for line in passwd.splitlines()}
    groups = {line.split(":")[2]: line.split(":")[0] for line in group.splitlines()}
    # Taken ids (root, nobody, the users group) are used as they are; a free one gets the account dagster.
    assert users[str(uid)] == {0: "root", 65534: "nobody"}.get(uid, "dagster")
    assert groups[str(uid)] == {0: "root", 100: "users", 65534: "nogroup"}.get(uid, "dagster")


def make_deps_dry_run(folder: Path, env_file: str | None = None, owner: int | None = None) -> str:
    """`make -n deps` in a folder holding the Makefile and .env.example (and .env), owned by `owner`."""
    for name in ("Makefile", ".env.example"):
        shutil.copy(PROJECT_ROOT / name, folder / name)
    if env_file is not None:
        (folder / ".env").write_text(env_file)
    if owner is not None:
        os.chown(folder, owner, owner)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder)}
    result = subprocess.run(["make", "-n", "deps"], cwd=folder, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def uid_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if "containers run as uid" in line]
    return re.search(r"uid (\S*) ", line).group(1)


def test_start_dev_runs_the_containers_as_the_owner_of_the_checkout(tmp_path):
    # As created: the test's own user (root on CI: the root-owned checkout that used to stop the containers).
    assert uid_line(make_deps_dry_run(tmp_path)) == str(os.geteuid())
    if os.geteuid() == 0:  # only root can give the folder away
        assert uid_line(make_deps_dry_run(tmp_path, owner=4321)) == "4321"


def test_dagster_uid_in_env_wins(tmp_path):
    env_file = (PROJECT_ROOT / ".env.example").read_text().replace("\nDAGSTER_UID=", "\nDAGSTER_UID=0", 1)
    assert uid_line(make_deps_dry_run(tmp_path, env_file=env_file)) == "0"
    env_file = env_file.replace("\nDAGSTER_UID=0", "\nDAGSTER_UID=2000", 1)
    assert uid_line(make_deps_dry_run(tmp_path, env_file=env_file)) == "2000"
