"""Azure's ``azureml.core.experiment``."""

from runyard.experiment import Experiment

__all__ = ['Experiment']
