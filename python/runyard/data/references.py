"""Azure ML v1's data references: a path on a datastore that a run reads, mounted or
downloaded (``DataReference``), and the ``DataPath`` + ``DataPathComputeBinding`` pair that
describes one. Each is a file dataset of that datastore path consumed by name, so a run gets it
exactly as it gets ``dataset.as_named_input(name).as_mount()``.

>>> store = ws.get_default_datastore()  # doctest: +SKIP
>>> raw = DataReference(store, data_reference_name="raw", path_on_datastore="raw/2024")  # doctest: +SKIP
>>> ScriptRunConfig("src", script="train.py", arguments=["--data", raw])  # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from .consumption import DatasetConsumptionConfig

#: what a reference may do here: reading modes (a step's output is an OutputFileDatasetConfig)
MODES = ("mount", "download")


def _check_mode(what: str, mode: Any) -> str:
    if mode == "upload":
        raise ConfigError(f"{what}: mode='upload' writes a step's output; write it with "
                          f"OutputFileDatasetConfig(destination=(datastore, 'path')) instead")
    if mode not in MODES:
        raise ConfigError(f"{what}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def _check_overwrite(what: str, overwrite: Any) -> bool:
    if not isinstance(overwrite, bool):
        raise ConfigError(f"{what}: overwrite must be True or False, got {overwrite!r}")
    return overwrite


def _check_datastore(what: str, datastore: Any) -> Any:
    from .datastore import Datastore
    if not isinstance(datastore, Datastore):
        raise ConfigError(f"{what}: datastore must be a Datastore (ws.get_default_datastore() or "
                          f"Datastore.get(ws, name)), got {type(datastore).__name__}")
    return datastore


class DataReference(DatasetConsumptionConfig):
    """``path_on_datastore`` of ``datastore`` (the whole datastore without one), given to a run
    as input ``data_reference_name`` (default: the datastore's name): linked into the job's
    folder (``mode="mount"``) or copied there (``"download"``); the script's argument is that
    folder (``path_on_compute`` if given). The job's folder starts empty, so ``overwrite`` has
    nothing to replace there; either value gives the same files.
    """

    def __init__(self, datastore: Any, data_reference_name: str | None = None, path_on_datastore: str | None = None,
                 mode: str = "mount", path_on_compute: str | None = None, overwrite: bool = False):
        from .dataset import Dataset
        what = f"DataReference({data_reference_name!r})" if data_reference_name else "DataReference"
        _check_datastore(what, datastore)
        if path_on_datastore is not None and not isinstance(path_on_datastore, str):
            raise ConfigError(f"{what}: path_on_datastore must be text, got {type(path_on_datastore).__name__}")
        name = data_reference_name if data_reference_name is not None else re.sub(r"[^A-Za-z0-9_]", "_",
                                                                                   datastore.name)
        dataset = Dataset.File.from_files((datastore, path_on_datastore or ""), validate=False)
        super().__init__(name, dataset, _check_mode(what, mode), path_on_compute)
        self.datastore = datastore
        self.path_on_datastore = path_on_datastore
        self.overwrite = _check_overwrite(what, overwrite)

    @property
    def data_reference_name(self) -> str:
        return self.name

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> "DataReference":
        """A reference to ``path`` below this one, on the same datastore, in the same mode."""
        below = "/".join(p.strip("/") for p in (self.path_on_datastore, path) if p)
        return DataReference(self.datastore, data_reference_name, below or None, self.mode, None, self.overwrite)

    def as_mount(self, path_on_compute: str | None = None) -> "DataReference":
        return DataReference(self.datastore, self.name, self.path_on_datastore, "mount", path_on_compute,
                             self.overwrite)

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> "DataReference":
        return DataReference(self.datastore, self.name, self.path_on_datastore, "download", path_on_compute,
                             overwrite)

    def as_upload(self, path_on_compute: str | None = None, overwrite: bool = False) -> "DataReference":
        _check_mode(f"DataReference({self.name!r})", "upload")
        raise AssertionError("unreachable")  # _check_mode raised

    def __repr__(self) -> str:
        return (f"DataReference(datastore={self.datastore.name!r}, data_reference_name={self.name!r}, "
                f"path_on_datastore={self.path_on_datastore!r}, mode={self.mode!r})")


class DataPathComputeBinding:
    """How a run gets a ``DataPath``: ``mode`` (``mount`` or ``download``) and where
    (``path_on_compute``); ``overwrite`` as for ``DataReference``."""

    def __init__(self, mode: str = "mount", path_on_compute: str | None = None, overwrite: bool = False):
        self.mode = _check_mode("DataPathComputeBinding", mode)
        self.path_on_compute = path_on_compute
        self.overwrite = _check_overwrite("DataPathComputeBinding", overwrite)

    def __repr__(self) -> str:
        return f"DataPathComputeBinding(mode={self.mode!r}, path_on_compute={self.path_on_compute!r})"


class DataPath:
    """A path on a datastore. A step reads it from its ``inputs`` as the pair
    ``(data_path, DataPathComputeBinding(mode=...))``, or as ``data_path.create_data_reference()``.

    >>> DataPath(ws.get_default_datastore(), "raw/2024", name="raw")  # doctest: +SKIP
    """

    def __init__(self, datastore: Any = None, path_on_datastore: str | None = None, name: str | None = None):
        self.datastore = _check_datastore("DataPath", datastore)
        if path_on_datastore is not None and not isinstance(path_on_datastore, str):
            raise ConfigError(f"DataPath: path_on_datastore must be text, got {type(path_on_datastore).__name__}")
        self.path_on_datastore = path_on_datastore
        self.name = name

    def create_data_reference(self, data_reference_name: str | None = None,
                              datapath_compute_binding: DataPathComputeBinding | None = None) -> DataReference:
        binding = datapath_compute_binding if datapath_compute_binding is not None else DataPathComputeBinding()
        if not isinstance(binding, DataPathComputeBinding):
            raise ConfigError(f"DataPath.create_data_reference: datapath_compute_binding must be a "
                              f"DataPathComputeBinding, got {type(binding).__name__}")
        return DataReference(self.datastore, data_reference_name or self.name, self.path_on_datastore, binding.mode,
                             binding.path_on_compute, binding.overwrite)

    def __repr__(self) -> str:
        return f"DataPath(datastore={self.datastore.name!r}, path_on_datastore={self.path_on_datastore!r})"


def as_reference(item: Any) -> Any:
    """A step input ``(DataPath, DataPathComputeBinding)`` as its ``DataReference``; anything else as it is."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], DataPath):
        return item[0].create_data_reference(datapath_compute_binding=item[1])
    return item
