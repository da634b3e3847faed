"""Datasets as inputs of runs: ``dataset.as_named_input(name).as_download()`` / ``.as_mount()``.

At submission each input becomes an entry of the job's ``inputs`` (the job contract of
``runyard.resume``)::

    {"name": "train", "mode": "download", "folder": "inputs/train", "argument": "inputs/train",
     "dataset": {"id", "name", "version", "type", "format", "sources", "files", "content_hash"}}

so the job needs no store lookup: before the script starts the target puts the files in
``folder`` of the job's folder (``download``: copied; ``mount``: files on that machine linked,
others downloaded into runyard's cache), each checked against its sha256. A ``direct`` input
(``as_named_input`` alone) puts nothing there: the script reads it through
``Run.get_context().input_datasets[name]``. The script's argument is the folder, or the file
for a dataset made from one file.

Where the files are read: a local-folder datastore (or a path given as it is) must be at the
same path on the machine that runs the job (this machine for the local and Docker targets; a
Ray node: a filesystem shared with the cluster), while an fsspec datastore (``s3://`` ...) is
read by each job itself, so its protocol's package must be in the job's environment.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterator

from ..errors import ComputeError, ConfigError, RunyardError
from ..store.base import RunStore
from . import sources as src

if TYPE_CHECKING:
    from ..run import Run
    from ..workspace import Workspace
    from .dataset import Dataset

MODES = ("direct", "download", "mount")
INPUTS_FOLDER = "inputs"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class DatasetConsumptionConfig:
    """How a run gets a dataset: its input ``name`` and ``mode``.

    >>> config = dataset.as_named_input("train").as_mount()  # doctest: +SKIP
    >>> ScriptRunConfig("src", script="train.py", arguments=["--data", config])  # doctest: +SKIP
    """

    def __init__(self, name: str, dataset: "Dataset", mode: str = "direct", path_on_compute: str | None = None):
        from .dataset import Dataset
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"dataset input name {name!r}: use 1-128 letters, digits or '_', not starting "
                              f"with a digit")
        if not isinstance(dataset, Dataset):
            raise ConfigError(f"dataset input {name!r}: expected a Dataset, got {type(dataset).__name__}")
        if mode not in MODES:
            raise ConfigError(f"dataset input {name!r}: mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.name = name
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = _check_path_on_compute(name, path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        """Copy the files into the job's folder before the script starts."""
        return DatasetConsumptionConfig(self.name, self.dataset, "download", path_on_compute)

    def as_mount(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        """Link the files into the job's folder (no copy where they are on that machine;
        don't write to them)."""
        return DatasetConsumptionConfig(self.name, self.dataset, "mount", path_on_compute)

    @property
    def folder(self) -> str:
        """Where the files are, relative to the job's folder."""
        return self.path_on_compute or f"{INPUTS_FOLDER}/{self.name}"

    def delivered(self) -> "DatasetConsumptionConfig":
        """This input as an argument needs files: ``direct`` becomes ``download``."""
        return self if self.mode != "direct" else self.as_download(self.path_on_compute)

    def __repr__(self) -> str:
        return f"DatasetConsumptionConfig(name={self.name!r}, dataset={self.dataset!r}, mode={self.mode!r})"


def _check_path_on_compute(name: str, path: Any) -> str | None:
    if path is None:
        return None
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"dataset input {name!r}: path_on_compute must be a non-empty relative path, got {path!r}")
    clean = PurePosixPath(path.replace("\\", "/"))
    if clean.is_absolute() or ".." in clean.parts or clean.as_posix() in (".", ""):
        raise ConfigError(f"dataset input {name!r}: path_on_compute {path!r} must be a folder inside the job's "
                          f"folder (relative, without '..')")
    return clean.as_posix()


