"""Azure's ``azureml.data``: datasets and pipeline outputs."""

from runyard.data import FileDataset, TabularDataset
from runyard.pipeline import OutputFileDatasetConfig

__all__ = ['FileDataset', 'OutputFileDatasetConfig', 'TabularDataset']
