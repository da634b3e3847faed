"""Azure's ``azureml.data.dataset_factory``."""

from runyard.data import DataType

__all__ = ['DataType']