# -- at submission ---------------------------------------------------------------------------------
def collect(configs: list[DatasetConsumptionConfig], what: str) -> list[DatasetConsumptionConfig]:
    """The distinct inputs of one run; two inputs with one name (or folder) are an error."""
    by_name: dict[str, DatasetConsumptionConfig] = {}
    for config in configs:
        known = by_name.get(config.name)
        if known is None:
            by_name[config.name] = config
        elif known.dataset != config.dataset or known.path_on_compute != config.path_on_compute:
            raise ConfigError(f"{what}: two dataset inputs are named {config.name!r}; name them apart with "
                              f"as_named_input(name)")
        elif known.mode == "direct":  # the same input, given as an argument too: it needs its files
            by_name[config.name] = config
    folders: dict[str, str] = {}
    for config in by_name.values():
        if config.mode != "direct" and folders.setdefault(config.folder, config.name) != config.name:
            raise ConfigError(f"{what}: dataset inputs {folders[config.folder]!r} and {config.name!r} both go to "
                              f"{config.folder!r}")
    return list(by_name.values())


def job_input(config: DatasetConsumptionConfig, workspace: "Workspace", *, freeze: bool = True) -> dict[str, Any]:
    """The job's ``inputs`` entry for ``config``: a registered version's recorded files (checked
    cheaply), an unregistered dataset's files as its paths match them now, hashed (without
    ``freeze``: listed only, to be hashed by ``refresh`` when the job starts)."""
    dataset = config.dataset
    what = f"dataset input {config.name!r}"
    if dataset._row and dataset._workspace is not None and dataset._workspace != workspace:
        raise ConfigError(f"{what}: {dataset._what()} is registered in workspace {dataset._workspace.name!r}, "
                          f"not {workspace.name!r}")
    for source in dataset._sources:
        if source["kind"] == "fsspec" and src.protocol_of(source["base"]) == "memory":
            raise ConfigError(f"{what} reads {source['base']!r}: a memory:// filesystem lives in this Python "
                              f"process only, so a run cannot read it; put the data on a folder or another "
                              f"fsspec datastore")
    try:
        files = dataset._verified_files(workspace) if dataset._files is not None else \
            src.resolve(dataset._sources, workspace, hashes=freeze)
    except ConfigError as e:
        raise ConfigError(f"{what}: {e}") from e
    entry = {"name": config.name, "mode": config.mode, "folder": config.folder,
             "dataset": {"id": dataset.id, "name": dataset.name, "version": dataset.version, "type": dataset._type,
                         "format": dataset._format, "sources": dataset._sources}}
    return _with_files(entry, files)


def refresh(entry: dict[str, Any], workspace: Any) -> dict[str, Any]:
    """An unregistered dataset's entry with its files as its paths match them now, hashed (a
    pipeline step, when it starts); a registered version's as it is."""
    dataset = entry["dataset"]
    if dataset.get("id"):
        return entry
    try:
        files = src.resolve(dataset["sources"], workspace, hashes=True)
    except ConfigError as e:
        raise ConfigError(f"dataset input {entry['name']!r}: {e}") from e
    return _with_files(entry, files)


