"""Azure's ``azureml.train.estimator``."""

from runyard.estimators import Estimator

__all__ = ['Estimator']
