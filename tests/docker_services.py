"""What the Docker tests need, started or made for real: an engine, a base image, a registry.

CI runs the tests as root on a fresh Debian machine with Debian's ``docker.io``,
``debootstrap`` and ``docker-registry`` installed and nothing started. So an
engine is started when none answers (and stopped again at the end), the base
image is made from Debian with debootstrap when the engine lacks it (its root
file system is kept under ~/.cache/runyard-test/, as debootstrap costs most of a
minute), and each session gets a registry of its own on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

BASE_IMAGE = "runyard-test/bookworm-python:1"
CACHE_DIR = Path.home() / ".cache" / "runyard-test"
ROOTFS_TARBALL = "bookworm-python-rootfs.tar"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# No bridge and no iptables: the machines the tests run on allow neither,
# so containers and builds use the host's network.
DOCKERD_ARGS = ["--iptables=false", "--ip6tables=false", "--bridge=none"]
# overlay2 where the kernel and the file system allow it: vfs copies the whole image for each
# layer of a build and each container (~10 s for 300 MB), which made the Docker tests the
# longest lane of `make test`. vfs works everywhere, so it is the fallback.
STORAGE_DRIVERS = ("overlay2", "vfs")
# The Docker target of the tests: builds and containers on the host's network, and pip
# inside builds trusting the host's CA bundle.
TARGET_SETTINGS = {"network": "host", "build_network_mode": "host",
                   "ca_bundle": "/etc/ssl/certs/ca-certificates.crt", "memory": "1g"}
# The CI machines keep the CPU build of torch as a local wheel: image builds get it from there
# (PyPI's own torch wheel pulls gigabytes of CUDA libraries).
if Path("/opt/wheels").is_dir():
    TARGET_SETTINGS["pip_find_links"] = "/opt/wheels"
_BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
# Left out of the base image to keep it small (the vfs driver, where overlay2 cannot run, copies
# it for every container).
_STRIPPED = ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"]


class ServiceError(RuntimeError):
    """A service the Docker tests need could not be started or made; the message says how to fix it."""


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ServiceError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; the process is reaped either way."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else ""


# -- the engine ----------------------------------------------------------------
def engine_client(base_url: str | None = None) -> Any | None:
    """A docker-py client of the engine that answers at ``base_url`` (DOCKER_HOST, else the
    default socket), or None when none answers."""
    from runyard.compute.docker import docker_client
    from runyard.errors import ComputeError
    try:  # runyard's own check: docker-py leaves the socket of a refused connection open
        return docker_client(base_url)
    except ComputeError:
        return None


def start_dockerd(log_path: Path, timeout: float = 60) -> tuple[subprocess.Popen, Any]:
    """Start ``dockerd`` in the background (as root) and wait until it answers: with the
    first of STORAGE_DRIVERS it runs with (an engine exits at once on a driver this
    machine lacks)."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise ServiceError("no Docker engine answers and dockerd is not installed: "
                           "run `apt-get install docker.io` (as root), or start an engine")
    if os.geteuid() != 0:
        raise ServiceError("no Docker engine answers, and starting dockerd needs root: start one "
                           "(`sudo dockerd " + " ".join(DOCKERD_ARGS) + "`) or set DOCKER_HOST")
    failures = []
    for driver in STORAGE_DRIVERS:
        try:
            return _start_dockerd(dockerd, [*DOCKERD_ARGS, f"--storage-driver={driver}"], log_path, timeout)
        except ServiceError as e:
            failures.append(f"with --storage-driver={driver}: {e}")
    raise ServiceError("dockerd did not start\n" + "\n".join(failures))


def _start_dockerd(dockerd: str, args: list[str], log_path: Path, timeout: float) -> tuple[subprocess.Popen, Any]:
    _remove_stale_pid_file(Path("/var/run/docker.pid"))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"-- dockerd {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.Popen([dockerd, *args], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def answers() -> Any:
        if proc.poll() is not None:
            raise ServiceError(f"dockerd exited with code {proc.returncode}; last lines of {log_path}:\n"
                               f"{_tail(log_path)}")
        return engine_client()

    try:
        client = wait_until(answers, timeout, "dockerd to answer")
    except ServiceError:
        stop_process(proc)
        raise
    return proc, client


