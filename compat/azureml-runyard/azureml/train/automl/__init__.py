"""Azure's ``azureml.train.automl``."""

from runyard.automl import AutoMLConfig

__all__ = ['AutoMLConfig']
