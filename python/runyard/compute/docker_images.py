"""Environments as Docker images, one per hash: ``runyard/env:<hash>``.

Lookup order, as Azure ML did it: the local engine, then the target's
registry (when one is configured), then a build. A build streams its log into
the run, is tagged only when it succeeds, and is pushed to the registry (a
registry that does not answer is a warning: the run goes on with the image
built here). A file lock per hash makes concurrent runs that need one new image
build it once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import json
import os
import shlex
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator, TextIO

from filelock import FileLock

from .. import snapshot
from ..errors import EnvironmentBuildError
from ..docker_configuration import is_microsoft_image
from .local_env import cache_root, client_packages, client_requirements

IMAGE_REPOSITORY = "runyard/env"
ENV_PREFIX = "/opt/runyard/env"
CLIENT_DIR = "/opt/runyard/client"
USER = "runyard"
USER_ID = 1000
DEFAULT_BASE_IMAGE = "python:3.11-slim-bookworm"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's and Ubuntu's
_PROXY_BUILD_ARGS = {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"}
_R_DEBIAN_PACKAGES = "r-base-core r-cran-reticulate r-cran-jsonlite"
# reticulate loads Python as a shared library, which Debian's python3 does not bring along:
# this names the package that has it (libpython3.11) when the image's python3 lacks one.
_LIBPYTHON_PACKAGE = ("$(python3 -c \"import os, sys, sysconfig as s; "
                      "found = any(os.path.exists(os.path.join(s.get_config_var(d) or '', "
                      "s.get_config_var('LDLIBRARY') or '')) for d in ('LIBPL', 'LIBDIR')); "
                      "print('' if found else 'libpython%d.%d' % sys.version_info[:2])\")")


def image_hash(spec: dict[str, Any], settings: dict[str, Any] | None = None) -> str:
    """What decides the image: the environment's build spec, runyard's client requirements, and
    the target's default base image when the environment names none."""
    from ..environment import without_secrets
    build = without_secrets({k: v for k, v in spec.items() if k not in ("name", "version", "environment_variables")})
    payload: dict[str, Any] = {"environment": build, "client": client_requirements(), "layout": 4}
    docker = spec.get("docker") or {}
    if not docker.get("base_dockerfile") and (not docker.get("base_image") or is_microsoft_image(docker["base_image"])):
        payload["base_image"] = (settings or {}).get("default_base_image") or DEFAULT_BASE_IMAGE
    if spec.get("r"):  # the image holds runyard's R package: a new one is a new image
        source = r_package_source()
        payload["r_package"] = hashlib.sha256(b"".join(
            p.read_bytes() for p in sorted(source.rglob("*")) if p.is_file() and "tests" not in p.parts)).hexdigest()
    payload = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def image_tag(spec: dict[str, Any], settings: dict[str, Any] | None = None) -> str:
    return f"{IMAGE_REPOSITORY}:{image_hash(spec, settings)}"


class BuildCanceled(EnvironmentBuildError):
    """The run was canceled while its image was being built, pulled or pushed."""


