"""Environments on the local machine: one uv virtualenv per environment hash.

A build happens in a temporary folder next to the cache entry and is renamed
into place only when it succeeded, under a file lock, so parallel submissions
build it once and a failed build leaves nothing behind. runyard's own
job-side client is added to every environment: its dependencies are
installed, and the package itself is put on ``PYTHONPATH`` at run time, so a
job always talks to the runyard that launched it.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TextIO

from filelock import FileLock

from ..errors import EnvironmentBuildError

if TYPE_CHECKING:
    from ..environment import Environment

READY_MARKER = "runyard-environment.json"
# Needed by the job-side client; the CLI-only ones (click, rich, uv) are left out.
_CLIENT_EXCLUDES = {"click", "rich", "uv"}


def submitting_interpreter() -> str:
    """The real binary of the running Python: not a pyenv shim, not R when embedded in it."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (Path(sys.prefix) / "bin" / version, Path(sys.prefix) / "bin" / "python3"):
        if candidate.exists():
            return str(candidate)
    return sys.executable


def cache_root() -> Path:
    root = os.environ.get("RUNYARD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "runyard")
    return Path(root)


@dataclass
class PreparedPython:
    """How to start Python (and find runyard) in a materialised environment."""

    python: str
    env_vars: dict[str, str] = field(default_factory=dict)
    path_prefix: list[str] = field(default_factory=list)
    location: str | None = None
    cache_hit: bool = True


def client_packages() -> list[Path]:
    """The package folders every job gets, whatever its target: this runyard, and runyard's
    Azure ML v1 compatibility layer (``azureml``) when it is installed."""
    compat = _azureml_compat_package()
    return [Path(__file__).resolve().parent.parent, *([compat] if compat is not None else [])]


def client_path() -> str:
    """A folder holding only links to the client packages (``runyard``, and ``azureml`` when
    installed), for a job's PYTHONPATH."""
    packages = {package.name: package for package in client_packages()}
    key = hashlib.sha256("\n".join(str(p) for p in packages.values()).encode()).hexdigest()[:16]
    folder = cache_root() / "client" / key
    for name, package in packages.items():
        link = folder / name
        if not link.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}-{os.getpid()}"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(package, target_is_directory=True)
            os.replace(tmp, link)
    from ..mlflow_tracking import write_distribution_metadata
    write_distribution_metadata(folder)  # MLflow finds runyard's plugin by its entry points
    return str(folder)


