"""Azure's ``azureml.core.runconfig``: the run configuration, container and distributed-job settings."""

from runyard.config import RunConfiguration
from runyard.distributed import MpiConfiguration, PyTorchConfiguration, TensorflowConfiguration
from runyard.docker_configuration import DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, DockerConfiguration

__all__ = ['DEFAULT_CPU_IMAGE', 'DEFAULT_GPU_IMAGE', 'DockerConfiguration', 'MpiConfiguration',
           'PyTorchConfiguration', 'RunConfiguration', 'TensorflowConfiguration']