class ImageResolver:
    """Finds or builds the image of an environment spec on one engine."""

    def __init__(self, client: Any, settings: dict[str, Any], log: TextIO):
        self.client = client
        self.settings = settings
        self.log = log
        self.canceled = False
        self._in_stream = False

    def cancel(self) -> None:
        """End the build, pull or push in progress. Called from the supervisor's SIGTERM handler,
        so the exception raised here ends the engine call the main thread is in."""
        self.canceled = True
        if self._in_stream:
            raise BuildCanceled("the run was canceled while its image was being built")

    @contextlib.contextmanager
    def _streaming(self) -> Iterator[None]:
        """Around an engine call that streams (build, pull, push): cancel() ends it, and its HTTP
        response is closed on the way out, which makes the engine stop a build (tagging nothing)."""
        if self.canceled:
            self._note_canceled()
            raise BuildCanceled("the run was canceled before its image was ready")
        responses: list[Any] = []

        def keep(response: Any, *args: Any, **kwargs: Any) -> None:
            responses.append(response)

        hooks = self.client.api.hooks["response"]  # docker-py's client is a requests session
        hooks.append(keep)
        self._in_stream = True
        try:
            yield
        except BuildCanceled:
            self._note_canceled()
            raise
        finally:
            self._in_stream = False
            hooks.remove(keep)
            for response in responses:
                response.close()

    def _note_canceled(self) -> None:
        # flushed at once: the log is read (and kept) while the supervisor still winds down
        self.log.write("\nCanceled: the engine stops the build.\n")
        self.log.flush()

    def _follow(self, events: Iterator[dict[str, Any]], every_s: float = 5.0) -> None:
        """Write a pull's or push's progress to the build log: a line each time a layer's status
        changes, the share of bytes moved every ``every_s`` seconds. An error event raises APIError."""
        import docker.errors
        statuses: dict[str, str] = {}
        moving: dict[str, tuple[int, int]] = {}  # layer -> (bytes moved, its size)
        last = time.monotonic()
        for event in events:
            if "error" in event:
                raise docker.errors.APIError(event["error"], explanation=event["error"])
            layer, status = event.get("id"), event.get("status") or ""
            if not status:  # "aux" events: the pushed digest, also in a status line
                continue
            detail = event.get("progressDetail") or {}
            if layer and status in ("Downloading", "Pushing") and detail.get("total"):
                moving[layer] = (detail.get("current") or 0, detail["total"])
            if not layer or statuses.get(layer) != status:
                if layer in moving and status not in ("Downloading", "Pushing"):
                    moving[layer] = (moving[layer][1], moving[layer][1])
                statuses[layer or ""] = status
                self.log.write(f"  {layer + ': ' if layer else ''}{status}\n")
            elif moving and time.monotonic() - last >= every_s:
                done, total = (sum(sizes) for sizes in zip(*moving.values()))
                self.log.write(f"  {100 * done / total:.0f}% of {total / 1e6:.1f} MB\n")
                last = time.monotonic()
            self.log.flush()

    def ensure(self, spec: dict[str, Any]) -> str:
        if (spec.get("python") or {}).get("user_managed_dependencies"):
            raise EnvironmentBuildError(
                f"environment {spec.get('name')!r} has user_managed_dependencies=True, which names an "
                f"interpreter of this machine; a Docker target builds the environment's packages into its "
                f"image instead: list them in the environment (or install them with docker.extra_steps / a "
                f"base_dockerfile) and leave user_managed_dependencies False")
        self._notes(spec)
        tag = image_tag(spec, self.settings)
        if self._local(tag):
            self.log.write(f"Image {tag} found on the engine.\n")
            _touch(tag)
            return tag
        locks = cache_root() / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(str(locks / f"image-{image_hash(spec, self.settings)}.lock")):
            if self._local(tag):
                self.log.write(f"Image {tag} was built by another run.\n")
            elif not self._pull(tag):
                self._build(spec, tag)
                self._push(tag)
        _touch(tag)
        return tag

    def _notes(self, spec: dict[str, Any]) -> None:
        """What of a v1 environment the image has otherwise (every run's log says it, whether
        the image is built now or was before): Microsoft's packages and images, an old Python."""
        from ..environment import CondaDependencies, python_pin_below_supported, python_pin_warning
        docker = spec.get("docker") or {}
        deps = (spec.get("python") or {}).get("conda_dependencies") or {}
        self.log.write(CondaDependencies(**deps).replacement_note() or "")
        if is_microsoft_image(docker.get("base_image")) and not docker.get("base_dockerfile"):
            self.log.write(f"runyard: base image {docker['base_image']} is one of Azure ML's, which runyard does "
                           f"not pull; building on this target's base image {self._base_image(spec)} instead.\n")
        if python_pin_below_supported(deps.get("python_version")):
            self.log.write(python_pin_warning(deps["python_version"], "the base image's Python"))

    def _local(self, tag: str) -> bool:
        import docker.errors
        try:
            self.client.images.get(tag)
            return True
        except docker.errors.ImageNotFound:
            return False

    def _remote(self, tag: str) -> str | None:
        registry = self.settings.get("registry")
        return f"{registry.rstrip('/')}/{tag}" if registry else None

    def _pull(self, tag: str) -> bool:
        import docker.errors
        remote = self._remote(tag)
        if not remote:
            return False
        repository, version = remote.rsplit(":", 1)
        self.log.write(f"Looking for {remote} in the registry.\n")
        try:
            with self._streaming():
                self._follow(self.client.api.pull(repository, tag=version, stream=True, decode=True))
        except docker.errors.NotFound as e:
            self.log.write(f"Not in the registry ({_short(e)}); building.\n")
            return False
        except docker.errors.APIError as e:  # not reachable: the run goes on without it
            self.log.write(f"Warning: the registry {self.settings['registry']} did not answer "
                           f"({e.explanation or _short(e)}); building here.\n")
            return False
        self.client.images.get(remote).tag(IMAGE_REPOSITORY, tag.split(":", 1)[1])
        self.log.write(f"Pulled {remote}.\n")
        return True

    def _push(self, tag: str) -> None:
        import docker.errors
        remote = self._remote(tag)
        if not remote:
            return
        repository, version = remote.rsplit(":", 1)
        self.client.images.get(tag).tag(repository, version)
        self.log.write(f"Pushing {remote}.\n")
        try:
            with self._streaming():
                self._follow(self.client.api.push(repository, tag=version, stream=True, decode=True))
        except docker.errors.APIError as e:  # the image is built and tagged here: the run goes on
            self.log.write(f"Warning: pushing {remote} failed ({e.explanation or _short(e)}); "
                           f"the run uses the image built here.\n")
            return
        self.log.write(f"Pushed {remote}.\n")
        self.log.flush()

    def _build(self, spec: dict[str, Any], tag: str) -> None:
        started = time.monotonic()
        name = spec.get("name") or "environment"
        with tempfile.TemporaryDirectory(prefix="runyard-image-") as folder:
            context = Path(folder)
            dockerfile = self._context(spec, context, tag)
            self.log.write(f"Building image {tag} for environment {name!r}:\n{dockerfile}\n")
            self.log.flush()
            registry = _registry(spec)
            if registry.get("username"):
                self._login(registry, name)
            base = self._base_image(spec)
            if base is not None:
                self._ensure_base_image(base, name, registry)
            kwargs: dict[str, Any] = {"path": str(context), "tag": tag, "rm": True, "forcerm": True,
                                      "decode": True, "buildargs": dict(self.settings.get("build_args") or {}),
                                      "nocache": bool(self.settings.get("build_no_cache"))}
            if self.settings.get("build_network_mode"):
                kwargs["network_mode"] = self.settings["build_network_mode"]
            with _wheels_for_build(self.settings.get("pip_find_links")) as find_links:
                if find_links:
                    kwargs["buildargs"]["PIP_FIND_LINKS"] = find_links
                self._stream_build(kwargs, name)
        self.log.write(f"Image {tag} built in {time.monotonic() - started:.1f} s.\n")

    def _stream_build(self, kwargs: dict[str, Any], name: str) -> None:
        tail: list[str] = []
        with self._streaming():
            for event in self.client.api.build(**kwargs):
                text = event.get("stream") or event.get("status") or ""
                if text:
                    self.log.write(text)
                    self.log.flush()
                    tail = (tail + text.rstrip().splitlines())[-12:]
                if "error" in event:
                    self.log.write(f"\nBuild failed: {event['error']}\n")
                    detail = "\n".join(tail)
                    raise EnvironmentBuildError(
                        f"the image of environment {name!r} could not be built: {event['error'].strip()}"
                        + (f"\n{detail}" if detail else ""))

    def _base_image(self, spec: dict[str, Any]) -> str | None:
        """The image the build starts FROM (in the environment's base_image_registry, if it
        names one); None when the environment gives a whole Dockerfile."""
        docker = spec.get("docker") or {}
        if docker.get("base_dockerfile"):
            return None
        image = docker.get("base_image")
        if is_microsoft_image(image):  # Azure's DEFAULT_CPU_IMAGE and kin: never pulled
            return self.settings.get("default_base_image") or DEFAULT_BASE_IMAGE
        address = (_registry(spec).get("address") or "").rstrip("/")
        if image and address and not image.startswith(address + "/"):
            return f"{address}/{image}"
        return image or self.settings.get("default_base_image") or DEFAULT_BASE_IMAGE

    def _login(self, registry: dict[str, Any], name: str) -> None:
        """Log the engine client in to the environment's registry: a build's ``FROM`` (of a
        base_dockerfile) is pulled with these credentials too."""
        import docker.errors
        self.log.write(f"Logging in to {registry['address']} as {registry['username']}.\n")
        try:
            self.client.api.login(registry["username"], registry["password"], registry=registry["address"],
                                  reauth=True)
        except docker.errors.APIError as e:
            self.log.write(f"Build failed: the login to {registry['address']} was refused.\n")
            raise EnvironmentBuildError(
                f"the image of environment {name!r} could not be built: its base_image_registry "
                f"{registry['address']} refused the login of {registry['username']!r} "
                f"({e.explanation or _short(e)})") from e

    def _ensure_base_image(self, base: str, name: str, registry: dict[str, Any] | None = None) -> None:
        """Pull a missing base image first, so that a wrong name fails saying which image it was."""
        import docker.errors
        try:
            self.client.images.get(base)
            return
        except docker.errors.ImageNotFound:
            pass
        self.log.write(f"Pulling the base image {base}.\n")
        auth = ({"username": registry["username"], "password": registry["password"]}
                if registry and registry.get("username") else None)
        try:
            with self._streaming():
                self._follow(self.client.api.pull(base, stream=True, decode=True, auth_config=auth))
        except docker.errors.APIError as e:
            self.log.write(f"Build failed: {e}\n")
            raise EnvironmentBuildError(
                f"the image of environment {name!r} could not be built: its base image {base!r} is not "
                f"on the engine and could not be pulled ({e.explanation or _short(e)})") from e

    def _context(self, spec: dict[str, Any], context: Path, tag: str) -> str:
        docker = spec.get("docker") or {}
        python = spec.get("python") or {}
        deps = python.get("conda_dependencies") or {}
        from ..environment import CondaDependencies, python_pin_below_supported
        steps = CondaDependencies(**deps).install_steps()
        requirements = steps[-1] if steps else []
        (context / "client-requirements.txt").write_text("\n".join(client_requirements()) + "\n")
        (context / "requirements.txt").write_text("\n".join(requirements) + "\n")
        # Layers from the most shared to the least: an environment that differs from another
        # by one pip package rebuilds only the last one.
        lines = []
        if docker.get("base_dockerfile"):
            lines.append(docker["base_dockerfile"].rstrip())
        else:
            lines.append(f"FROM {self._base_image(spec)}")
        lines.append("USER root")
        ca_bundle = self.settings.get("ca_bundle")
        if ca_bundle:  # added to the base image's trust store, not in its place
            shutil.copyfile(ca_bundle, context / "runyard-ca.crt")
            lines += ["COPY runyard-ca.crt /opt/runyard/extra-ca.crt",
                      f"RUN {{ cat {SYSTEM_CA_BUNDLE} 2>/dev/null && echo; cat /opt/runyard/extra-ca.crt; }} "
                      f"> /opt/runyard/ca.crt",
                      "ENV PIP_CERT=/opt/runyard/ca.crt REQUESTS_CA_BUNDLE=/opt/runyard/ca.crt "
                      "SSL_CERT_FILE=/opt/runyard/ca.crt"]
        # Docker passes its proxy variables to every build undeclared (and keeps them out of the image)
        lines += [f"ARG {name}" for name in sorted(self.settings.get("build_args") or {})
                  if name.upper() not in _PROXY_BUILD_ARGS]
        lines += list(docker.get("extra_steps") or [])
        lines.append(f"RUN id -u {USER} >/dev/null 2>&1 || useradd --create-home --uid {USER_ID} {USER}")
        pip_options = list(deps.get("pip_options") or [])
        if self.settings.get("pip_index_url"):
            pip_options.append(f"--index-url={self.settings['pip_index_url']}")
        if self.settings.get("pip_extra_index_url"):
            pip_options.append(f"--extra-index-url={self.settings['pip_extra_index_url']}")
        pip = f"{ENV_PREFIX}/bin/pip install --no-cache-dir --disable-pip-version-check {' '.join(pip_options)}"
        if deps.get("python_version") and not python_pin_below_supported(deps["python_version"]):  # the image's Python is the base image's: check it is the one asked for
            lines.append(f"RUN python3 -c {shlex.quote(_PYTHON_VERSION_CHECK.format(want=deps['python_version']))}")
        lines += ["COPY client-requirements.txt /opt/runyard/client-requirements.txt",
                  f"RUN python3 -m venv {ENV_PREFIX} && {pip} -r /opt/runyard/client-requirements.txt"]
        if spec.get("r"):
            lines += self._r_steps(spec["r"], context)
        if len(steps) > 1:  # build isolation off: the build system the packages build with goes in first
            (context / "build-requirements.txt").write_text("\n".join(steps[0]) + "\n")
            lines += ["COPY build-requirements.txt /opt/runyard/build-requirements.txt",
                      f"RUN {pip} -r /opt/runyard/build-requirements.txt"]
        if requirements and self.settings.get("pip_find_links"):
            lines.append("ARG PIP_FIND_LINKS")  # wheels served for this build only (a build arg)
        if requirements:
            lines += ["COPY requirements.txt /opt/runyard/requirements.txt",
                      f"RUN {pip} -r /opt/runyard/requirements.txt"]
        lines += [f"ENV PATH={ENV_PREFIX}/bin:$PATH VIRTUAL_ENV={ENV_PREFIX} PYTHONUNBUFFERED=1 "
                  f"RETICULATE_PYTHON={ENV_PREFIX}/bin/python PYTHONPATH={CLIENT_DIR}",
                  f"LABEL runyard.image.hash={tag.split(':', 1)[1]} runyard.environment.name={json.dumps(spec.get('name') or '')}"]
        dockerfile = "\n".join(lines) + "\n"
        (context / "Dockerfile").write_text(dockerfile)
        return dockerfile

    def _r_steps(self, r: dict[str, Any], context: Path) -> list[str]:
        """R from Debian's packages, runyard's R package, then the environment's R packages."""
        package_source = r_package_source()
        shutil.copytree(package_source, context / "r-package", ignore=shutil.ignore_patterns("tests", ".Rcheck"))
        repos = []
        from ..environment import RSection
        for i, repo in enumerate(RSection(**r).package_repos()):
            if repo.startswith("file://"):  # a repository on this machine goes into the image
                local = Path(repo[len("file://"):])
                shutil.copytree(local, context / f"repo{i}")
                repos.append(f"file:///opt/runyard/repos/repo{i}")
            else:
                repos.append(repo)
        spec = {"lib": "/usr/local/lib/R/site-library", "repos": repos,
                "r_version": r.get("r_version") or "", "install": not r.get("user_managed"),
                "cran": [{"name": p["name"], "version": p.get("version") or "", "repo": p.get("repo") or ""}
                         for p in r.get("cran_packages") or []],
                "urls": list(r.get("custom_url_packages") or []),
                "github": [g["repository"] for g in r.get("github_packages") or []],
                "bioconductor": list(r.get("bioconductor_packages") or [])}
        (context / "r-spec.json").write_text(json.dumps(spec))
        from .local_r import INSTALL_SCRIPT
        (context / "install-r-packages.R").write_text(INSTALL_SCRIPT)
        steps = [f"RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
                 f"{_R_DEBIAN_PACKAGES} {_LIBPYTHON_PACKAGE} && rm -rf /var/lib/apt/lists/*",
                 "COPY r-package /opt/runyard/r-package",
                 "RUN R CMD INSTALL /opt/runyard/r-package"]
        steps += [f"COPY {copy.name} /opt/runyard/repos/{copy.name}" for copy in sorted(context.glob("repo*"))]
        steps += ["COPY r-spec.json install-r-packages.R /opt/runyard/",
                  "RUN RUNYARD_R_SPEC=/opt/runyard/r-spec.json Rscript /opt/runyard/install-r-packages.R"]
        return steps


