"""Distributed training: ``PyTorchConfiguration``, ``MpiConfiguration``,
``TensorflowConfiguration``, and the variables each process of such a job gets.

A distributed job is one run whose script starts as several processes. Every
target runs the same plan: ``processes(config)`` says how many processes and
how they group into nodes, and ``process_env(...)`` gives each its framework's
variables (``MASTER_ADDR``/``RANK``/... for PyTorch, ``TF_CONFIG`` for
TensorFlow, the Open MPI rank variables for MPI). The local target runs every
process on this machine; the Ray target spreads them over the cluster's nodes.

>>> PyTorchConfiguration(process_count=4, node_count=2).total_processes
4
"""

from __future__ import annotations

import abc
import json
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from . import _yaml
from .errors import ConfigError


class _Distributed(BaseModel, abc.ABC):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    framework: str = ""

    def __init__(self, *args: Any, **data: Any):
        names = [n for n in type(self).model_fields if n != "framework"]
        if len(args) > len(names):
            raise ConfigError(f"{type(self).__name__} takes at most {len(names)} positional arguments")
        data.update(zip(names, args))
        try:
            super().__init__(**data)
        except pydantic.ValidationError as e:
            raise ConfigError(_yaml.validation_message(e, type(self).__name__)) from e

    @property
    @abc.abstractmethod
    def total_processes(self) -> int:
        """Processes in all."""

    @property
    @abc.abstractmethod
    def nodes(self) -> int:
        """Nodes the processes spread over."""

    def to_job(self) -> dict[str, Any]:
        """What a job stores: the framework, the process count and the node count."""
        return {**self.model_dump(), "framework": self.framework,
                "process_count": self.total_processes, "node_count": self.nodes}


class PyTorchConfiguration(_Distributed):
    """``torch.distributed`` processes: sets MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK,
    LOCAL_RANK, LOCAL_WORLD_SIZE and NODE_RANK for each (``process_count`` in all, over
    ``node_count`` nodes; by default one process per node)."""

    framework: Literal["pytorch"] = "pytorch"
    communication_backend: str = "Gloo"
    process_count: int | None = Field(None, ge=1)
    node_count: int = Field(1, ge=1)

    @pydantic.model_validator(mode="after")
    def _processes_cover_nodes(self) -> "PyTorchConfiguration":
        if self.process_count is not None and self.process_count < self.node_count:
            raise ValueError(f"process_count={self.process_count} is less than node_count={self.node_count}: "
                             f"every node needs at least one process")
        return self

    @property
    def total_processes(self) -> int:
        return self.process_count or self.node_count

    @property
    def nodes(self) -> int:
        return self.node_count


class MpiConfiguration(_Distributed):
    """``process_count_per_node`` processes on each of ``node_count`` nodes, each with the
    Open MPI rank variables (OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK) and PyTorch's set. On the
    local target the processes run under Open MPI's ``mpirun`` (MPI programs such as mpi4py's
    communicate through it); the Ray target starts one process per rank itself with the same
    variables, without an MPI runtime between them."""

    framework: Literal["mpi"] = "mpi"
    process_count_per_node: int = Field(1, ge=1)
    node_count: int = Field(1, ge=1)

    @property
    def total_processes(self) -> int:
        return self.process_count_per_node * self.node_count

    @property
    def nodes(self) -> int:
        return self.node_count


class TensorflowConfiguration(_Distributed):
    """``worker_count`` workers and ``parameter_server_count`` parameter servers, each with a
    ``TF_CONFIG`` naming the whole cluster and its own task."""

    framework: Literal["tensorflow"] = "tensorflow"
    worker_count: int = Field(1, ge=1)
    parameter_server_count: int = Field(1, ge=0)

    @property
    def total_processes(self) -> int:
        return self.worker_count + self.parameter_server_count

    @property
    def nodes(self) -> int:
        return self.total_processes


CONFIGS = {c.model_fields["framework"].default: c for c in
           (PyTorchConfiguration, MpiConfiguration, TensorflowConfiguration)}


def as_distributed(value: Any, field: str = "distributed_job_config") -> _Distributed | None:
    """A distributed config from an object or a mapping with ``framework`` (job files)."""
    if value is None or isinstance(value, _Distributed):
        return value
    if isinstance(value, dict):
        kind = str(value.get("framework") or value.get("type") or "").lower()
        if kind not in CONFIGS:
            raise ConfigError(f"{field}.framework: {kind or 'missing'!r}; valid: {', '.join(CONFIGS)}")
        return CONFIGS[kind](**{k: v for k, v in value.items() if k not in ("framework", "type")})
    raise ConfigError(f"{field}: expected PyTorchConfiguration, MpiConfiguration or "
                      f"TensorflowConfiguration, got {type(value).__name__}")


# -- the plan every target follows ----------------------------------------------------
def node_of(job: dict[str, Any]) -> list[int]:
    """For each process (by rank), the index of the node it runs on: ranks fill nodes in
    order, as evenly as they divide."""
    count, nodes = int(job["process_count"]), int(job["node_count"])
    per_node, extra = divmod(count, nodes)
    placement = []
    for node in range(nodes):
        placement += [node] * (per_node + (1 if node < extra else 0))
    return placement


def process_env(job: dict[str, Any], rank: int, hosts: list[str], ports: list[int]) -> dict[str, str]:
    """The variables of process ``rank``; ``hosts[i]``/``ports[i]`` are where process i runs
    and the free port it holds (rank 0's is the rendezvous port)."""
    placement = node_of(job)
    world = len(placement)
    node = placement[rank]
    on_node = [r for r, n in enumerate(placement) if n == node]
    env = {
        "MASTER_ADDR": hosts[0], "MASTER_PORT": str(ports[0]),
        "WORLD_SIZE": str(world), "RANK": str(rank), "NODE_RANK": str(node),
        "LOCAL_RANK": str(on_node.index(rank)), "LOCAL_WORLD_SIZE": str(len(on_node)),
        "GROUP_RANK": str(node),
        "RUNYARD_PROCESS_RANK": str(rank),
    }
    framework = job["framework"]
    if framework == "pytorch":
        env["RUNYARD_COMMUNICATION_BACKEND"] = str(job.get("communication_backend") or "Gloo").lower()
    elif framework == "mpi":
        env.update({"OMPI_COMM_WORLD_RANK": str(rank), "OMPI_COMM_WORLD_SIZE": str(world),
                    "OMPI_COMM_WORLD_LOCAL_RANK": str(on_node.index(rank)),
                    "OMPI_COMM_WORLD_LOCAL_SIZE": str(len(on_node)),
                    "OMPI_COMM_WORLD_NODE_RANK": str(node), "PMI_RANK": str(rank), "PMI_SIZE": str(world)})
    elif framework == "tensorflow":
        workers = int(job["worker_count"])
        addresses = [f"{host}:{port}" for host, port in zip(hosts, ports)]
        cluster: dict[str, list[str]] = {"worker": addresses[:workers]}
        if addresses[workers:]:
            cluster["ps"] = addresses[workers:]
        task = {"type": "worker", "index": rank} if rank < workers else {"type": "ps", "index": rank - workers}
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": task})
    return env


def rank_log_name(rank: int | str) -> str:
    """The file in the run's logs/ that keeps process ``rank``'s output (rank 0's is also
    the run's driver log)."""
    return f"rank_{rank}.log"
