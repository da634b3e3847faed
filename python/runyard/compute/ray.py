"""The Ray compute target: each run is a Ray job, submitted through the Jobs API.

A runyard supervisor on the submitting machine drives the job, as for the
local and Docker targets, so status, cancel, the duration limit and logs work
the same way:

- Preparing: the job is submitted (the snapshot zip is its working directory,
  the environment its runtime environment); Ray installs that environment on
  a node. A failed install ends the run Failed in Preparing, with the
  installer's output.
- Running: the entrypoint (``python -m runyard.compute._ray_job``) runs the
  script on a node, logs to the run through the tracking URI and uploads
  ``./outputs`` when the script ends. The job's output is copied into
  ``logs/driver.log`` while it runs.
- A job lost with its node ends Failed with that reason, or is submitted again
  while ``max_retries`` allows.

Uploads are kept warm by Ray: the snapshot and runyard's own package are
content-addressed, so a second run of the same source uploads nothing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlparse

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from .. import _yaml
from ..errors import ComputeError, ConfigError, EnvironmentBuildError, missing_dependency
from . import JobSpec
from ._ray_job import LOST_EXIT_CODE
from .execution import Execution, job_argv, job_credentials
from .local import SupervisedTarget
from .local_env import client_packages

if TYPE_CHECKING:
    from ..environment import Environment

DEFAULT_ADDRESS = "http://127.0.0.1:8265"
_TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
_LOG_INTERVAL_S = 1.0


class RaySettings(BaseModel):
    """A Ray target's settings (stored with the workspace)."""

    model_config = ConfigDict(extra="forbid")
    #: the cluster's dashboard (Jobs API) address; RAY_ADDRESS when not given
    address: str | None = None
    #: where jobs log: the workspace server's URL. Default: the workspace's own address - its
    #: server URL, or for a workspace folder its path, which only nodes sharing this
    #: machine's file system can use.
    tracking_uri: str | None = None
    #: run jobs in the environment's Docker base image (Ray's ``image_uri``; the cluster must
    #: have podman)
    use_image: bool = False
    #: Ray's seconds between SIGTERM and SIGKILL when a job is stopped
    stop_grace_s: float = Field(10, ge=0)

    @pydantic.field_validator("address", "tracking_uri")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an address like http://127.0.0.1:8265")
        return value.rstrip("/") if value else value


class RayCluster(SupervisedTarget):
    """A Ray cluster, reached through its Jobs API.

    >>> ws.compute_targets.attach("ray", RayCluster(address="http://127.0.0.1:8265"))  # doctest: +SKIP
    """

    type = "ray"

    def __init__(self, workspace: Any = None, name: str | None = None, config: dict[str, Any] | None = None,
                 **settings: Any):
        merged = {**(config or {}), **settings}
        try:
            merged = RaySettings(**merged).model_dump(exclude_defaults=True)
        except pydantic.ValidationError as e:
            raise ConfigError(_yaml.validation_message(e, "RayCluster")) from e
        super().__init__(workspace, name, merged)

    @property
    def settings(self) -> RaySettings:
        return RaySettings(**self.config)

    @property
    def address(self) -> str:
        return self.settings.address or os.environ.get("RAY_ADDRESS") or DEFAULT_ADDRESS

    def client(self) -> Any:
        return ray_client(self.address)

    def check_reachable(self) -> None:
        self.client()

    def check_environment(self, environment: "Environment") -> None:
        """A job here runs on a node, with the node's Python and R: what names an interpreter
        or R of this machine, R packages to install, and (with ``use_image``) image options
        Ray's ``image_uri`` cannot take are refused."""
        runtime_env_for(environment.model_dump(mode="json"), self.settings)

    def prepare(self, environment: "Environment | None", log: TextIO) -> dict[str, Any]:
        """The runtime environment Ray installs for ``environment`` (Ray builds it on the nodes)."""
        spec = environment.model_dump(mode="json") if environment is not None else {}
        return runtime_env_for(spec, self.settings)

    def execution(self, job: JobSpec, work: Path, logs_dir: Path) -> "RayExecution":
        return RayExecution(job, work, logs_dir, self.workspace, self)

    def on_lost(self, row: dict[str, Any]) -> None:
        """The supervisor is gone: stop whatever Ray job of the run still runs."""
        try:
            client = self.client()
        except ComputeError:
            return
        definition = json.loads(row.get("definition") or "{}")
        for attempt in range(1, int(definition.get("max_retries") or 0) + 2):
            try:
                client.stop_job(submission_id(row["run_id"], attempt))
            except Exception:  # no such job, or it already ended
                continue