def _remove_stale_pid_file(path: Path) -> None:
    """dockerd refuses to start while a pid file names a process, even a dead one."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
    except PermissionError:
        pass


# -- the base image -------------------------------------------------------------
def ensure_base_image(client: Any, name: str = BASE_IMAGE, cache_dir: Path = CACHE_DIR,
                      log: Callable[[str], None] = print) -> str:
    """``name`` on the engine: found, else imported from the cached root file system,
    else made with debootstrap (and the root file system cached for next time)."""
    import docker.errors
    try:
        client.images.get(name)
        return name
    except docker.errors.ImageNotFound:
        pass
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / ROOTFS_TARBALL
    if not _readable_tarball(tarball):
        started = time.monotonic()
        make_rootfs_tarball(tarball)
        log(f"made {tarball} with debootstrap in {time.monotonic() - started:.0f} s")
    repository, tag = name.rsplit(":", 1)
    client.api.import_image_from_file(str(tarball), repository=repository, tag=tag)
    client.images.get(name)  # raises if the import did not produce it
    return name


def _readable_tarball(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with tarfile.open(path) as tar:
            return tar.next() is not None
    except (tarfile.TarError, OSError):
        return False


def make_rootfs_tarball(tarball: Path, mirror: str = DEBIAN_MIRROR) -> None:
    """A minimal Debian bookworm with Python, as a tar of its root file system."""
    debootstrap = shutil.which("debootstrap") or ("/usr/sbin/debootstrap"
                                                 if Path("/usr/sbin/debootstrap").is_file() else None)
    if debootstrap is None:
        raise ServiceError(f"the engine lacks the test base image {BASE_IMAGE} and debootstrap is not "
                           f"installed to make it: run `apt-get install debootstrap` (as root)")
    if os.geteuid() != 0:
        raise ServiceError(f"making the test base image {BASE_IMAGE} with debootstrap needs root")
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=tarball.parent) as work:
        root = Path(work) / "root"
        result = subprocess.run([debootstrap, "--variant=minbase", f"--include={_BASE_PACKAGES}",
                                 "bookworm", str(root), mirror], capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"debootstrap failed (exit code {result.returncode}):\n"
                               + "\n".join((result.stdout + result.stderr).splitlines()[-15:]))
        for rel in _STRIPPED:
            folder = root / rel
            if folder.is_dir():
                for child in folder.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        partial = Path(work) / ROOTFS_TARBALL
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        os.replace(partial, tarball)  # whole or not at all, for the next session to reuse


# -- the registry ---------------------------------------------------------------
REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""
REGISTRY_AUTH = """\
auth:
  htpasswd:
    realm: runyard-test
    path: {htpasswd}
"""


def bcrypt_hash(password: str) -> str:
    """An htpasswd line's hash (bcrypt, the one kind docker-registry reads)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.13 drops crypt; CI runs 3.11
        import crypt
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


def start_registry(folder: Path, timeout: float = 30,
                   users: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Debian's docker-registry on a free loopback port, storing in ``folder``; returns it and
    its address ("127.0.0.1:PORT"), once it answers. With ``users`` (name -> password) it
    lets in only those (htpasswd)."""
    binary = shutil.which("docker-registry") or ("/usr/bin/docker-registry"
                                                 if Path("/usr/bin/docker-registry").is_file() else None)
    if binary is None:
        raise ServiceError("docker-registry is not installed: run `apt-get install docker-registry` (as root)")
    port = free_port()
    (folder / "storage").mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    text = REGISTRY_CONFIG.format(storage=folder / "storage", port=port)
    if users:
        htpasswd = folder / "htpasswd"
        htpasswd.write_text("".join(f"{name}:{bcrypt_hash(password)}\n" for name, password in users.items()))
        text += REGISTRY_AUTH.format(htpasswd=htpasswd)
    config.write_text(textwrap.dedent(text))
    log_path = folder / "registry.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([binary, "serve", str(config)], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    address = f"127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise ServiceError(f"docker-registry exited with code {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as e:  # a registry with users answers 401 to a stranger
            return bool(users) and e.code == 401
        except (urllib.error.URLError, OSError):
            return False

    try:
        wait_until(answers, timeout, f"docker-registry at {address}")
    except ServiceError:
        stop_process(proc)
        raise
    return proc, address
