"""Azure's ``azureml.train.hyperdrive.sampling``."""

from runyard.hyperdrive import BayesianParameterSampling, GridParameterSampling, RandomParameterSampling

__all__ = ['BayesianParameterSampling', 'GridParameterSampling', 'RandomParameterSampling']