def _registry(spec: dict[str, Any]) -> dict[str, Any]:
    return (spec.get("docker") or {}).get("base_image_registry") or {}


def r_package_source() -> Path:
    """The runyard R package's source folder (RUNYARD_R_PACKAGE, else next to this checkout)."""
    configured = os.environ.get("RUNYARD_R_PACKAGE")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(__file__).resolve().parents[3] / "r-package")
    for candidate in candidates:
        if (candidate / "DESCRIPTION").is_file():
            return candidate
    raise EnvironmentBuildError(
        "an R environment on Docker needs the runyard R package's source to install in the image; "
        "set RUNYARD_R_PACKAGE to its folder (r-package/ in runyard's repository)")


def client_archive(run_folder: str, snapshot_path: str, user_id: int = USER_ID,
                   extra: list[tuple[str, Path]] | None = None, folders: list[str] | None = None) -> bytes:
    """A tar for put_archive at /: the job's files, ``extra`` files (path in the job folder,
    local file), empty ``folders`` (paths in the job folder) and the client packages (runyard,
    and its ``azureml`` compatibility layer when installed), so a job imports either."""
    import zipfile
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add_dir(name: str) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, user_id, user_id
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(data), mode, user_id, user_id
            tar.addfile(info, io.BytesIO(data))

        job = run_folder.strip("/")
        for folder in (job, f"{job}/outputs", f"{job}/logs"):
            add_dir(folder)
        with zipfile.ZipFile(snapshot_path) as zf:
            made = set()
            for entry in snapshot.entries(zf):  # checked: no absolute, '..', link or duplicate entry
                parts = entry.name.split("/") if entry.info.is_dir() else entry.name.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    sub = "/".join(parts[:i])
                    if sub not in made:
                        add_dir(f"{job}/{sub}")
                        made.add(sub)
                if not entry.info.is_dir():
                    add_file(f"{job}/{entry.name}", zf.read(entry.info), entry.mode)
        for name, local in extra or []:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                sub = "/".join(parts[:i])
                if sub not in made:
                    add_dir(f"{job}/{sub}")
                    made.add(sub)
            add_file(f"{job}/{name}", Path(local).read_bytes())
        for name in folders or []:
            parts = name.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                sub = "/".join(parts[:i])
                if sub not in made:
                    add_dir(f"{job}/{sub}")
                    made.add(sub)
        client = CLIENT_DIR.strip("/")
        add_dir(client)
        for package in client_packages():
            for path in sorted(package.rglob("*.py")):
                rel = path.relative_to(package.parent).as_posix()
                for i in range(1, len(rel.split("/"))):
                    sub = "/".join(rel.split("/")[:i])
                    if f"{client}/{sub}" not in tar.getnames():
                        add_dir(f"{client}/{sub}")
                add_file(f"{client}/{rel}", path.read_bytes())
    return buffer.getvalue()


