"""What marks this ``azureml`` as runyard's, and its refusal to shadow Microsoft's SDK."""

from __future__ import annotations

import importlib.metadata

#: Microsoft's distribution whose presence means ``import azureml`` is ambiguous
MICROSOFT_SDK = "azureml-core"
#: this distribution
DISTRIBUTION = "azureml-runyard"


def refuse_beside_microsoft_sdk() -> None:
    """Raise ``ImportError`` when Microsoft's ``azureml-core`` is installed in this Python:
    both provide the ``azureml`` package, and which one a script got would depend on install order."""
    try:
        microsoft = importlib.metadata.distribution(MICROSOFT_SDK)
    except importlib.metadata.PackageNotFoundError:
        return
    raise ImportError(
        f"both Microsoft's {MICROSOFT_SDK} {microsoft.version} and runyard's {DISTRIBUTION} (runyard's Azure ML "
        f"v1 compatibility layer) provide the 'azureml' package in this Python. Choose one: to run on runyard, "
        f"`pip uninstall {MICROSOFT_SDK}` (and azureml-sdk, azureml-defaults if present) in this environment; to "
        f"use Azure, `pip uninstall {DISTRIBUTION}` or use another virtual environment.")


def version() -> str:
    """This layer's version (``azureml.core.VERSION``)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a source checkout
        return "0.1.0"