def _with_files(entry: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    hashed = all("sha256" in item for item in files)
    single = _single_file(entry["dataset"]["sources"], files)
    return {**entry, "argument": f"{entry['folder']}/{single}" if single else entry["folder"],
            "dataset": {**entry["dataset"], "files": files,
                        "content_hash": src.content_hash(files) if hashed else None}}


def _single_file(sources: list[dict[str, Any]], files: list[dict[str, Any]]) -> str | None:
    """The file's path when the dataset was made from one file named as such (not a glob)."""
    if len(sources) == 1 and len(files) == 1:
        pattern = sources[0].get("pattern")
        if pattern and not (set("*?[") & set(pattern)) and pattern == files[0]["path"]:
            return pattern
    return None


def job_inputs(configs: list[DatasetConsumptionConfig], workspace: "Workspace", what: str) -> list[dict[str, Any]]:
    return [job_input(config, workspace) for config in collect(configs, what)]


def record_lineage(store: Any, run_id: str, inputs: list[dict[str, Any]]) -> None:
    """Record that ``run_id`` reads each registered dataset version among ``inputs``."""
    for entry in inputs:
        dataset = entry.get("dataset")
        if dataset and dataset.get("name") and dataset.get("version") is not None:
            store.record_lineage(run_id, "input", "dataset", dataset["name"], dataset["version"], label=entry["name"])


# -- in the job's folder ---------------------------------------------------------------------------
def dataset_files(entry: dict[str, Any], workspace: Any) -> Iterator[tuple[str, Path]]:
    """(path in the job's folder, a local file with the right bytes) of each file of a dataset
    input; nothing for a ``direct`` one."""
    if entry.get("mode") == "direct":
        return
    dataset = entry["dataset"]
    for source, item in src.iter_files(dataset["sources"], dataset["files"]):
        yield f"{entry['folder']}/{item['path']}", _local_copy(entry, source, item, workspace)


def _local_copy(entry: dict[str, Any], source: dict[str, Any], item: dict[str, Any], workspace: Any) -> Path:
    dataset = entry["dataset"]
    what = f"dataset input {entry['name']!r}" + (
        f" (dataset {dataset['name']!r} version {dataset['version']})" if dataset.get("name") else "")
    path = src.local_path(source, item["path"], workspace)
    if path is not None:
        if not Path(path).is_file():
            raise ComputeError(f"{what}: file {str(path)!r} is not on this machine ({socket.gethostname()}); a "
                               f"local-folder datastore must be at the same path where the job runs (a shared "
                               f"filesystem on a cluster), or use an fsspec datastore")
        with open(path, "rb") as fh:
            if src.sha256_of(fh) != item["sha256"]:
                raise ComputeError(_changed(what, dataset, item, str(path)))
        return Path(path)
    from ..compute.local_env import cache_root
    cached = cache_root() / "datasets" / item["sha256"][:2] / item["sha256"]
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.part")
    try:
        with src.open_file(source, item["path"], workspace) as fh, open(tmp, "wb") as sink:
            digest = src.sha256_of(fh, sink)
        if digest != item["sha256"]:
            raise ComputeError(_changed(what, dataset, item, src.join(source["base"], item["path"])))
        os.chmod(tmp, 0o444)  # linked into jobs' folders: a script must not write through the link
        os.replace(tmp, cached)
    except ComputeError:
        raise
    except Exception as e:
        raise ComputeError(f"{what}: could not read {src.join(source['base'], item['path'])!r}: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return cached


def _changed(what: str, dataset: dict[str, Any], item: dict[str, Any], where: str) -> str:
    if dataset.get("name"):
        return (f"{what}: file {item['path']!r} ({where}) changed since the version was registered; a version's "
                f"files must not change: register the dataset again to make a new version")
    return f"{what}: file {item['path']!r} ({where}) changed since the run was submitted"


# -- seen from a run -------------------------------------------------------------------------------
def input_datasets(run: "Run") -> dict[str, "Dataset"]:
    """``run.input_datasets``: the run's dataset inputs by name, as they were at submission. In
    the job, a downloaded or mounted one reads the files put in the job's folder."""
    import json
    from .dataset import Dataset
    definition = run._row.get("definition")
    inputs = (json.loads(definition) if definition else {}).get("inputs") or []
    job_folder = None
    if run._in_job and os.environ.get("RUNYARD_OUTPUTS_DIR"):
        job_folder = Path(os.environ["RUNYARD_OUTPUTS_DIR"]).parent
    found = {}
    for entry in inputs:
        spec = entry.get("dataset")
        if not spec:
            continue
        row = None
        if spec.get("id"):
            row = {"id": spec["id"], "name": spec["name"], "version": spec["version"], "run_id": None,
                   "spec": {"description": None, "tags": {}}}
            stored = _stored_row(run.workspace, spec["id"])
            row = stored or row
        dataset = Dataset._from_spec(spec, run.workspace, row)
        if job_folder is not None and entry.get("mode") != "direct" and (job_folder / entry["folder"]).is_dir():
            dataset._delivered = job_folder / entry["folder"]
        found[entry["name"]] = dataset
    return found


def _stored_row(workspace: Any, asset_id: str) -> dict[str, Any] | None:
    if not isinstance(workspace._store, RunStore):  # a job's spool store (in a container) answers run reads only
        return None
    try:
        return workspace._store.get_asset_by_id(asset_id)
    except RunyardError:  # the run's own record still describes the dataset
        return None


def output_datasets(run: "Run") -> dict[str, "Dataset"]:
    """``run.output_datasets``: the dataset versions this run wrote, by output name."""
    from .dataset import Dataset
    found = {}
    for row in run.workspace._store.list_lineage(run_id=run.id, kind="dataset", role="output"):
        found[row["label"] or row["name"]] = Dataset.get_by_name(run.workspace, row["name"], row["version"])
    return found
