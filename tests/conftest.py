"""Fixtures shared by every runyard test: one environment cache per session,
a fresh workspace per test, project folders, and a polling helper."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest


@pytest.fixture(scope="session", autouse=True)
def runyard_session_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One environment cache for the whole session (an env is built once) and a short
    cancel grace. Set in os.environ so detached supervisors inherit them."""
    cache = tmp_path_factory.mktemp("runyard-cache")
    saved = {k: os.environ.get(k) for k in (
        "RUNYARD_CACHE_DIR", "RUNYARD_CANCEL_GRACE_SECONDS", "RUNYARD_WORKSPACE",
        "RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI", "RUNYARD_SNAPSHOT_MAX_FILES", "RUNYARD_SNAPSHOT_MAX_MB")}
    os.environ["RUNYARD_CACHE_DIR"] = str(cache)
    # The CI machines keep the CPU build of torch as a local wheel (pip finds it through its
    # config; uv, which builds runyard's environments, through UV_FIND_LINKS).
    if Path("/opt/wheels").is_dir() and "UV_FIND_LINKS" not in os.environ:
        os.environ["UV_FIND_LINKS"] = "/opt/wheels"
        saved.setdefault("UV_FIND_LINKS", None)
    os.environ["RUNYARD_CANCEL_GRACE_SECONDS"] = "2"
    for key in ("RUNYARD_WORKSPACE", "RUNYARD_RUN_ID", "RUNYARD_TRACKING_URI",
                "RUNYARD_SNAPSHOT_MAX_FILES", "RUNYARD_SNAPSHOT_MAX_MB"):
        os.environ.pop(key, None)
    yield cache
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session", autouse=True)
def runyard_launchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder where this session's launchers (``runyard.compute._launcher``) listen: they
    exit after 2 idle minutes even if the session is killed, and are stopped at its end."""
    from runyard.compute._launcher import stop_launchers
    folder = tmp_path_factory.mktemp("launchers")
    folder.chmod(0o700)
    saved = {k: os.environ.get(k) for k in ("RUNYARD_LAUNCHER_DIR", "RUNYARD_LAUNCHER_IDLE_SECONDS")}
    os.environ["RUNYARD_LAUNCHER_DIR"] = str(folder)
    os.environ["RUNYARD_LAUNCHER_IDLE_SECONDS"] = "120"
    yield folder
    for pid in stop_launchers(folder):
        wait_for(lambda: process_gone(pid), timeout=30, what=f"launcher {pid} to exit")
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def cache_dir(runyard_session_env: Path) -> Path:
    return runyard_session_env


@pytest.fixture
def workspace(tmp_path: Path):
    from runyard import Workspace
    return Workspace.create(tmp_path / "ws")


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the session (Debian's package), loopback only; the one
    scripts/test_all.py started for every shard when RUNYARD_TEST_POSTGRES names its folder."""
    import tempfile
    from pg_service import PostgresServer
    if os.environ.get("RUNYARD_TEST_POSTGRES"):
        yield PostgresServer.attach(Path(os.environ["RUNYARD_TEST_POSTGRES"]))
        return
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="runyard-pg-")))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store_workspace(request, tmp_path: Path):
    """A workspace whose run history is SQLite in the folder, or a fresh PostgreSQL database:
    a module that names this as its ``workspace`` runs every test on both stores."""
    import uuid
    from runyard import Workspace
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"ws_{uuid.uuid4().hex[:12]}")
    return Workspace.create(tmp_path / "ws", store_url=url)


@pytest.fixture
def experiment(workspace):
    from runyard import Experiment
    return Experiment(workspace, "tests")


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """``project({"train.py": "print(1)"}, name="src")`` writes a source folder.

    Text values are dedented; bytes are written as they are.
    """
    counter = iter(range(10_000))

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        folder = tmp_path / (name or f"project{next(counter)}")
        folder.mkdir(parents=True, exist_ok=True)
        for rel, content in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content))
        return folder

    return make


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., Any]:
    return wait_for


