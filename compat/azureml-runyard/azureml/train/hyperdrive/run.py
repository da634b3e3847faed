"""Azure's ``azureml.train.hyperdrive.run``."""

from runyard.hyperdrive import HyperDriveRun, PrimaryMetricGoal

__all__ = ['HyperDriveRun', 'PrimaryMetricGoal']
