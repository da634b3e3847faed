"""Azure's ``azureml.data.output_dataset_config``."""

from runyard.pipeline import OutputFileDatasetConfig

__all__ = ['OutputFileDatasetConfig']