def run_python(code: str, *, cwd: str | os.PathLike | None = None, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a separate, plain Python process (not a runyard job)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(name="run_python")
def run_python_fixture() -> Callable[..., subprocess.CompletedProcess]:
    return run_python


def process_gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (a zombie waiting to be reaped counts as gone)."""
    import psutil
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(name="process_gone")
def process_gone_fixture() -> Callable[[int], bool]:
    return process_gone


# -- Docker: an engine, a base image and a registry, started or made when missing ----------
# These run by default (CI runs everything); `pytest -m "not docker"` leaves them out.


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory):
    """A docker-py client of a running engine: the one that answers, else a ``dockerd``
    started here (as root, with the host's network only) and stopped at the end."""
    from docker_services import ServiceError, engine_client, start_dockerd, stop_process
    client = engine_client()
    started = None
    if client is None:
        try:
            started, client = start_dockerd(tmp_path_factory.mktemp("dockerd") / "dockerd.log")
        except ServiceError as e:
            pytest.fail(str(e), pytrace=False)
    yield client
    client.close()
    if started is not None:
        stop_process(started)


@pytest.fixture(scope="session")
def base_image(docker_engine) -> str:
    """A small Debian image with Python 3, the Docker target's default base image."""
    from docker_services import ServiceError, ensure_base_image
    try:
        return ensure_base_image(docker_engine)
    except ServiceError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def registry(docker_engine, tmp_path_factory: pytest.TempPathFactory):
    """An image registry of this session, empty at the start: "127.0.0.1:PORT"."""
    from docker_services import ServiceError, start_registry, stop_process
    try:
        proc, address = start_registry(tmp_path_factory.mktemp("registry"))
    except ServiceError as e:
        pytest.fail(str(e), pytrace=False)
    yield address
    stop_process(proc)


def run_containers(client, workspace) -> list[dict]:
    """The containers of runs of ``workspace`` that still exist, running or not (as the engine
    lists them: ``containers.list`` fails when one goes away while it looks at them)."""
    return client.api.containers(all=True, filters={"label": [
        "runyard.run_id", f"runyard.workspace={workspace.path}"]})


@pytest.fixture
def docker_target(workspace, docker_engine, base_image, registry) -> str:
    """A Docker target named "docker" in the test's workspace; after the test no container
    of its runs may remain."""
    from docker_services import TARGET_SETTINGS
    from runyard.compute.docker import DockerCompute
    workspace.compute_targets.attach("docker", DockerCompute(
        **TARGET_SETTINGS, default_base_image=base_image, registry=registry))
    yield "docker"
    # The supervisor removes a run's container just after recording its final status.
    deadline = time.monotonic() + 30
    while (left := run_containers(docker_engine, workspace)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for container in left:
        docker_engine.api.remove_container(container["Id"], force=True)
    assert not left, f"containers left behind: {[c['Labels'].get('runyard.run_id') for c in left]}"


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def compute_target(request) -> str:
    """The name to pass as ``compute_target``: one test body runs on every target."""
    if request.param == "docker":
        return request.getfixturevalue("docker_target")
    return request.param


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("ray", marks=[pytest.mark.ray, pytest.mark.postgres])])
def target_experiment(request, workspace):
    """``(experiment, compute_target)`` on every kind of target: local and Docker in the test's
    workspace, Ray in the served workspace its jobs log to. Docker's target here has room for
    a framework's processes (3 GB)."""
    from runyard import Experiment
    if request.param == "ray":
        return Experiment(request.getfixturevalue("ray_workspace"), f"ray_{uuid.uuid4().hex[:8]}"), "ray"
    if request.param == "docker":
        from runyard.compute.docker import DockerCompute
        target = request.getfixturevalue("docker_target")
        workspace.compute_targets.attach(target, DockerCompute(**{**workspace.compute_targets[target].config,
                                                                  "memory": "3g"}))
    return Experiment(workspace, "targets"), request.param


@pytest.fixture(scope="session")
def r_repository(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CRAN-like repository on this machine (CRAN is out of reach) holding one source
    package, runyardtinypkg 0.1.0, whose tiny_answer() is 42; its ``file://`` URL."""
    root = tmp_path_factory.mktemp("r-repository")
    package = root / "source" / "runyardtinypkg"
    (package / "R").mkdir(parents=True)
    (package / "DESCRIPTION").write_text(
        "Package: runyardtinypkg\nVersion: 0.1.0\nTitle: A Package for Tests\n"
        "Description: Installed from a repository by runyard's tests.\nLicense: MIT\n"
        "Authors@R: person('runyard', 'tests', email = 'tests@example.com', role = c('aut', 'cre'))\n")
    (package / "NAMESPACE").write_text("export(tiny_answer)\n")
    (package / "R" / "tiny.R").write_text("tiny_answer <- function() 42\n")
    contrib = root / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    for argv in (["R", "CMD", "build", "--no-manual", str(package)],
                 ["Rscript", "-e", "tools::write_PACKAGES('.', type = 'source')"]):
        done = subprocess.run(argv, cwd=contrib, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    return f"file://{root / 'repo'}"


# -- Ray: a head and one worker node on loopback, plus a workspace server --------------------
# Started once per session; `pytest -m "not ray"` leaves these tests out.
SERVER_TOKEN = "ray-tests-token-0123456789"  # the server takes tokens of 16 characters or more


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A Ray cluster of two nodes (head: 2 CPUs; worker: 2 CPUs and the resource "worker")."""
    from ray_services import LoopbackCluster, RayServiceError
    cluster = LoopbackCluster(tmp_path_factory.mktemp("ray"))
    try:
        cluster.start()
        cluster.add_worker(num_cpus=2, resources={"worker": 1})
    except RayServiceError as e:
        cluster.stop()
        pytest.fail(str(e), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def workspace_server(postgres, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A `runyard server` on a fresh PostgreSQL database, asking for SERVER_TOKEN."""
    from server_service import served_on_postgres
    yield from served_on_postgres(postgres, tmp_path_factory.mktemp("workspace-server"), token=SERVER_TOKEN)


@pytest.fixture
def ray_workspace(ray_cluster, workspace_server):
    """The served workspace with the cluster attached as compute target "ray"."""
    from runyard import RayCluster, Workspace
    ws = Workspace.get(workspace_server, token=SERVER_TOKEN)
    ws.compute_targets.attach("ray", RayCluster(address=ray_cluster.address))
    return ws


# -- the studio in a real browser (tests/studio_browser.py): Chromium once per module, a fresh
# page (its own storage) per test
@pytest.fixture(scope="module")
def browser():
    from studio_browser import chromium
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    from studio_browser import fresh_page
    with fresh_page(browser) as opened:
        yield opened