def ray_client(address: str) -> Any:
    """A Jobs API client of the cluster at ``address``; one clear error when nothing answers."""
    try:
        from ray.job_submission import JobSubmissionClient
    except ModuleNotFoundError as e:
        raise missing_dependency("ray", "ray") from e
    try:
        return JobSubmissionClient(address)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise ComputeError(f"no Ray cluster answers at {address} ({first}). Start one with "
                           f"`ray start --head --dashboard-host=127.0.0.1`, or check the RayCluster's "
                           f"address (it is the dashboard's, port 8265 by default).") from e


def submission_id(run_id: str, attempt: int) -> str:
    """The Ray job id of a run's ``attempt`` (1, then one more per retry)."""
    return f"runyard-{run_id}" + (f"-retry{attempt - 1}" if attempt > 1 else "")


def runtime_env_for(spec: dict[str, Any], settings: RaySettings) -> dict[str, Any]:
    """What Ray installs on a node for an environment: pip packages, variables, an image; a
    ``ConfigError`` naming a field Ray cannot honour."""
    runtime_env: dict[str, Any] = {}
    where = f"Environment {spec.get('name')!r}"
    python = spec.get("python") or {}
    conda = python.get("conda_dependencies") or {}
    if python.get("interpreter_path"):
        raise ConfigError(f"{where}: python.interpreter_path names an interpreter of this machine; a Ray job runs "
                          f"with its node's Python (with the environment's pip packages): leave it unset")
    if (conda.get("pip_packages") or conda.get("conda_packages")) and not python.get("user_managed_dependencies"):
        from ..environment import CondaDependencies
        packages = CondaDependencies(**conda).requirements()
        options = [o for o in conda.get("pip_options") or [] if o]
        if packages:  # none left when all were Microsoft's azureml packages (replaced by the layer)
            runtime_env["pip"] = {"packages": [*options, *packages], "pip_check": False}
    r = spec.get("r") or {}
    if any(r.get(k) for k in ("cran_packages", "github_packages", "custom_url_packages",
                              "bioconductor_packages")):
        raise ConfigError(f"Environment {spec.get('name')!r}: R packages are not installed on Ray nodes "
                          f"by runyard; install them in the nodes' R library (or image) and list none here")
    if r.get("r_version"):
        raise ConfigError(f"{where}: r.r_version: a Ray job runs its node's R, which runyard does not choose; "
                          f"leave r_version unset (check R.version in the script if it matters)")
    docker = spec.get("docker") or {}
    if not settings.use_image:
        if docker.get("enabled"):
            raise ConfigError(f"{where}: docker.enabled=True asks for a container, and this Ray target runs jobs as "
                              f"processes of its nodes; attach it with use_image=True to run them in the "
                              f"environment's base image, or set docker.enabled=False")
        return runtime_env
    for field, value in (("base_dockerfile", docker.get("base_dockerfile")),
                         ("extra_steps", docker.get("extra_steps")), ("arguments", docker.get("arguments")),
                         ("shm_size", docker.get("shm_size")), ("base_image_registry", docker.get("base_image_registry"))):
        if value:
            raise ConfigError(f"{where}: docker.{field}: a Ray target with use_image runs the base image as it is "
                              f"(Ray's image_uri, pulled by the nodes); build an image with what it needs, push it "
                              f"where the nodes can pull it, and name it in docker.base_image")
    from ..docker_configuration import is_microsoft_image
    if is_microsoft_image(docker.get("base_image")):
        raise ConfigError(f"{where}: docker.base_image {docker['base_image']!r} is one of Azure ML's images, which "
                          f"runyard does not pull; name an image the nodes can pull (one with Python and "
                          f"runyard's requirements), or attach the Ray target without use_image")
    if docker.get("base_image"):
        runtime_env["image_uri"] = docker["base_image"]
    return runtime_env