_PYTHON_VERSION_CHECK = (
    'import sys; have = "%d.%d.%d" % sys.version_info[:3]; want = "{want}"; '
    'sys.exit(0 if (have + ".").startswith(want + ".") else "runyard: the environment asks for Python " + want '
    '+ " and the base image has Python " + have + "; choose a base image (or base_dockerfile) with Python " + want)')


@contextlib.contextmanager
def _wheels_for_build(find_links: str | None) -> Iterator[str | None]:
    """What the build's pip gets as PIP_FIND_LINKS: a URL as it is; a local folder served over
    HTTP on loopback while the build runs (no copy of the wheels in the image's layers)."""
    if not find_links or "://" in find_links:
        yield find_links
        return
    handler = functools.partial(_QuietFiles, directory=find_links)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="runyard-wheels", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


# -- which images exist and when they were last used ------------------------------
def _usage_file() -> Path:
    return cache_root() / "docker-images.json"


def _touch(tag: str) -> None:
    path = _usage_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        data = json.loads(path.read_text()) if path.is_file() else {}
        data[tag] = time.time()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)


def last_used() -> dict[str, float]:
    path = _usage_file()
    return json.loads(path.read_text()) if path.is_file() else {}


def forget(tag: str) -> None:
    path = _usage_file()
    with FileLock(str(path) + ".lock"):
        data = json.loads(path.read_text()) if path.is_file() else {}
        data.pop(tag, None)
        path.write_text(json.dumps(data, indent=1, sort_keys=True))


def _short(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
