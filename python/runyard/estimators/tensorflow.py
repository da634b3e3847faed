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

    distributed_configs = (TensorflowConfiguration, MpiConfiguration)

    def _from_counts(self) -> Any:
        if self.process_count_per_node > 1:
            raise ConfigError("TensorFlow: process_count_per_node - use distributed_training="
                              "TensorflowConfiguration(worker_count, parameter_server_count) for several processes")
        return TensorflowConfiguration(worker_count=self.node_count, parameter_server_count=0)
