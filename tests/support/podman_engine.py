"""Podman as the Docker engine of the stack tests (tests/docker/test_podman_*.py), with all only this machine needs.

The project's Docker files stay as a Docker user gets them; what a root user on these machines (no systemd, hybrid
cgroups, no CAP_SYS_RESOURCE, no registry) needs lives here:
- storage of its own (cached between runs: the stand-in images are built once per change of their inputs), runc,
  cgroupfs, file events and the container ulimits root may set here (containers.conf);
- `podman system service`: the Docker API on a Unix socket, which DOCKER_HOST hands to the docker CLI and Compose;
- a health loop: without systemd nothing runs the containers' healthchecks, so it calls `podman healthcheck run`;
- stand-ins for the official base images (no registry is reachable), built offline from tests/docker/standins/
  (each build file says what it stands in for) and tagged with the official names, so that docker-compose.yml and
  the Dockerfile use them without pulling.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.dagster_server import tail
from tests.support.prerequisites import missing as prerequisite_missing
from tooling.processes import wait_until

if TYPE_CHECKING:
    from tests.support.compose_stack import ComposeStack

STANDINS = Path(__file__).resolve().parents[1] / "docker" / "standins"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dagster-dbt-workshop" / "podman"
# What docker-compose.yml and docker/dagster/Dockerfile name, fully qualified as Docker resolves short names.
STANDIN_IMAGES = {
    "python": "docker.io/library/python:3.11-slim-bookworm",
    "postgres": "docker.io/library/postgres:15-bookworm",
    "localstack": "docker.io/localstack/localstack:4.14.0",
}
INPUTS_LABEL = "workshop.standin.inputs"
# Host files baked into the python stand-in: pip in the containers must trust and reach what the host does.
HOST_PIP_FILES = [Path("/etc/ssl/certs/ca-certificates.crt"), Path("/etc/pip.conf"), Path("/etc/xdg/pip")]
HEALTH_LOOP_INTERVAL = 2.0
# The network backend Debian's podman uses when installed (containers.conf below selects it).
NETAVARK, AARDVARK_DNS = Path("/usr/lib/podman/netavark"), Path("/usr/lib/podman/aardvark-dns")


APT_HINT = (
    "apt-get install podman buildah debootstrap runc uidmap slirp4netns fuse-overlayfs netavark aardvark-dns; "
    ".ci/run does"
)


def skip_unless_podman_runs() -> None:
    """Skip (with the reason) when Podman cannot run here; `.ci/run` installs it, so CI never skips."""
    missing = [tool for tool in ("podman", "debootstrap") if shutil.which(tool) is None]
    missing += [path.name for path in (NETAVARK, AARDVARK_DNS) if not path.exists()]
    if missing:
        prerequisite_missing(f"{', '.join(missing)} not installed ({APT_HINT})")
    if os.geteuid() != 0:
        prerequisite_missing("the Podman stack test runs rootful Podman and debootstrap: run it as root (CI does)")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "boot"


@dataclass
class Podman:
    """Rootful Podman with storage, run state and settings of its own."""

    root: Path = CACHE
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Run state per boot, on the temp folder: Podman notices a reboot by its run folder disappearing.
        run = Path(tempfile.gettempdir()) / f"dagster-dbt-workshop-podman-{_boot_id()}"
        for folder in (self.root / "storage", self.root / "networks", run / "storage", run / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        storage = self.root / "storage.conf"
        storage.write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{self.root / "storage"}"\nrunroot = "{run / "storage"}"\n'
        )
        containers = self.root / "containers.conf"
        containers.write_text(
            "[containers]\n"
            # Root here lacks CAP_SYS_RESOURCE: the default limits (above the hard ones) are refused.
            'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
            "[engine]\n"
            # crun fails on the hybrid cgroups of these machines; there is no systemd (cgroupfs, file events).
            'runtime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'tmp_dir = "{run / "tmp"}"\n'
            "[network]\n"
            # Netavark and aardvark-dns: the services find each other by name (CNI would need the dnsname plugin).
            'network_backend = "netavark"\n'
            f'network_config_dir = "{self.root / "networks"}"\n'
        )
        registries = self.root / "registries.conf"
        # Short names (FROM python:3.11-slim-bookworm) resolve as Docker resolves them.
        registries.write_text('unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n')
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": str(containers),
            "CONTAINERS_STORAGE_CONF": str(storage),
            "CONTAINERS_REGISTRIES_CONF": str(registries),
        }
        self.run_dir = run

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result

    def label(self, image: str, name: str) -> str | None:
        """A label of a local image; None when the image does not exist."""
        result = self.run("image", "inspect", "--format", "{{json .Labels}}", image, check=False)
        if result.returncode != 0:
            return None
        return (json.loads(result.stdout.strip() or "null") or {}).get(name, "")

    def image_id(self, image: str) -> str | None:
        result = self.run("image", "inspect", "--format", "{{.Id}}", image, check=False)
        return result.stdout.strip() if result.returncode == 0 else None

    def remove_outdated(self, image_id: str | None) -> None:
        """Drop the image a rebuild replaced (now untagged); kept if something still uses it."""
        if image_id:
            self.run("rmi", image_id, check=False)

    def images(self) -> list[str]:
        return self.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()

    def project_objects(self, project: str) -> dict[str, list[str]]:
        """Containers, volumes and networks Compose made for `project` (by its label)."""
        label = f"label=com.docker.compose.project={project}"
        return {
            "containers": self.run("ps", "--all", "--filter", label, "--format", "{{.Names}}").stdout.split(),
            "volumes": self.run("volume", "ls", "--filter", label, "--format", "{{.Name}}").stdout.split(),
            "networks": self.run("network", "ls", "--filter", label, "--format", "{{.Name}}").stdout.split(),
        }


def apt_mirror() -> str:
    """The machine's Debian mirror (its apt sources), as debootstrap wants it."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        text = source.read_text(errors="replace") if source.is_file() else ""
        for uri in re.findall(r"(?:^deb\s+(?:\[[^]]*\]\s+)?|^URIs:\s*)(\S+/debian)/?\s", text, flags=re.M):
            return uri
    return "http://deb.debian.org/debian"


