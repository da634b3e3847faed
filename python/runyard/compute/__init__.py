"""Compute targets: where a job runs. All of them behind one small protocol.

A target knows nothing of pipelines or AutoML: it prepares an environment,
runs a ``JobSpec`` and reports on it. The table below maps a target type to the
dotted path of its class, so docker/ray are imported only when used.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..environment import Environment
    from ..workspace import Workspace

#: (target type, "module:Class")
TARGET_TYPES: list[tuple[str, str]] = [
    ("local", "runyard.compute.local:LocalTarget"),
]


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class ComputeTarget(abc.ABC):
    """The protocol every target implements; ``handle`` is whatever ``submit`` returned."""

    type: ClassVar[str]

    def __init__(self, workspace: "Workspace", name: str, config: dict[str, Any] | None = None):
        self.workspace = workspace
        self.name = name
        self.config = dict(config or {})

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

    def check(self, handle: Any) -> None:
        """Notice a job whose process vanished and end its run; called while waiting."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, **self.config}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def target_class(kind: str) -> type[ComputeTarget]:
    for name, dotted in TARGET_TYPES:
        if name == kind:
            module_name, class_name = dotted.split(":")
            return getattr(importlib.import_module(module_name), class_name)
    valid = ", ".join(n for n, _ in TARGET_TYPES)
    raise ConfigError(f"unknown compute target type {kind!r}; valid types: {valid}")


def list_targets(workspace: "Workspace") -> dict[str, ComputeTarget]:
    targets: dict[str, ComputeTarget] = {"local": target_class("local")(workspace, "local")}
    for row in workspace._store.list_compute_targets():
        targets[row["name"]] = target_class(row["type"])(workspace, row["name"], row["config"])
    return targets


def get_target(workspace: "Workspace", target: "str | ComputeTarget | None") -> ComputeTarget:
    """Resolve a target given as an object, a name, or None/"local"."""
    if isinstance(target, ComputeTarget):
        return target
    name = "local" if target in (None, "", "local") else str(target)
    if name.startswith("azureml:"):
        name = name[len("azureml:"):]
    targets = list_targets(workspace)
    if name not in targets:
        raise ConfigError(f"compute_target {name!r} is not in workspace {workspace.name!r}; "
                          f"valid names: {', '.join(sorted(targets))}")
    return targets[name]
