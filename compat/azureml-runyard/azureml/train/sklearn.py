"""Azure's ``azureml.train.sklearn``."""

from runyard.estimators import SKLearn

__all__ = ['SKLearn']