def _azureml_compat_package() -> Path | None:
    """The folder of the ``azureml`` package of ``azureml-runyard`` (compat/), if this Python has
    it; Microsoft's ``azureml`` is never linked (found without importing either)."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("azureml")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "_runyard_compat.py").is_file():
            return Path(location).resolve()
    return None


def client_requirements() -> list[str]:
    try:
        requires = importlib.metadata.requires("runyard") or []
    except importlib.metadata.PackageNotFoundError:
        requires = ["pydantic>=2.6,<3", "pyyaml>=6", "sqlalchemy>=2.0,<3", "pathspec>=0.12", "packaging>=22",
                    "filelock>=3.12", "psutil>=5.9"]
    keep = []
    for req in requires:
        if "extra ==" in req:
            continue
        name = re.split(r"[<>=!~ ;\[]", req, maxsplit=1)[0].lower()
        if name not in _CLIENT_EXCLUDES:
            keep.append(req.split(";")[0].strip())
    return keep


def _python_tag(python_version: str | None, submitting_python: str) -> str:
    version = python_version
    if version:
        return f"py{version}"
    return "py" + ".".join(map(str, sys.version_info[:2])) + "-" + hashlib.sha256(
        os.path.realpath(submitting_python).encode()).hexdigest()[:8]


def env_folder(environment: "Environment", submitting_python: str | None = None) -> Path:
    return _folder(environment.hash, environment.python.conda_dependencies.python_version,
                   submitting_python or submitting_interpreter())


def _folder(env_hash: str, python_version: str | None, submitting_python: str) -> Path:
    return cache_root() / "envs" / f"{env_hash[:24]}-{_python_tag(python_version, submitting_python)}"


def materialise_spec(spec: dict[str, Any], env_hash: str, log: TextIO, *,
                     submitting_python: str | None = None) -> PreparedPython:
    """``materialise`` for a job's stored spec; a cached plain-Python environment is found
    from the hash alone, without loading the spec models (a supervisor starts faster)."""
    submitting_python = submitting_python or submitting_interpreter()
    python = spec.get("python") or {}
    if env_hash and not spec.get("r") and not python.get("user_managed_dependencies"):
        version = (python.get("conda_dependencies") or {}).get("python_version")
        folder = _folder(env_hash, version, submitting_python)
        if (folder / READY_MARKER).is_file():
            log.write(f"Environment {spec.get('name')!r} (hash {env_hash[:12]}) cached at {folder}.\n")
            prepared = _venv_python(folder, [client_path()], cache_hit=True)
            prepared.env_vars["RETICULATE_PYTHON"] = prepared.python
            return prepared
    environment = None
    if spec:
        from ..environment import Environment
        environment = Environment(**spec)
    return materialise(environment, log, submitting_python=submitting_python)


def materialise(environment: "Environment | None", log: TextIO, *,
                submitting_python: str | None = None) -> PreparedPython:
    """A Python for ``environment`` (the submitting one, a user-managed one, or a cached venv),
    plus a cached R library when the environment lists R packages."""
    prepared = _materialise_python(environment, log, submitting_python or submitting_interpreter())
    prepared.env_vars["RETICULATE_PYTHON"] = prepared.python
    if environment is not None and environment.r is not None:
        from .local_r import materialise_r_library
        library = materialise_r_library(environment, log)
        if library:
            existing = os.environ.get("R_LIBS")
            prepared.env_vars["R_LIBS"] = os.pathsep.join([library, *([existing] if existing else [])])
    return prepared


def _python_is_default(environment: "Environment") -> bool:
    return environment.python == type(environment.python)()


def _materialise_python(environment: "Environment | None", log: TextIO,
                        submitting_python: str) -> PreparedPython:
    pythonpath = [client_path()]
    if environment is not None and environment.r is not None and _python_is_default(environment):
        log.write(f"Environment {environment.name!r} is an R environment with no Python packages: "
                  f"its R code reaches runyard through the submitting Python ({submitting_python}).\n")
        return PreparedPython(submitting_python, env_vars=_pythonpath_env(pythonpath))
    if environment is None:
        log.write(f"No environment given: using the submitting Python ({submitting_python}).\n")
        return PreparedPython(submitting_python, path_prefix=_own_bin_dir(submitting_python),
                              env_vars=_pythonpath_env(pythonpath))
    if environment.python.user_managed_dependencies:
        python = environment.python.interpreter_path or submitting_python
        resolved = shutil.which(python) or python
        if not Path(resolved).exists():
            raise EnvironmentBuildError(
                f"environment {environment.name!r}: python.interpreter_path {python!r} does not exist")
        log.write(f"Environment {environment.name!r} is user-managed: using {resolved}.\n")
        return PreparedPython(resolved, env_vars=_pythonpath_env(pythonpath))

    folder = env_folder(environment, submitting_python)
    if (folder / READY_MARKER).is_file():
        log.write(f"Environment {environment.name!r} (hash {environment.hash[:12]}) cached at {folder}.\n")
        return _venv_python(folder, pythonpath, cache_hit=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / READY_MARKER).is_file():
            log.write(f"Environment {environment.name!r} was built by another run; using {folder}.\n")
            return _venv_python(folder, pythonpath, cache_hit=True)
        _build(environment, folder, log, submitting_python)
    return _venv_python(folder, pythonpath, cache_hit=False)


def _own_bin_dir(python: str) -> list[str]:
    """The folder of ``python`` to put first on PATH, so a command job's ``python`` is that
    Python too; none when it is a system folder that is on PATH anyway."""
    folder = str(Path(python).parent)
    return [] if folder in ("/usr/bin", "/bin", "/usr/local/bin") else [folder]


def _pythonpath_env(paths: list[str]) -> dict[str, str]:
    existing = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([*paths, *([existing] if existing else [])])}


def _venv_python(folder: Path, pythonpath: list[str], cache_hit: bool) -> PreparedPython:
    bin_dir = folder / "bin"
    env_vars = {"VIRTUAL_ENV": str(folder), **_pythonpath_env(pythonpath)}
    return PreparedPython(str(bin_dir / "python"), env_vars=env_vars, path_prefix=[str(bin_dir)],
                          location=str(folder), cache_hit=cache_hit)


def _uv() -> str:
    try:
        from uv import find_uv_bin
        return find_uv_bin()
    except Exception:
        found = shutil.which("uv")
        if found:
            return found
        raise EnvironmentBuildError("uv is needed to build environments: pip install uv") from None


def _python_for(version: str, uv: str, env: dict[str, str], log: TextIO) -> str:
    """The Python to build with for a ``python_version`` pin: the pin when uv finds it and
    runyard runs on it; else the nearest Python uv finds, with a warning in the log."""
    from ..environment import OLDEST_PYTHON, python_pin_below_supported, python_pin_warning
    if not python_pin_below_supported(version) and subprocess.run(
            [uv, "python", "find", version], env=env, capture_output=True).returncode == 0:
        return version
    listed = subprocess.run([uv, "python", "list", "--only-installed", "--output-format", "json"],
                            env=env, capture_output=True, text=True)
    found = json.loads(listed.stdout) if listed.returncode == 0 else []
    versions = {tuple(int(p) for p in f["version"].split(".")[:2]) for f in found
                if f.get("implementation", "cpython") == "cpython"}
    usable = [v for v in versions if v >= OLDEST_PYTHON]
    if not usable:
        return version  # uv's own error says no Python was found
    wanted = tuple(int(p) for p in (version.split(".") + ["0"])[:2])
    nearest = min(usable, key=lambda v: (abs((v[0] - wanted[0]) * 100 + v[1] - wanted[1]), v))
    used = ".".join(map(str, nearest))
    log.write(python_pin_warning(version, f"Python {used}"))
    return used


def _stream(cmd: list[str], log: TextIO, env: dict[str, str]) -> tuple[int, list[str]]:
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    tail: list[str] = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, start_new_session=True)
    _current_build.append(proc)
    try:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                tail = (tail + [line.rstrip()])[-15:]
        return proc.wait(), tail
    finally:
        _current_build.remove(proc)


_current_build: list[subprocess.Popen] = []


def stop_build() -> None:
    """Kill a build in progress (the supervisor calls it when a run is canceled)."""
    for proc in list(_current_build):
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass


@contextmanager
def building_into(folder: Path, marker: str, describe: dict[str, Any]) -> Iterator[Path]:
    """Yield a temporary folder beside ``folder`` to build in; when the block ends without an
    error, write the ready ``marker`` and rename the build into place. On any error (or a
    cancel) the temporary folder is removed, so a failed build leaves nothing behind."""
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
        (tmp / marker).write_text(json.dumps({**describe, "built_at": time.time()}, indent=2))
        if folder.exists():  # a leftover without the ready marker
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build(environment: "Environment", folder: Path, log: TextIO, submitting_python: str) -> None:
    started = time.monotonic()
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    deps = environment.python.conda_dependencies
    log.write(f"Building environment {environment.name!r} (hash {environment.hash[:12]}) with uv.\n")
    log.write(deps.replacement_note() or "")
    python = _python_for(deps.python_version, uv, env, log) if deps.python_version else submitting_python
    describe = {"name": environment.name, "hash": environment.hash, "spec": environment.build_spec()}
    with building_into(folder, READY_MARKER, describe) as tmp:
        code, tail = _stream([uv, "venv", "--relocatable", "--no-project", "--python", python, str(tmp)], log, env)
        if code != 0:
            raise EnvironmentBuildError(
                f"environment {environment.name!r}: no Python {python} found for the virtualenv "
                f"(uv: {' '.join(tail[-3:])})")
        install = [uv, "pip", "install", "--python", str(tmp / "bin" / "python")]
        for option in deps.pip_options:
            install.extend(option.replace("=", " ", 1).split() if option.startswith("--") else option.split())
        steps = deps.install_steps() or [[]]
        steps[-1] = [*steps[-1], *client_requirements()]  # runyard's client with the last install
        for step in steps:
            command = list(install)
            for requirement in step:
                command.extend(requirement.split(None, 1) if requirement.startswith("-e ") else [requirement])
            code, tail = _stream(command, log, env)
            if code != 0:
                raise EnvironmentBuildError(
                    f"environment {environment.name!r}: installing packages failed:\n" + "\n".join(tail))
    log.write(f"Environment built in {time.monotonic() - started:.1f} s at {folder}.\n")
    log.flush()
