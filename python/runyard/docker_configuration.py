"""``DockerConfiguration``: Azure ML v1's way of asking for a run in a container.

v1 code writes ``ScriptRunConfig(..., docker_runtime_config=DockerConfiguration(use_docker=True))``
(or sets ``run_config.docker``) and ``env.docker.base_image = DEFAULT_CPU_IMAGE``. Here a run
that asks for a container and is submitted to this machine (``local``, or an ``AmlCompute``
cluster, which is this machine too) runs on the workspace's Docker target when it has one,
and as a process of this machine otherwise; either way the run's ``logs/driver.log`` says
which. ``DEFAULT_CPU_IMAGE`` and ``DEFAULT_GPU_IMAGE`` keep Azure's names: no target pulls
Microsoft's images (``mcr.microsoft.com/azureml/...``); the Docker target builds on its own
default base image instead, saying so in the build log.

>>> DockerConfiguration(use_docker=True).use_docker
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from . import _yaml
from .errors import ConfigError

if TYPE_CHECKING:
    from .compute import ComputeTarget
    from .environment import Environment
    from .workspace import Workspace

#: where Azure ML's own images live; none is pulled, the Docker target's base image stands in
MICROSOFT_IMAGES = "mcr.microsoft.com/azureml/"
#: Azure's ``azureml.core.runconfig`` constants, by name (their value is never pulled)
DEFAULT_CPU_IMAGE = MICROSOFT_IMAGES + "openmpi4.1.0-ubuntu20.04"
DEFAULT_GPU_IMAGE = MICROSOFT_IMAGES + "openmpi4.1.0-cuda11.1-cudnn8-ubuntu20.04"


class DockerConfiguration(BaseModel):
    """Whether a run asks for a container, and the ``docker run`` options it gets there.

    ``arguments`` and ``shm_size`` become the environment's ``docker.arguments`` and
    ``docker.shm_size`` for the run (checked as those are).

    >>> DockerConfiguration(use_docker=True, arguments=["--cpus", "2"]).arguments
    ['--cpus', '2']
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    use_docker: bool | None = None
    arguments: list[str] = Field(default_factory=list)
    shm_size: str | None = None

    def __init__(self, use_docker: bool | None = None, shared_volumes: Any = None,
                 arguments: list[str] | None = None, shm_size: str | None = None):
        if shared_volumes is not None:
            raise ConfigError("DockerConfiguration: shared_volumes: runyard copies the job's folder into the "
                              "container and copies outputs/ and logs/ back, so no host folder is shared; "
                              "leave shared_volumes unset")
        try:
            super().__init__(use_docker=use_docker, arguments=arguments or [], shm_size=shm_size)
        except pydantic.ValidationError as e:
            raise ConfigError(_yaml.validation_message(e, "DockerConfiguration")) from e


def is_microsoft_image(image: str | None) -> bool:
    return bool(image) and image.lower().startswith(MICROSOFT_IMAGES)


def place(workspace: "Workspace", target: "ComputeTarget", docker: DockerConfiguration | None,
          environment: "Environment | None") -> tuple["ComputeTarget", "Environment | None", str | None]:
    """Where a run that may ask for a container runs: ``(target, environment, note)``. A run
    asking for one on a target of this machine moves to the workspace's Docker target (the
    one named ``docker`` when there are several), with the configuration's container options
    in its environment, or stays a process here as it is; the note says which, for its log."""
    if docker is None or not docker.use_docker:
        return target, environment, None
    if target.type != "local":  # a target of its own kind: it runs the job as it always does
        return target, _with_options(environment, docker), None
    found = sorted(name for name, t in workspace.compute_targets.items() if t.type == "docker")
    chosen = "docker" if "docker" in found else found[0] if len(found) == 1 else None
    if len(found) > 1 and chosen is None:
        raise ConfigError(f"DockerConfiguration(use_docker=True) on {target.name!r}: workspace {workspace.name!r} "
                          f"has several Docker targets ({', '.join(found)}); submit to one of them by name")
    if chosen is None:
        return target, environment, (
            f"runyard: DockerConfiguration(use_docker=True) asked for a container; workspace {workspace.name!r} "
            f"has no Docker target, so the run is a process of this machine on {target.name!r} (attach one with "
            f"`runyard compute attach docker NAME` to run such runs in containers)")
    return workspace.compute_targets[chosen], _with_options(environment, docker), (
        f"runyard: DockerConfiguration(use_docker=True) asked for a container; the run goes to the workspace's "
        f"Docker target {chosen!r} instead of {target.name!r}")


def _with_options(environment: "Environment | None", docker: DockerConfiguration) -> "Environment | None":
    """The environment with the configuration's container options added (a copy)."""
    if not docker.arguments and not docker.shm_size:
        return environment
    from .environment import Environment
    env = environment.model_copy(deep=True) if environment is not None else Environment("docker-run")
    env.docker.arguments = [*env.docker.arguments, *docker.arguments]
    if docker.shm_size:
        env.docker.shm_size = docker.shm_size
    return env
