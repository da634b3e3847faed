"""Azure's ``azureml.core.workspace``."""

from runyard.workspace import Workspace

__all__ = ['Workspace']
