"""Estimators: framework presets over ``ScriptRunConfig`` (Azure ML SDK v1's names).

>>> from runyard.estimators import SKLearn  # doctest: +SKIP
"""

from .base import Estimator
from .chainer import Chainer
from .pytorch import PyTorch
from .r import REstimator
from .rllib import ReinforcementLearningEstimator, RLlib
from .sklearn import SKLearn
from .tensorflow import TensorFlow

__all__ = ["Chainer", "Estimator", "PyTorch", "REstimator", "ReinforcementLearningEstimator", "RLlib", "SKLearn",
           "TensorFlow"]
