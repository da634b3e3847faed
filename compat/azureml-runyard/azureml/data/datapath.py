"""Azure's ``azureml.data.datapath``."""

from runyard.data.references import DataPath, DataPathComputeBinding

__all__ = ['DataPath', 'DataPathComputeBinding']
