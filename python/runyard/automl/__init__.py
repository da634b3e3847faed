"""AutoML: featurisation, algorithms and hyperparameters tried as child runs (Azure ML's AutoML).

Built so far: the scores under Azure's names (``metrics``), how each iteration is validated
(``validation``), automatic featurisation (``featurization``) and the data guardrails
(``guardrails``). The search over child runs, ensembles and forecasting are still to come.
"""

from .featurization import FeaturizationConfig

__all__ = ["FeaturizationConfig"]
