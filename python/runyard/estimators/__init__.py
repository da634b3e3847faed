"""Estimators: framework presets over ``ScriptRunConfig`` (Azure ML SDK v1's names).

>>> from runyard.estimators import SKLearn  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import Estimator
from .chainer import Chainer
from .pytorch import PyTorch
from .r import REstimator
from .rllib import ReinforcementLearningEstimator, RLlib
from .sklearn import SKLearn
from .tensorflow import TensorFlow

#: a framework's name (R's ``estimator(framework = )``) -> its estimator
FRAMEWORKS: dict[str, type[Estimator]] = {
    "R": REstimator, "SKLearn": SKLearn, "PyTorch": PyTorch, "TensorFlow": TensorFlow, "Chainer": Chainer,
    "RLlib": RLlib, "Estimator": Estimator,
}


def estimator_class(framework: str) -> type[Estimator]:
    """The estimator of ``framework``: one of ``FRAMEWORKS`` ("Estimator" is the generic one).

    >>> estimator_class("SKLearn").__name__
    'SKLearn'
    """
    if not isinstance(framework, str) or framework not in FRAMEWORKS:
        raise ConfigError(f"framework {framework!r}: use one of {', '.join(FRAMEWORKS)}")
    return FRAMEWORKS[framework]


def create_estimator(framework: str, source_directory: str | Path, **options: Any) -> Estimator:
    """An estimator of ``framework`` (see ``estimator_class``) made with ``options``; an option
    that framework's estimator does not take is a ``ConfigError`` naming it. R's ``estimator()``,
    one function for every framework, makes its estimators with this.

    >>> est = create_estimator("SKLearn", "src", entry_script="train.py", pip_packages=["six"])  # doctest: +SKIP
    """
    cls = estimator_class(framework)
    parameters = inspect.signature(cls).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(set(options) - set(parameters))
        if unknown:
            raise ConfigError(f"framework {framework!r} ({cls.__name__}) does not take {', '.join(unknown)}")
    return cls(source_directory, **options)


__all__ = ["Chainer", "Estimator", "FRAMEWORKS", "PyTorch", "REstimator", "ReinforcementLearningEstimator", "RLlib",
           "SKLearn", "TensorFlow", "create_estimator", "estimator_class"]
