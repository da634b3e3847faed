"""Azure's ``azureml.train.automl.run``."""

from runyard.automl import AutoMLRun

__all__ = ['AutoMLRun']
