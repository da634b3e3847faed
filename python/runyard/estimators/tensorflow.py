"""``TensorFlow``: a TensorFlow / Keras script in a curated environment (tensorflow-cpu)."""

from __future__ import annotations

from typing import Any

from ..distributed import MpiConfiguration, TensorflowConfiguration
from ..errors import ConfigError
from .base import Estimator


class TensorFlow(Estimator):
    """Train a TensorFlow script. ``distributed_training=TensorflowConfiguration(worker_count,
    parameter_server_count)`` starts that many processes, each with its ``TF_CONFIG``;
    ``node_count`` above 1 alone means that many workers and no parameter server.

    >>> TensorFlow("src", entry_script="train.py").environment.name  # doctest: +SKIP
    'runyard-tensorflow-2.21-cpu'
    """

    framework = "tensorflow"

    def _distributed(self, config: Any) -> Any:
        if config is not None:
            if not isinstance(config, (TensorflowConfiguration, MpiConfiguration)):
                raise ConfigError(f"TensorFlow: distributed_training must be a TensorflowConfiguration or "
                                  f"MpiConfiguration, got {type(config).__name__}")
            return config
        if self.process_count_per_node > 1:
            raise ConfigError("TensorFlow: process_count_per_node - use distributed_training="
                              "TensorflowConfiguration(worker_count, parameter_server_count) for several processes")
        if self.node_count > 1:
            return TensorflowConfiguration(worker_count=self.node_count, parameter_server_count=0)
        return None
