"""Datastores and versioned datasets, with Azure ML SDK v1's names.

>>> from runyard import Dataset, Datastore
>>> store = Datastore.register_local(ws, "raw", "/data/raw")  # doctest: +SKIP
>>> table = Dataset.Tabular.from_delimited_files([(store, "2024/*.csv")])  # doctest: +SKIP
>>> table = table.register(ws, "sales", create_new_version=True)  # doctest: +SKIP
>>> config = ScriptRunConfig("src", script="train.py",
...                          arguments=["--data", table.as_named_input("sales").as_download()])  # doctest: +SKIP
"""

from .consumption import DatasetConsumptionConfig
from .dataset import (Dataset, FileDataset, FileDatasetFactory, MountContext, TabularDataset,
                      TabularDatasetFactory)
from .datastore import Datastore

__all__ = ["Dataset", "DatasetConsumptionConfig", "Datastore", "FileDataset", "FileDatasetFactory", "MountContext",
           "TabularDataset", "TabularDatasetFactory"]
