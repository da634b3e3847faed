"""``PyTorch``: a PyTorch script in a curated environment, on one process or as DDP."""

from __future__ import annotations

from typing import Any

from ..distributed import MpiConfiguration, PyTorchConfiguration
from ..errors import ConfigError
from .base import Estimator


class PyTorch(Estimator):
    """Train a PyTorch script. ``node_count`` x ``process_count_per_node`` above 1 (or
    ``distributed_training=PyTorchConfiguration(...)``) starts that many processes with
    torch.distributed's variables (MASTER_ADDR, RANK, WORLD_SIZE, LOCAL_RANK, ...); Gloo on CPU.

    >>> PyTorch("src", entry_script="train.py", node_count=2).distributed_training.total_processes  # doctest: +SKIP
    2
    """

    framework = "pytorch"

    def _distributed(self, config: Any) -> Any:
        if config is not None:
            if not isinstance(config, (PyTorchConfiguration, MpiConfiguration)):
                raise ConfigError(f"PyTorch: distributed_training must be a PyTorchConfiguration or "
                                  f"MpiConfiguration, got {type(config).__name__}")
            return config
        if self.node_count > 1 or self.process_count_per_node > 1:
            return PyTorchConfiguration(process_count=self.node_count * self.process_count_per_node,
                                        node_count=self.node_count)
        return None
