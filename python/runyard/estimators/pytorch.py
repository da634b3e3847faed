"""``PyTorch``: a PyTorch script in a curated environment, on one process or as DDP."""

from __future__ import annotations

from typing import Any

from ..distributed import MpiConfiguration, PyTorchConfiguration
from .base import Estimator


class PyTorch(Estimator):
    """Train a PyTorch script. ``node_count`` x ``process_count_per_node`` above 1 (or
    ``distributed_training=PyTorchConfiguration(...)``) starts that many processes with
    torch.distributed's variables (MASTER_ADDR, RANK, WORLD_SIZE, LOCAL_RANK, ...); Gloo on CPU.

    >>> PyTorch("src", entry_script="train.py", node_count=2).distributed_training.total_processes  # doctest: +SKIP
    2
    """

    framework = "pytorch"

    distributed_configs = (PyTorchConfiguration, MpiConfiguration)

    def _from_counts(self) -> Any:
        return PyTorchConfiguration(process_count=self.node_count * self.process_count_per_node,
                                    node_count=self.node_count)
