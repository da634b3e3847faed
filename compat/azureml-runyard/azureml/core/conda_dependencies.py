"""Azure's ``azureml.core.conda_dependencies``."""

from runyard.environment import CondaDependencies

__all__ = ['CondaDependencies']
