"""``AmlCompute``: Azure ML's managed cluster, offline — a local target under the cluster's name.

Azure code provisions a cluster and submits to it by name::

    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    target = ComputeTarget.create(ws, "cpu-cluster", config)
    target.wait_for_completion(show_output=True)

Here the cluster is this machine: ``ComputeTarget.create`` registers a local target named
``cpu-cluster`` whose settings record the VM size and node counts asked for (``runyard compute
list`` shows them); jobs submitted to it run as processes of this machine. To run them in
containers or on a Ray cluster instead, attach a Docker or Ray target under that name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import ConfigError
from .local import LocalTarget


class AmlCompute(LocalTarget):
    """A cluster that runs its jobs on this machine; ``AmlCompute(ws, name)`` finds a registered one.

    >>> config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    >>> config.config["max_nodes"]
    4
    """

    _found_by_name: ClassVar[bool] = True

    @staticmethod
    def provisioning_configuration(vm_size: str = "", vm_priority: str = "dedicated", min_nodes: int = 0,
                                   max_nodes: int = 4, idle_seconds_before_scaledown: int = 1800,
                                   description: str | None = None, tags: dict[str, str] | None = None,
                                   ) -> LocalTarget:
        """The target ``ComputeTarget.create`` registers: a local target recording these settings."""
        if not isinstance(vm_size, str):
            raise ConfigError(f"provisioning_configuration: vm_size must be text such as 'STANDARD_D2_V2', "
                              f"got {type(vm_size).__name__}")
        if vm_priority not in ("dedicated", "lowpriority"):
            raise ConfigError(f"provisioning_configuration: vm_priority={vm_priority!r}; use 'dedicated' or 'lowpriority'")
        for field, value in (("min_nodes", min_nodes), ("max_nodes", max_nodes),
                             ("idle_seconds_before_scaledown", idle_seconds_before_scaledown)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"provisioning_configuration: {field} must be a whole number >= 0, got {value!r}")
        if max_nodes < max(min_nodes, 1):
            raise ConfigError(f"provisioning_configuration: max_nodes={max_nodes} must be at least 1 and at least "
                              f"min_nodes={min_nodes}")
        config: dict[str, Any] = {"vm_size": vm_size, "vm_priority": vm_priority, "min_nodes": min_nodes,
                                  "max_nodes": max_nodes, "idle_seconds_before_scaledown": idle_seconds_before_scaledown}
        if description is not None:
            config["description"] = str(description)
        if tags is not None:
            if not isinstance(tags, dict):
                raise ConfigError(f"provisioning_configuration: tags must be a dict, got {type(tags).__name__}")
            config["tags"] = {str(k): str(v) for k, v in tags.items()}
        return LocalTarget(None, None, config)
