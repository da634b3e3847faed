"""Azure's ``azureml.train.hyperdrive.parameter_expressions``."""

from runyard.hyperdrive import (choice, lognormal, loguniform, normal, qlognormal, qloguniform, qnormal, quniform,
                                randint, uniform)

__all__ = ['choice', 'lognormal', 'loguniform', 'normal', 'qlognormal', 'qloguniform', 'qnormal', 'quniform', 'randint', 'uniform']
