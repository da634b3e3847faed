"""The Docker compute target: each environment an image (built once per hash),
each run a container, supervised like a local run.

The job's files are copied into the container (never a bind mount of the
user's folder), it runs as the non-root user ``runyard`` by default, under the
target's CPU and memory limits, and logs to its run through a spool folder
that its supervisor relays to the workspace (see ``store/spool.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
from pathlib import Path
from typing import Any, BinaryIO, Callable, TextIO

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from .. import _yaml, folders, resume
from ..errors import ComputeError, ConfigError, missing_dependency
from ..folders import LeftOut
from . import JobSpec
from .execution import Execution, collect_folder, job_argv
from .local import SupervisedTarget

JOB_DIR = "/runyard/job"
SPOOL_DIR = "/runyard/spool"
_SIZE_RE = re.compile(r"^\d+(\.\d+)?[bkmg]?$", re.IGNORECASE)
_GPU_DEVICES_RE = re.compile(r"^(device=)?(\d+|(GPU|MIG)-[\w-]+)(,(\d+|(GPU|MIG)-[\w-]+))*$")  # indexes or UUIDs


class DockerSettings(BaseModel):
    """A Docker target's settings (stored with the workspace)."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = None
    cpus: float | None = Field(None, gt=0)
    memory: str | None = None
    shm_size: str | None = None
    gpus: int | str | None = None
    network: str | None = None
    user: str = "runyard"
    registry: str | None = None
    default_base_image: str | None = None
    build_network_mode: str | None = None
    build_no_cache: bool = False
    build_args: dict[str, str] = Field(default_factory=dict)
    ca_bundle: str | None = None
    pip_index_url: str | None = None
    pip_extra_index_url: str | None = None
    #: a folder of wheels on this machine (served to the build on loopback, so it needs
    #: build_network_mode="host") or a URL, for pip's --find-links
    pip_find_links: str | None = None

    @pydantic.field_validator("memory", "shm_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and not _SIZE_RE.match(str(value)):
            raise ValueError("use a size like '512m' or '2g'")
        return value

    @pydantic.field_validator("gpus")
    @classmethod
    def _gpus(cls, value: int | str | None) -> int | str | None:
        """A count, "all", or devices ("0,1" or "device=0,1"), kept as a count, "all" or "device=..."."""
        if value is None or value == "all":
            return value
        text = str(value).strip()
        if isinstance(value, int) and not isinstance(value, bool) or text.isdigit():
            if int(text) < 0:
                raise ValueError("a GPU count cannot be negative")
            return int(text)
        if isinstance(value, str) and _GPU_DEVICES_RE.match(text):
            return "device=" + text.removeprefix("device=")
        raise ValueError("use a count like 2, 'all', or devices like '0,1' or 'device=0,1'")

    @pydantic.field_validator("ca_bundle")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @pydantic.field_validator("pip_find_links")
    @classmethod
    def _wheels(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value and not Path(value).is_dir():
            raise ValueError(f"no such folder: {value} (give a folder of wheels or a URL)")
        return value

    @pydantic.model_validator(mode="after")
    def _served_wheels_need_host_network(self) -> "DockerSettings":
        if self.pip_find_links and "://" not in self.pip_find_links and self.build_network_mode != "host":
            raise ValueError("pip_find_links: a local folder is served to the build on loopback, which a build "
                             "reaches only with build_network_mode='host'")
        return self


class DockerCompute(SupervisedTarget):
    """Runs jobs in containers on a Docker engine.

    >>> ws.compute_targets.attach("docker", DockerCompute(memory="4g", cpus=2))  # doctest: +SKIP
    """

    type = "docker"

    def __init__(self, workspace: Any = None, name: str | None = None, config: dict[str, Any] | None = None,
                 **settings: Any):
        merged = {**(config or {}), **settings}
        try:
            merged = DockerSettings(**merged).model_dump(exclude_defaults=True)
        except pydantic.ValidationError as e:
            raise ConfigError(_yaml.validation_message(e, "DockerCompute")) from e
        super().__init__(workspace, name, merged)

    @property
    def settings(self) -> DockerSettings:
        return DockerSettings(**self.config)

    def client(self) -> Any:
        return docker_client(self.settings.base_url)

    def check_environment(self, environment: Any) -> None:
        """Every run here is a container of the environment's image: an interpreter of this
        machine (user_managed_dependencies) and a GitHub token (which would stay in the image's
        layers) cannot go into one."""
        where = f"Environment {environment.name!r}"
        if environment.python.user_managed_dependencies:
            raise ConfigError(f"{where}: python.user_managed_dependencies=True names an interpreter of this "
                              f"machine; the Docker target builds the environment's packages into its image: list "
                              f"them (or install them with docker.extra_steps / a base_dockerfile) and leave "
                              f"user_managed_dependencies False")
        for i, package in enumerate(environment.r.github_packages if environment.r else []):
            if package.auth_token:
                raise ConfigError(f"{where}: r.github_packages[{i}].auth_token: the Docker target installs R "
                                  f"packages while it builds the image, whose layers would keep the token; install "
                                  f"{package.repository} in a base image (docker.base_image) or from a "
                                  f"custom_url_packages archive, or run on the local target")

    def prepare(self, environment: Any, log: TextIO) -> str:
        """Find or build the environment's image; returns its tag."""
        from .docker_images import ImageResolver
        spec = environment.model_dump(mode="json") if environment is not None else {"name": "default"}
        return ImageResolver(self.client(), self.config, log).ensure(spec)

    def submit(self, job: JobSpec) -> str:
        self.client().close()  # no engine: the run fails now, saying how to start one
        return super().submit(job)

    def execution(self, job: JobSpec, work: Path, logs_dir: Path) -> "DockerExecution":
        return DockerExecution(job, work, logs_dir, self.workspace, self)

    def on_lost(self, row: dict[str, Any]) -> None:
        try:
            for container in self.client().containers.list(all=True, filters={"label": f"runyard.run_id={row['run_id']}"}):
                container.remove(force=True)
        except ComputeError:
            pass


def docker_client(base_url: str | None = None) -> Any:
    """A connected docker-py client; a clear error when there is no engine."""
    try:
        import docker
    except ImportError as e:
        raise missing_dependency("docker", "docker") from e
    where = base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    problem = _unix_socket_problem(where)
    if problem:
        raise ComputeError(_no_engine(where, problem))
    client = None
    try:
        client = docker.DockerClient(base_url=where, timeout=300)
        client.ping()
        return client
    except Exception as e:
        if client is not None:
            client.close()
        raise ComputeError(_no_engine(where, str(e).splitlines()[0][:160] if str(e) else type(e).__name__)) from e


def gpu_request(gpus: int | str) -> Any:
    """The engine's request for a target's ``gpus`` (as DockerSettings keeps it): a count,
    "all", or "device=0,1"."""
    import docker.types
    if isinstance(gpus, str) and gpus.startswith("device="):
        return docker.types.DeviceRequest(device_ids=gpus[len("device="):].split(","), capabilities=[["gpu"]])
    return docker.types.DeviceRequest(count=-1 if gpus == "all" else int(gpus), capabilities=[["gpu"]])


def _no_engine(where: str, problem: str) -> str:
    return (f"no Docker engine answers at {where} ({problem}). Start one (`sudo systemctl start docker`, "
            f"or run `dockerd` as root) or point DOCKER_HOST / the target's base_url at a running engine.")


def _unix_socket_problem(url: str) -> str | None:
    """Why nothing answers at a ``unix://`` engine address, if nothing does. Checked before
    docker-py tries, as it leaves the socket of a failed connection open."""
    if not url.startswith("unix://"):
        return None
    path = url[len("unix://"):]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        try:
            sock.connect(path)
        except OSError as e:
            return f"{path}: {e.strerror or e}"
    return None


class DockerExecution(Execution):
    def __init__(self, job: JobSpec, work: Path, logs_dir: Path, workspace: Any, target: DockerCompute):
        super().__init__(job, work, logs_dir, workspace)
        self.target = target
        self.settings = target.settings
        self.client = target.client()
        self.image: str | None = None
        self.container: Any = None
        self.log_thread: threading.Thread | None = None
        self.spool = work / "spool"
        self.spool_offset = 0
        self.spool_runs: set[str] = set()  # runs the job created, whose writes are relayed
        self.oom = False
        self.stopped = False
        self.resolver: Any = None

    def prepare(self, log: TextIO) -> None:
        from .docker_images import ImageResolver
        gpus = (self.job.resources or {}).get("num_gpus")
        if gpus and not self.settings.gpus:
            raise ComputeError(f"the run asks for {gpus:g} GPU(s) (num_gpus, or an estimator's use_gpu=True) "
                               f"and the Docker target {self.target.name!r} gives its containers none: set its "
                               f"`gpus` (e.g. `runyard compute attach docker {self.target.name} --gpus all`)")
        spec = self.job.environment or {"name": "default"}
        self.resolver = ImageResolver(self.client, self.target.config, log)
        self.image = self.resolver.ensure(spec)

    def start(self, output: BinaryIO) -> int | None:
        from ..run import ENV_RUN_ID, ENV_TRACKING_URI
        from ..store.spool import write_run_file
        from .docker_images import CLIENT_DIR, client_archive
        store = self.workspace._store
        shutil.rmtree(self.work, ignore_errors=True)
        self.spool.mkdir(parents=True)
        write_run_file(self.spool, store.get_run(self.job.run_id), store.get_tags(self.job.run_id),
                       store.get_properties(self.job.run_id))
        for path in [self.spool, *self.spool.rglob("*")]:  # the container's user writes here
            path.chmod(0o777 if path.is_dir() else 0o666)
        spec = self.job.environment or {}
        environment = {**(spec.get("environment_variables") or {}), **self.job.environment_variables,
                       ENV_RUN_ID: self.job.run_id, ENV_TRACKING_URI: f"spool://{SPOOL_DIR}",
                       "RUNYARD_EXPERIMENT_NAME": self.job.experiment, "RUNYARD_OUTPUTS_DIR": f"{JOB_DIR}/outputs",
                       "PYTHONPATH": CLIENT_DIR, "PYTHONUNBUFFERED": "1", "HOME": "/home/runyard"}
        if self.job.resume_from:
            environment[resume.ENV_VAR] = f"{JOB_DIR}/{resume.FOLDER}"
        argv = job_argv(self.job, "python", (spec.get("r") or {}).get("rscript_path") or "Rscript")
        if self.job.distributed:  # every rank in this container, started by runyard's client
            argv = ["python", "-m", "runyard.compute._ranks", json.dumps(self.job.distributed), f"{JOB_DIR}/logs",
                    "--", *argv]
        s = self.settings
        kwargs: dict[str, Any] = {
            "command": argv, "working_dir": JOB_DIR, "environment": environment, "user": s.user,
            "labels": {"runyard.run_id": self.job.run_id, "runyard.workspace": self.job.workspace_path},
            "volumes": {str(self.spool): {"bind": SPOOL_DIR, "mode": "rw"}}, "detach": True,
            # an init as PID 1: the job gets SIGTERM as a local job does (PID 1 ignores
            # signals it has no handler for) and its exited children are reaped
            "init": True,
        }
        if s.network:
            kwargs["network_mode"] = s.network
        if s.cpus:
            kwargs["nano_cpus"] = int(s.cpus * 1e9)
        if s.memory:
            kwargs["mem_limit"] = s.memory
            kwargs["memswap_limit"] = s.memory  # no swap: over the limit is an OOM kill, not a crawl
        from .docker_arguments import container_options
        extra = container_options((spec.get("docker") or {}).get("arguments") or [])
        environment = {**extra.pop("environment", {}), **environment}  # runyard's variables win
        kwargs["environment"] = environment
        kwargs["labels"] = {**extra.pop("labels", {}), **kwargs["labels"]}
        kwargs.update(extra)
        shm = s.shm_size or (spec.get("docker") or {}).get("shm_size") or extra.get("shm_size")
        if shm:
            kwargs["shm_size"] = shm
        if s.gpus:
            kwargs["device_requests"] = [gpu_request(s.gpus)]
        try:
            self.container = self.client.containers.create(self.image, **kwargs)
            extra = ([(f"{resume.FOLDER}/{name}", local) for name, local in resume.files(self.job.resume_from, self.workspace)]
                     if self.job.resume_from else [])
            extra += resume.input_files(self.job.inputs, self.workspace)
            folders = [source["folder"] for source in self.job.inputs] + list(self.job.output_folders)
            self.container.put_archive("/", client_archive(JOB_DIR, self.job.snapshot_path, extra=extra,
                                                           folders=folders))
            self.container.start()
        except Exception as e:
            raise ComputeError(f"the container could not start: {e}") from e
        self.log_thread = threading.Thread(target=self._copy_logs, args=(output,), daemon=True)
        self.log_thread.start()
        return None

    def _copy_logs(self, output: BinaryIO) -> None:
        try:
            for chunk in self.container.logs(stream=True, follow=True):
                output.write(chunk)
        except Exception as e:  # the container vanished; its exit says what happened
            output.write(f"\nrunyard: log stream ended: {e}\n".encode())

    def wait(self, timeout: float) -> int | None:
        import requests
        try:
            result = self.container.wait(timeout=timeout)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            return None
        if self.log_thread is not None:
            self.log_thread.join(timeout=10)
        self.container.reload()
        self.oom = bool(self.container.attrs.get("State", {}).get("OOMKilled"))
        code = int(result.get("StatusCode", -1))
        # 128 + N is signal N only when one was sent (stop, OOM kill); a job may exit with 200 itself
        return -(code - 128) if code > 128 and (self.stopped or self.oom) else code

    def stop(self, grace_s: float, output: BinaryIO | None) -> None:
        if self.container is None:
            if self.resolver is not None:
                self.resolver.cancel()  # an image build in progress ends (from the supervisor's SIGTERM handler)
            return
        self.stopped = True
        try:
            self.container.stop(timeout=int(max(grace_s, 1)))
        except Exception:
            self.container.kill()

    def tick(self) -> None:
        from ..store.spool import ModelRegistrar, apply_events
        if self.spool.is_dir():
            self.spool_offset = apply_events(self.workspace._store, self.spool, self.spool_offset, self.job.run_id,
                                             self.spool_runs, note=self.note,
                                             registrar=ModelRegistrar(self.workspace, self.spool))

    def failure_reason(self, code: int) -> str | None:
        if self.oom:
            return (f"the container ran out of memory: it was OOM-killed at the target's memory limit "
                    f"({self.settings.memory or 'the engine default'})")
        return None

    def collect(self) -> None:
        artifacts = self.workspace._artifacts
        self.tick()
        collected = self.work / "collected"
        for folder in ("outputs", "logs"):
            try:
                stream, _ = self.container.get_archive(f"{JOB_DIR}/{folder}")
            except Exception:
                continue
            collected.mkdir(parents=True, exist_ok=True)
            _extract(b"".join(stream), collected, self.note)
            collect_folder(artifacts, self.job.run_id, collected, folder, self.note, move=True)
        uploads = self.spool / "artifacts" / "runs"
        if uploads.is_dir():
            self._collect_uploads(uploads)

    def _collect_uploads(self, uploads: Path) -> None:
        """Files the job uploaded through the spool, for its own run and the runs it created."""
        allowed = ({self.job.run_id} | self.spool_runs
                   | {r["run_id"] for r in self.workspace._store.list_runs(parent_id=self.job.run_id)})
        for run_folder in sorted(uploads.iterdir()):
            if run_folder.name not in allowed or run_folder.is_symlink() or not run_folder.is_dir():
                self.note(LeftOut(f"artifacts/runs/{run_folder.name}",
                                  "the job may upload only to its own run and the runs it created").line())
                continue
            self.workspace._artifacts.put_folder(run_folder.name, "", run_folder, move=True, log=self.note)

    def cleanup(self) -> None:
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except Exception:
                pass
        shutil.rmtree(self.work, ignore_errors=True)


def _extract(archive: bytes, target: Path, note: Callable[[str], None]) -> None:
    """Unpack a tar of the container's files into ``target``: each member that would land (or
    whose link would point) outside it, or is a device, is left out with a line to ``note``."""
    import io
    import tarfile
    has_filters = hasattr(tarfile, "data_filter")  # Python 3.10.12+, 3.11.4+
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            try:
                if has_filters:
                    tar.extract(member, target, filter="data")
                else:
                    _extract_plain(tar, member, target)
            except tarfile.TarError as e:
                link = has_filters and (member.issym() or member.islnk())
                reason = f"a link to {member.linkname}, out of the folder" if link else f"not unpacked: {e}"
                note(LeftOut(member.name, reason).line())


def _extract_plain(tar: Any, member: Any, target: Path) -> None:
    """A file or folder of a tar, on a Python without extraction filters: only below ``target``."""
    import tarfile
    name = Path(member.name)
    if not (member.isfile() or member.isdir()):
        raise tarfile.TarError("this Python unpacks no links or special files (Python 3.11.4 or later does)")
    if name.is_absolute() or ".." in name.parts or not folders.inside(target / name, Path(os.path.realpath(target))):
        raise tarfile.TarError(f"{member.name!r} would land outside {target}")
    member.mode = (member.mode & 0o755) | 0o600
    tar.extract(member, target)



