"""Estimators: framework presets over ``ScriptRunConfig`` (Azure ML SDK v1's names).

>>> from runyard.estimators import SKLearn  # doctest: +SKIP
"""

from .base import Estimator
from .pytorch import PyTorch
from .sklearn import SKLearn

__all__ = ["Estimator", "PyTorch", "SKLearn"]