def inputs_hash(*paths: Path, extra: str = "") -> str:
    """A hash of the files under `paths` (names and contents) and `extra`: the identity of a stand-in's build."""
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                # Named relative to a folder: another checkout of the same files reuses the images.
                name = file.relative_to(path) if path.is_dir() else file
                digest.update(str(name).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_standins(podman: Podman, log_dir: Path) -> dict[str, str]:
    """Build each stand-in whose build inputs changed since its image was built; returns their input hashes.

    Under a lock: with `make test`'s two xdist processes both stack modules start at once, and the second one
    waits for the first one's builds and reuses them instead of building the same images beside it.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "standins.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_standins(podman, log_dir)


def _ensure_standins(podman: Podman, log_dir: Path) -> dict[str, str]:
    mirror = apt_mirror()
    hashes = {"python": inputs_hash(STANDINS / "python", *[p for p in HOST_PIP_FILES if p.exists()], extra=mirror)}
    image = STANDIN_IMAGES["python"]
    if podman.label(image, INPUTS_LABEL) != hashes["python"]:
        outdated = podman.image_id(image)
        log = log_dir / "standin-python.log"
        with log.open("w") as out:
            result = subprocess.run(
                ["bash", str(STANDINS / "python" / "build.sh"), image, mirror, f"{INPUTS_LABEL}={hashes['python']}"],
                env=podman.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=1200,
            )
        assert result.returncode == 0, f"building the python stand-in failed:\n{tail(log)}"
        podman.remove_outdated(outdated)
    for name in ("postgres", "localstack"):
        hashes[name] = inputs_hash(STANDINS / name, extra=hashes["python"])
        image = STANDIN_IMAGES[name]
        if podman.label(image, INPUTS_LABEL) == hashes[name]:
            continue
        outdated = podman.image_id(image)
        # The host's network: apt and pip reach the mirror and PyPI as the host does.
        build = ["build", "--pull=never", "--network=host", "--label", f"{INPUTS_LABEL}={hashes[name]}"]
        result = podman.run(*build, "--tag", image, str(STANDINS / name), timeout=1200, check=False)
        (log_dir / f"standin-{name}.log").write_text(result.stdout + result.stderr)
        assert result.returncode == 0, f"building the {name} stand-in failed:\n{result.stderr[-3000:]}"
        podman.remove_outdated(outdated)
    return hashes


class DockerApi:
    """`podman system service`: the Docker API on a Unix socket, for the docker CLI and Compose (DOCKER_HOST)."""

    def __init__(self, podman: Podman, log: Path):
        self.socket = podman.run_dir / f"podman-{os.getpid()}.sock"
        self.socket.unlink(missing_ok=True)
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                ["podman", "system", "service", "--time=0", f"unix://{self.socket}"],
                env=podman.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.host = f"unix://{self.socket}"
        wait_until(self._answers, 60, what="podman's Docker API", details=lambda: tail(log))

    def _answers(self) -> bool:
        assert self.process.poll() is None, f"podman system service exited:\n{tail(self.log)}"
        if not self.socket.exists():
            return False
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.connect(str(self.socket))
                sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
                return b"OK" in sock.recv(4096)
            except OSError:
                return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.socket.unlink(missing_ok=True)


class HealthLoop(threading.Thread):
    """What systemd timers do for Podman elsewhere: run each running container's healthcheck at its interval."""

    def __init__(self, podman: Podman):
        super().__init__(daemon=True, name="podman-health-loop")
        self.podman = podman
        self.stopping = threading.Event()
        self.last_run: dict[str, float] = {}
        self.intervals: dict[str, float] = {}

    def interval(self, container: str) -> float | None:
        if container not in self.intervals:
            result = self.podman.run("inspect", "--format", "{{json .Config.Healthcheck}}", container, check=False)
            config = json.loads(result.stdout.strip() or "null") if result.returncode == 0 else None
            test = (config or {}).get("Test") or []
            interval = (config or {}).get("Interval") or 30_000_000_000
            self.intervals[container] = interval / 1e9 if test and test[0] != "NONE" else None
        return self.intervals[container]

    def run(self) -> None:
        while not self.stopping.wait(HEALTH_LOOP_INTERVAL):
            try:
                self.check_due()
            except Exception as error:  # a container that went away between listing and checking
                print(f"health loop: {error}")

    def check_due(self) -> None:
        running = self.podman.run("ps", "--format", "{{.ID}}", check=False).stdout.split()
        now = time.monotonic()
        due = [c for c in running if self.interval(c) and now - self.last_run.get(c, 0) >= self.interval(c)]
        checks = [
            subprocess.Popen(
                ["podman", "healthcheck", "run", c],
                env=self.podman.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for c in due
        ]
        for container, check in zip(due, checks, strict=True):
            self.last_run[container] = now
            check.wait(timeout=120)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=150)


@dataclass
class Engine:
    """What the stack tests drive: Podman, and the environment that points make, docker and Compose at its API."""

    podman: Podman
    env: dict[str, str]
    api: DockerApi


def engine_env(podman: Podman, api: DockerApi, cli_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in podman.env.items() if name.startswith("CONTAINERS_")}
    return env | {
        "PATH": os.pathsep.join([str(cli_dir), os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DOCKER_HOST": api.host,
        # Podman's API has no BuildKit: the classic builder, the one Compose falls back to without buildx.
        "DOCKER_BUILDKIT": "0",
        "COMPOSE_BAKE": "false",
    }


def remove_stack(engine: Engine, stack: ComposeStack, images: list[str]) -> None:
    """Teardown whatever a test left: the project's containers, volumes, network, and its images."""
    stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "5", timeout=300)
    # And by Podman itself, should Compose have failed.
    left = engine.podman.project_objects(stack.project)
    for kind, command in (("containers", ("rm", "--force")), ("volumes", ("volume", "rm", "--force"))):
        if left[kind]:
            engine.podman.run(*command, *left[kind], check=False)
    if left["networks"]:
        engine.podman.run("network", "rm", "--force", *left["networks"], check=False)
    if images:
        engine.podman.run("rmi", "--force", *images, check=False)
