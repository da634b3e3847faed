"""Compute targets: where a job runs. All of them behind one small protocol.

A target knows nothing of pipelines or AutoML: it prepares an environment,
runs a ``JobSpec`` and reports on it. The table below maps a target type to the
dotted path of its class, so docker/ray are imported only when used.
"""

from __future__ import annotations

import abc
import importlib
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

from ..errors import ComputeTargetNotFoundError, ConfigError

if TYPE_CHECKING:
    from ..environment import Environment
    from ..workspace import Workspace

#: (target type, "module:Class")
TARGET_TYPES: list[tuple[str, str]] = [
    ("local", "runyard.compute.local:LocalTarget"),
    ("docker", "runyard.compute.docker:DockerCompute"),
    ("ray", "runyard.compute.ray:RayCluster"),
]
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class JobSpec:
    """Everything a target needs to run one job; stored as the run's definition."""

    run_id: str
    experiment: str
    workspace_path: str
    target: str
    snapshot_hash: str
    snapshot_path: str
    environment: dict[str, Any]
    environment_hash: str
    script: str | None = None
    command: str | list[str] | None = None
    arguments: list[str] = field(default_factory=list)
    environment_variables: dict[str, str] = field(default_factory=dict)
    max_run_duration_seconds: int | None = None
    use_submitting_python: bool = False
    submitting_python: str | None = None
    #: a distributed job: framework, process_count, node_count and the framework's settings
    distributed: dict[str, Any] | None = None
    max_retries: int = 0
    #: num_cpus / num_gpus / resources the job's driver reserves on a cluster
    resources: dict[str, Any] = field(default_factory=dict)
    #: the run whose files the job starts with, in ./resume_from (see runyard.resume)
    resume_from: dict[str, str] | None = None
    #: other runs' files the job starts with (a pipeline step's inputs), and the folders it
    #: writes its outputs to; placed by the same code as resume_from (see runyard.resume)
    inputs: list[dict[str, str]] = field(default_factory=list)
    output_folders: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class _FoundByName(abc.ABCMeta):
    """``ComputeTarget(workspace, name)`` is Azure's lookup of a registered target (it raises
    ``ComputeTargetNotFoundError`` for an unknown name, which get-or-create code catches);
    a concrete target class is constructed as usual."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("_found_by_name"):
            return _registered(*args, **kwargs)
        return super().__call__(*args, **kwargs)


def _registered(workspace: "Workspace", name: str) -> "ComputeTarget":
    from ..workspace import check_workspace
    check_workspace(workspace)
    check_target_name(name)
    return get_target(workspace, name)


@dataclass(frozen=True)
class TargetStatus:
    """What ``ComputeTarget.get_status()`` returns: a registered target is always ready."""

    name: str
    type: str
    provisioning_state: str = "Succeeded"

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "provisioningState": self.provisioning_state}


class ComputeTarget(abc.ABC, metaclass=_FoundByName):
    """The protocol every target implements; ``handle`` is whatever ``submit`` returned.

    ``ComputeTarget(ws, "cpu-cluster")`` returns the target registered under that name.
    """

    type: ClassVar[str]
    _found_by_name: ClassVar[bool] = True

    def __init__(self, workspace: "Workspace | None" = None, name: str | None = None,
                 config: dict[str, Any] | None = None):
        self.workspace = workspace
        self.name = name or self.type
        self.config = dict(config or {})

    @staticmethod
    def attach(workspace: "Workspace", name: str, target: "ComputeTarget") -> "ComputeTarget":
        """Register ``target`` in ``workspace`` under ``name`` (replacing one of that name).

        >>> ComputeTarget.attach(ws, "docker", DockerCompute(cpus=2))  # doctest: +SKIP
        """
        return workspace.compute_targets.attach(name, target)

    @staticmethod
    def create(workspace: "Workspace", name: str, provisioning_configuration: "ComputeTarget") -> "ComputeTarget":
        """Azure's spelling of ``attach``: register ``provisioning_configuration`` (a target, such as
        ``AmlCompute.provisioning_configuration(...)`` returns) under ``name``.

        >>> ComputeTarget.create(ws, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=4))  # doctest: +SKIP
        """
        from ..workspace import check_workspace
        check_workspace(workspace)
        check_target_name(name)
        if name in list_targets(workspace):
            raise ConfigError(f"ComputeTarget.create: compute target {name!r} exists in workspace {workspace.name!r}; "
                              f"ComputeTarget(ws, {name!r}) returns it, or detach it first to replace it")
        return ComputeTarget.attach(workspace, name, provisioning_configuration)

    @staticmethod
    def list(workspace: "Workspace") -> list["ComputeTarget"]:
        """The workspace's targets, ``local`` first."""
        return list(list_targets(workspace).values())

    @property
    def provisioning_state(self) -> str:
        return self.get_status().provisioning_state

    def get_status(self) -> TargetStatus:
        """Azure's provisioning status: a registered target is ready (``Succeeded``); whether
        it can take jobs now is checked when a job is submitted to it."""
        return TargetStatus(self.name, self.type)

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,
                            timeout_in_minutes: int = 20) -> None:
        """Azure waited for a cluster to be provisioned; a registered target already is, so this
        returns at once (printing the state with ``show_output``)."""
        if min_node_count is not None and (not isinstance(min_node_count, int) or min_node_count > 1):
            raise ConfigError(f"wait_for_completion: min_node_count={min_node_count!r}; compute target {self.name!r} "
                              f"is one machine, so wait for at most 1 node")
        if show_output:
            print(f"{self.name}: provisioning state {self.provisioning_state}", flush=True)

    @abc.abstractmethod
    def prepare(self, environment: "Environment", log) -> Any:
        """Materialise ``environment`` (once per hash); ``log`` is a text stream for progress."""

    @abc.abstractmethod
    def submit(self, job: JobSpec) -> Any:
        """Start the job and return a handle; the run outlives the caller."""

    @abc.abstractmethod
    def status(self, handle: Any) -> str:
        """The run's status name."""

    @abc.abstractmethod
    def logs(self, handle: Any) -> Iterator[str]:
        """The job's output so far, as lines."""

    @abc.abstractmethod
    def cancel(self, handle: Any) -> None:
        """Ask the job to stop: SIGTERM, then SIGKILL after a grace period."""

    def execution(self, job: JobSpec, work: Any, logs_dir: Any) -> Any:
        """For targets whose jobs run under a runyard supervisor: how to run one job."""
        raise ConfigError(f"compute target {self.name!r} ({self.type}) does not run jobs under a supervisor")

    def check_environment(self, environment: "Environment") -> None:
        """Raise ``ConfigError``, before any work, for a field of ``environment`` this target
        cannot honour (naming the field and what to do instead): none is ignored."""

    def check_reachable(self) -> None:
        """Raise a clear error, before any work, when the target cannot take jobs now
        (an engine or cluster that does not answer)."""

    def check(self, handle: Any) -> None:
        """Notice a job whose process vanished and end its run; called while waiting."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, **self.config}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def check_target_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"compute target name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return name


def target_class(kind: str) -> type[ComputeTarget]:
    for name, dotted in TARGET_TYPES:
        if name == kind:
            module_name, class_name = dotted.split(":")
            return getattr(importlib.import_module(module_name), class_name)
    valid = ", ".join(n for n, _ in TARGET_TYPES)
    raise ConfigError(f"unknown compute target type {kind!r}; valid types: {valid}")


class ComputeTargets(dict):
    """``ws.compute_targets``: name -> target, with ``attach`` and ``detach``."""

    def __init__(self, workspace: "Workspace"):
        super().__init__()
        self.workspace = workspace
        self["local"] = target_class("local")(workspace, "local")
        for row in workspace._store.list_compute_targets():
            self[row["name"]] = target_class(row["type"])(workspace, row["name"], row["config"])

    def attach(self, name: str, target: ComputeTarget) -> ComputeTarget:
        """Register ``target`` under ``name``; returns it bound to this workspace.

        >>> ws.compute_targets.attach("docker", DockerCompute(memory="4g"))  # doctest: +SKIP
        """
        check_target_name(name)
        if name == "local":
            raise ConfigError("'local' is built in and cannot be replaced")
        if not isinstance(target, ComputeTarget):
            raise ConfigError(f"attach: expected a compute target (e.g. DockerCompute(...)), "
                              f"got {type(target).__name__}")
        self.workspace._store.save_compute_target(name, target.type, target.config)
        bound = type(target)(self.workspace, name, target.config)
        self[name] = bound
        return bound

    def detach(self, name: str) -> None:
        if name == "local":
            raise ConfigError("'local' is built in and cannot be detached")
        if not self.workspace._store.delete_compute_target(name):
            from ..errors import NotFoundError
            raise NotFoundError(f"no compute target {name!r} in workspace {self.workspace.name!r}")
        self.pop(name, None)


def list_targets(workspace: "Workspace") -> ComputeTargets:
    return ComputeTargets(workspace)


def get_target(workspace: "Workspace", target: "str | ComputeTarget | None") -> ComputeTarget:
    """Resolve a target given as an object, a name, or None/"local"."""
    if isinstance(target, ComputeTarget):
        return target
    name = "local" if target in (None, "", "local") else str(target)
    if name.startswith("azureml:"):
        name = name[len("azureml:"):]
    targets = list_targets(workspace)
    if name not in targets:
        raise ComputeTargetNotFoundError(f"compute_target {name!r} is not in workspace {workspace.name!r}; "
                                         f"valid names: {', '.join(sorted(targets))}")
    return targets[name]
