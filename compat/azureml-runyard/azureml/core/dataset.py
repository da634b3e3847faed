"""Azure's ``azureml.core.dataset``."""

from runyard.data import Dataset

__all__ = ['Dataset']
