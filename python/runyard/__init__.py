"""runyard: training runs, environments and run history on your own machines.

``import runyard`` is cheap: each public name is imported the first time it is
used, so a training script that only calls ``Run.get_context()`` never loads
the CLI, and nothing here imports docker, ray or rpy2.

>>> from runyard import Workspace, Experiment, ScriptRunConfig  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Workspace": "runyard.workspace",
    "Experiment": "runyard.experiment",
    "Run": "runyard.run",
    "ScriptRunConfig": "runyard.config",
    "RunConfiguration": "runyard.config",
    "DockerConfiguration": "runyard.docker_configuration",
    "load_job_file": "runyard.config",
    "Environment": "runyard.environment",
    "CondaDependencies": "runyard.environment",
    "Model": "runyard.model",
    "ComputeTarget": "runyard.compute",
    "DockerCompute": "runyard.compute.docker",
    "RayCluster": "runyard.compute.ray",
    "PyTorchConfiguration": "runyard.distributed",
    "MpiConfiguration": "runyard.distributed",
    "TensorflowConfiguration": "runyard.distributed",
    "Estimator": "runyard.estimators",
    "SKLearn": "runyard.estimators",
    "PyTorch": "runyard.estimators",
    "REstimator": "runyard.estimators",
    "TensorFlow": "runyard.estimators",
    "RLlib": "runyard.estimators",
    "ReinforcementLearningEstimator": "runyard.estimators",
    "Chainer": "runyard.estimators",
    "Pipeline": "runyard.pipeline",
    "PipelineRun": "runyard.pipeline",
    "PythonScriptStep": "runyard.pipeline",
    "CommandStep": "runyard.pipeline",
    "RScriptStep": "runyard.pipeline",
    "EstimatorStep": "runyard.pipeline",
    "HyperDriveStep": "runyard.pipeline",
    "AutoMLStep": "runyard.pipeline",
    "ParallelRunStep": "runyard.pipeline",
    "ParallelRunConfig": "runyard.pipeline",
    "TrainingOutput": "runyard.pipeline",
    "OutputFileDatasetConfig": "runyard.pipeline",
    "PipelineData": "runyard.pipeline",
    "PipelineParameter": "runyard.pipeline",
    "Schedule": "runyard.pipeline",
    "ScheduleRecurrence": "runyard.pipeline",
    "AutoMLConfig": "runyard.automl",
    "AutoMLRun": "runyard.automl",
    "FeaturizationConfig": "runyard.automl",
    "ForecastingParameters": "runyard.automl",
    "HyperDriveConfig": "runyard.hyperdrive",
    "HyperDriveRun": "runyard.hyperdrive",
    "PrimaryMetricGoal": "runyard.hyperdrive",
    "RandomParameterSampling": "runyard.hyperdrive",
    "GridParameterSampling": "runyard.hyperdrive",
    "BayesianParameterSampling": "runyard.hyperdrive",
    "BanditPolicy": "runyard.hyperdrive",
    "MedianStoppingPolicy": "runyard.hyperdrive",
    "TruncationSelectionPolicy": "runyard.hyperdrive",
    "NoTerminationPolicy": "runyard.hyperdrive",
    "choice": "runyard.hyperdrive",
    "randint": "runyard.hyperdrive",
    "uniform": "runyard.hyperdrive",
    "quniform": "runyard.hyperdrive",
    "loguniform": "runyard.hyperdrive",
    "qloguniform": "runyard.hyperdrive",
    "normal": "runyard.hyperdrive",
    "qnormal": "runyard.hyperdrive",
    "lognormal": "runyard.hyperdrive",
    "qlognormal": "runyard.hyperdrive",
    "Datastore": "runyard.data",
    "Dataset": "runyard.data",
    "FileDataset": "runyard.data",
    "TabularDataset": "runyard.data",
    "DatasetConsumptionConfig": "runyard.data",
    "RunyardError": "runyard.errors",
    "ConfigError": "runyard.errors",
    "SnapshotError": "runyard.errors",
    "NotFoundError": "runyard.errors",
    "RunNotFoundError": "runyard.errors",
    "EnvironmentBuildError": "runyard.errors",
    "ComputeError": "runyard.errors",
    "RunFailedError": "runyard.errors",
    "MissingDependencyError": "runyard.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