class RayExecution(Execution):
    """One run as Ray jobs (one per attempt), driven from the supervisor."""

    def __init__(self, job: JobSpec, work: Path, logs_dir: Path, workspace: Any, target: RayCluster):
        super().__init__(job, work, logs_dir, workspace)
        self.target = target
        self.client = target.client()
        self.attempt = 0
        self.submission_id: str | None = None
        self.lost_reason: str | None = None
        self._written = 0
        self._next_logs = 0.0
        self._output: Any = None
        self._stopping = False

    # -- Preparing: submit, and wait while Ray installs the runtime environment -------------
    def prepare(self, log: TextIO) -> None:
        from ..environment import CondaDependencies, python_pin_below_supported, python_pin_warning
        conda = CondaDependencies(**((self.job.environment.get("python") or {}).get("conda_dependencies") or {}))
        log.write(conda.replacement_note() or "")
        if python_pin_below_supported(conda.python_version):
            log.write(python_pin_warning(conda.python_version, "the cluster's Python"))
        self._submit(log)
        self._wait_while_pending(log)

    def _runtime_env(self) -> dict[str, Any]:
        from ..run import ENV_RUN_ID, ENV_TRACKING_URI
        spec = self.job.environment
        runtime_env = runtime_env_for(spec, self.target.settings)
        variables = {**(spec.get("environment_variables") or {}), **self.job.environment_variables}
        variables.update({
            ENV_RUN_ID: self.job.run_id,
            ENV_TRACKING_URI: tracking_uri(self.job, self.target.settings),
            "RUNYARD_EXPERIMENT_NAME": self.job.experiment,
            "RUNYARD_RAY_JOB": json.dumps(self._entry()),
            "PYTHONUNBUFFERED": "1",
            **job_credentials(self.workspace, self.job.run_id),  # never the workspace's own token
        })
        runtime_env.update({"working_dir": self.job.snapshot_path, "py_modules": [str(p) for p in client_packages()],
                            "env_vars": variables})
        return runtime_env

    def _entry(self) -> dict[str, Any]:
        """What the entrypoint on the node runs (see ``_ray_job``)."""
        rscript = (self.job.environment.get("r") or {}).get("rscript_path") or "Rscript"
        from ..environment import python_pin_below_supported
        python_version = ((self.job.environment.get("python") or {}).get("conda_dependencies") or {}).get(
            "python_version")
        if python_pin_below_supported(python_version):  # cannot be had: the cluster's Python, as prepare says
            python_version = None
        return {"argv": job_argv(self.job, "python", rscript), "distributed": self.job.distributed,
                "python_version": python_version,
                "resources": self.job.resources, "resume_from": self.job.resume_from,
                "inputs": self.job.inputs, "output_folders": self.job.output_folders}

    def _submit(self, log: TextIO) -> None:
        self.attempt += 1
        self.submission_id = submission_id(self.job.run_id, self.attempt)
        resources = self.job.resources
        distributed = bool(self.job.distributed)
        try:
            self.client.submit_job(
                entrypoint="python -m runyard.compute._ray_job", submission_id=self.submission_id,
                runtime_env=self._runtime_env(), metadata={"runyard_run_id": self.job.run_id},
                # A distributed job's driver only coordinates: its processes reserve the resources.
                entrypoint_num_cpus=None if distributed else resources.get("num_cpus"),
                entrypoint_num_gpus=None if distributed else resources.get("num_gpus"),
                entrypoint_resources=None if distributed else (resources.get("resources") or None))
        except Exception as e:
            raise ComputeError(f"the Ray cluster at {self.target.address} refused job "
                               f"{self.submission_id}: {e}") from e
        log.write(f"Submitted Ray job {self.submission_id} to {self.target.address}; "
                  f"Ray sets up its runtime environment on a node.\n")
        log.flush()

    def _wait_while_pending(self, log: TextIO) -> None:
        said = None
        while True:
            info = self.client.get_job_info(self.submission_id)
            status = str(info.status.value if hasattr(info.status, "value") else info.status)
            if status != "PENDING":
                break
            if info.message and info.message != said:
                log.write(f"Ray: {info.message}\n")
                log.flush()
                said = info.message
            time.sleep(0.1)
        if status == "FAILED" and _setup_failed(info):
            log.write(f"Ray could not set up the job's runtime environment:\n{info.message}\n")
            raise EnvironmentBuildError(f"Ray could not set up the runtime environment on the cluster: "
                                        f"{_last_lines(info.message, 12)}")
        if status == "STOPPED" and self._stopping:
            raise EnvironmentBuildError("stopped while Ray set up the runtime environment")

    # -- Running --------------------------------------------------------------------------
    def start(self, output) -> int | None:
        self._output = output
        output.write(f"runyard: Ray job {self.submission_id} on {self.target.address}\n".encode())
        return None

    def tick(self) -> None:
        if self._output is not None and time.monotonic() >= self._next_logs:
            self._copy_logs()

    def _copy_logs(self, output: Any = None) -> None:
        """Append what the job printed since the last copy to the driver log."""
        self._next_logs = time.monotonic() + _LOG_INTERVAL_S
        try:
            text = self.client.get_job_logs(self.submission_id)
        except Exception:  # the dashboard is busy or restarting: the next tick tries again
            return
        data = text.encode()
        if len(data) > self._written:
            (output or self._output).write(data[self._written:])
            self._written = len(data)

    def wait(self, timeout: float) -> int | None:
        info = self.client.get_job_info(self.submission_id)
        status = str(info.status.value if hasattr(info.status, "value") else info.status)
        if status not in _TERMINAL:
            time.sleep(timeout)
            return None
        if status == "SUCCEEDED":
            return 0
        if status == "STOPPED":
            return -15
        code = info.driver_exit_code
        if code is not None and code != LOST_EXIT_CODE:
            return code
        reason = (f"Ray job {self.submission_id} was lost: {_last_lines(info.message or '', 6)}" if code is None
                  else f"a process of Ray job {self.submission_id} was lost with its node")
        if self.attempt <= self.job.max_retries:
            self._copy_logs()
            self._output.write(f"\nrunyard: {reason}; starting it again (retry {self.attempt} of "
                               f"{self.job.max_retries})\n".encode())
            self._written = 0
            with open(self.logs_dir / "environment_build.log", "a") as log:
                self._submit(log)
            return None
        self.lost_reason = reason
        return 1

    def failure_reason(self, code: int) -> str | None:
        return self.lost_reason

    def stop(self, grace_s: float, output) -> None:
        self._stopping = True
        if self.submission_id is None:
            return
        try:
            self.client.stop_job(self.submission_id)
        except Exception:
            return
        deadline = time.monotonic() + grace_s + self.target.settings.stop_grace_s
        while time.monotonic() < deadline:
            status = self.client.get_job_status(self.submission_id)
            if str(getattr(status, "value", status)) in _TERMINAL:
                return
            time.sleep(0.2)

    def collect(self) -> None:
        """The job uploaded its ./outputs itself; the last of its output joins driver.log."""
        if self._output is not None:
            with open(self.logs_dir / "driver.log", "ab") as output:
                self._copy_logs(output)

    def cleanup(self) -> None:
        """Never leave a job running behind the run (the supervisor failed, say)."""
        if self.submission_id is None:
            return
        try:
            status = self.client.get_job_status(self.submission_id)
            if str(getattr(status, "value", status)) not in _TERMINAL:
                self.client.stop_job(self.submission_id)
        except Exception:
            pass


def tracking_uri(job: JobSpec, settings: RaySettings) -> str:
    return settings.tracking_uri or job.workspace_path


def _setup_failed(info: Any) -> bool:
    kind = str(getattr(info, "error_type", "") or "").upper()
    return "RUNTIME_ENV" in kind or (info.message or "").startswith("runtime_env setup failed")


def _last_lines(text: str, count: int) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])

