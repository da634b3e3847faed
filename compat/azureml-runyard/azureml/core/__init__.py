"""Azure's ``azureml.core``: runyard's workspace, experiment, run, configs, environment, data and models.

Loaded name by name on first use, so a job script's ``from azureml.core import Run`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from .._runyard_compat import version

VERSION = version()

#: Azure's name -> the runyard module that holds it
_EXPORTS = {
    "Workspace": "runyard.workspace",
    "Experiment": "runyard.experiment",
    "Run": "runyard.run",
    "ScriptRunConfig": "runyard.config",
    "RunConfiguration": "runyard.config",
    "Environment": "runyard.environment",
    "Dataset": "runyard.data",
    "Datastore": "runyard.data",
    "Model": "runyard.model",
    "ComputeTarget": "runyard.compute",
}

__all__ = sorted([*_EXPORTS, "VERSION"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'azureml.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
