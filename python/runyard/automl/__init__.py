"""AutoML: featurisation, algorithms and hyperparameters tried as child runs (Azure ML's AutoML).

``AutoMLConfig`` (``config``) is submitted like any config; its driver (``_driver``) runs each
iteration (``trial``, ``iteration``) as a child run, chosen by FLAML's cost-frugal search
(``search``) over the algorithm catalogue (``models``), scored under Azure's metric names
(``metrics``) and validation rules (``validation``), after automatic featurisation
(``featurization``) and the data guardrails (``guardrails``). Forecasting adds its settings
(``forecasting``), the series (``series``), their time features (``time_features``) and its
models (``forecasters``). ``AutoMLRun`` (``run``) gives the
best iteration and its model.
"""

from .config import AutoMLConfig
from .featurization import FeaturizationConfig
from .forecasting import ForecastingParameters
from .run import AutoMLRun

__all__ = ["AutoMLConfig", "AutoMLRun", "FeaturizationConfig", "ForecastingParameters"]
