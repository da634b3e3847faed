"""Azure's ``azureml.train.hyperdrive.runconfig``."""

from runyard.hyperdrive import HyperDriveConfig, PrimaryMetricGoal

__all__ = ['HyperDriveConfig', 'PrimaryMetricGoal']
