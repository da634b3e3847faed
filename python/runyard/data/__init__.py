"""Datastores and versioned datasets, with Azure ML SDK v1's names.

>>> from runyard import Dataset, Datastore
>>> store = Datastore.register_local(ws, "raw", "/data/raw")  # doctest: +SKIP
>>> table = Dataset.Tabular.from_delimited_files([(store, "2024/*.csv")])  # doctest: +SKIP
>>> table = table.register(ws, "sales", create_new_version=True)  # doctest: +SKIP
>>> config = ScriptRunConfig("src", script="train.py",
...                          arguments=["--data", table.as_named_input("sales").as_download()])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: runyard.config needs only DatasetConsumptionConfig, and every run
# submission imports runyard.config.
_EXPORTS = {
    "DatasetConsumptionConfig": ".consumption",
    **dict.fromkeys(["Dataset", "FileDataset", "FileDatasetFactory", "MountContext", "TabularDataset",
                     "TabularDatasetFactory"], ".dataset"),
    "Datastore": ".datastore",
    **dict.fromkeys(["DataPath", "DataPathComputeBinding", "DataReference"], ".references"),
    "DataType": ".tabular",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runyard.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
