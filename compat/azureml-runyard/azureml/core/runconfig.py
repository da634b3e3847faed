"""Azure's ``azureml.core.runconfig``: the run configuration and distributed-job settings."""

from runyard.config import RunConfiguration
from runyard.distributed import MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration

__all__ = ['MpiConfiguration', 'PyTorchConfiguration', 'RunConfiguration', 'TensorflowConfiguration']
