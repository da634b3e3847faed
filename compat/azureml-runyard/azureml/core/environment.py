"""Azure's ``azureml.core.environment``."""

from runyard.environment import CondaDependencies, Environment

__all__ = ['CondaDependencies', 'Environment']
