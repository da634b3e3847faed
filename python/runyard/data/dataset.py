"""``Dataset``: files (``FileDataset``) or a table in files (``TabularDataset``), versioned by
content when registered.

An unregistered dataset is a definition: the paths it names are listed again each time it
is used. ``register`` freezes it: the version records every file's path in the dataset,
size and sha256, and registering the same content again returns that version. A version
refers to its files where they are (no copy); reading one checks the bytes against the
recorded hashes, and files that changed since registration are an error saying so,
never a silently different version. Register again to get a new version.

>>> ds = Dataset.Tabular.from_delimited_files(path=[(datastore, "raw/*.csv")])  # doctest: +SKIP
>>> ds = ds.register(ws, "diabetes", create_new_version=True)  # doctest: +SKIP
>>> Dataset.get_by_name(ws, "diabetes", version=1).to_pandas_dataframe()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ConfigError, NotFoundError, refuse_options
from ..store import asset_by_id
from . import sources as src
from . import tabular
from .datastore import Datastore

if TYPE_CHECKING:
    from ..run import Run
    from ..workspace import Workspace
    from .consumption import DatasetConsumptionConfig

KIND = "dataset"
# spaces inside a name are allowed because Azure allowed them and v1 code registered such names
_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._ -]{0,253}[A-Za-z0-9._-])?$")


class Dataset:
    """A dataset; make one with ``Dataset.File.from_files`` or ``Dataset.Tabular.from_*``, or get
    a registered one with ``Dataset.get_by_name``.

    >>> files = Dataset.File.from_files("data/images")  # doctest: +SKIP
    """

    File: ClassVar[Any]
    Tabular: ClassVar[Any]
    _type: ClassVar[str] = "file"

    def __init__(self, *args: Any, **kwargs: Any):
        raise ConfigError("make a dataset with Dataset.File.from_files(...), Dataset.Tabular.from_delimited_files"
                          "(...) or from_parquet_files(...), or get one with Dataset.get_by_name(ws, name)")

    @classmethod
    def _make(cls, sources: list[dict[str, Any]], format: dict[str, Any] | None = None, *,
              workspace: "Workspace | None" = None, row: dict[str, Any] | None = None,
              files: list[dict[str, Any]] | None = None) -> "Dataset":
        dataset = cls.__new__(cls)
        dataset._sources = sources
        dataset._format = format
        dataset._workspace = workspace
        dataset._row = row
        dataset._files = files
        dataset._delivered: Path | None = None
        return dataset

    @staticmethod
    def _from_spec(spec: dict[str, Any], workspace: "Workspace | None", row: dict[str, Any] | None) -> "Dataset":
        cls = TabularDataset if spec["type"] == "tabular" else FileDataset
        return cls._make(spec["sources"], spec.get("format"), workspace=workspace, row=row, files=spec["files"])

    @staticmethod
    def _from_row(workspace: "Workspace", row: dict[str, Any]) -> "Dataset":
        return Dataset._from_spec(row["spec"], workspace, row)

    # -- identity ----------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self._row["name"] if self._row else None

    @property
    def version(self) -> int | None:
        return self._row["version"] if self._row else None

    @property
    def id(self) -> str | None:
        return self._row["id"] if self._row else None

    @property
    def description(self) -> str | None:
        return self._row["spec"].get("description") if self._row else None

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._row["spec"].get("tags") or {}) if self._row else {}

    @property
    def content_hash(self) -> str | None:
        """The hash of the version's files (paths in the dataset and bytes); None unregistered."""
        return src.content_hash(self._files) if self._files is not None else None

    def __repr__(self) -> str:
        if self._row:
            return f"{type(self).__name__}(name={self.name!r}, version={self.version})"
        return f"{type(self).__name__}(paths={[s.get('path') for s in self._sources]!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return False
        if self._row and other._row:
            return self.id == other.id
        return (self._sources, self._format, self._files) == (other._sources, other._format, other._files)

    def __hash__(self) -> int:
        return hash(self.id or json.dumps(self._sources, sort_keys=True))

    def _what(self) -> str:
        return f"dataset {self.name!r} version {self.version}" if self._row else f"dataset {self!r}"

    # -- registering -------------------------------------------------------------------------
    def register(self, workspace: "Workspace", name: str, description: str | None = None,
                 tags: dict[str, str] | None = None, create_new_version: bool = False) -> "Dataset":
        """Register this dataset's files as a version of ``name``. The same content (paths in the
        dataset and bytes, same type and format) returns the version that has it; other content
        under a registered name needs ``create_new_version=True``.

        >>> ds = Dataset.File.from_files("data").register(ws, "raw", create_new_version=True)  # doctest: +SKIP
        """
        return self._register(workspace, name, description, tags, create_new_version)

    def _register(self, workspace: "Workspace", name: str, description: str | None, tags: dict[str, str] | None,
                  create_new_version: bool, run_id: str | None = None) -> "Dataset":
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"dataset name {name!r}: use 1-255 letters, digits, '.', '_', '-' or spaces inside, "
                              f"starting with a letter or digit")
        if tags is not None and not isinstance(tags, dict):
            raise ConfigError(f"dataset {name!r}: tags must be a dict, got {type(tags).__name__}")
        if not isinstance(create_new_version, bool):
            raise ConfigError(f"create_new_version must be True or False, got {create_new_version!r}")
        if self._row and self._workspace is not None and self._workspace != workspace:
            raise ConfigError(f"{self._what()} belongs to workspace {self._workspace.name!r}, not "
                              f"{workspace.name!r}")
        files = self._verified_files(workspace) if self._files is not None else \
            src.resolve(self._sources, workspace, hashes=True)
        if self._format:
            self._check_format(files, workspace)
        content = src.content_hash(files)
        key = hashlib.sha256(json.dumps({"content": content, "type": self._type,
                                         "format": tabular.identity(self._format)},
                                        sort_keys=True).encode()).hexdigest()
        spec = {"type": self._type, "format": self._format, "sources": self._sources, "files": files,
                "content_hash": content, "description": description,
                "tags": {str(k): str(v) for k, v in (tags or {}).items()}}
        row = workspace._store.register_asset(KIND, name, spec, content_hash=key,
                                              create_new_version=create_new_version, run_id=run_id)
        return Dataset._from_row(workspace, row)

    # -- finding -----------------------------------------------------------------------------
    @staticmethod
    def get_by_name(workspace: "Workspace", name: str, version: int | str = "latest") -> "Dataset":
        """A registered version of ``name`` (the latest by default).

        >>> Dataset.get_by_name(ws, "diabetes", version=2)  # doctest: +SKIP
        """
        from ..workspace import check_workspace
        check_workspace(workspace)
        number = _version(version)
        row = workspace._store.get_asset(KIND, name, number)
        if row is None:
            versions = [r["version"] for r in workspace._store.list_assets(KIND, name)]
            if versions:
                raise NotFoundError(f"dataset {name!r} has no version {version} in workspace {workspace.name!r} "
                                    f"(versions: {', '.join(map(str, versions))})")
            known = sorted(Dataset.get_all(workspace))
            raise NotFoundError(f"dataset {name!r} is not registered in workspace {workspace.name!r} "
                                f"(registered: {', '.join(known) or 'none'})")
        return Dataset._from_row(workspace, row)

    @staticmethod
    def get_by_id(workspace: "Workspace", id: str) -> "Dataset":
        return Dataset._from_row(workspace, asset_by_id(workspace, KIND, id, "dataset"))

    @staticmethod
    def get_all(workspace: "Workspace") -> dict[str, "Dataset"]:
        """The latest version of every registered dataset, by name."""
        return {row["name"]: Dataset._from_row(workspace, row)
                for row in workspace._store.list_assets(KIND, latest_only=True)}

    @staticmethod
    def list(workspace: "Workspace") -> list["Dataset"]:
        return list(Dataset.get_all(workspace).values())

    def get_versions(self) -> list["Dataset"]:
        """Every registered version of this dataset's name, oldest first."""
        if not self._row:
            return []
        return [Dataset._from_row(self._workspace, row) for row in self._workspace._store.list_assets(KIND, self.name)]

    # -- lineage -----------------------------------------------------------------------------
    @property
    def producing_run(self) -> "Run | None":
        """The run whose output this version is (``register_on_complete``), if one made it."""
        if not self._row or not self._row.get("run_id"):
            return None
        from ..run import Run
        return Run.get(self._workspace, self._row["run_id"])

    @property
    def consuming_runs(self) -> list["Run"]:
        """The runs that read this version, in the order they were submitted."""
        if not self._row:
            return []
        from ..run import Run
        rows = self._workspace._store.list_lineage(kind=KIND, name=self.name, version=self.version, role="input")
        return [Run.get(self._workspace, run_id) for run_id in dict.fromkeys(r["run_id"] for r in rows)]

    # -- using it in runs --------------------------------------------------------------------
    def as_named_input(self, name: str) -> "DatasetConsumptionConfig":
        """This dataset as the input ``name`` of a run (``run.input_datasets[name]``); add
        ``.as_download()`` or ``.as_mount()`` to get its files in the job's folder."""
        from .consumption import DatasetConsumptionConfig
        return DatasetConsumptionConfig(name, self)

    def as_download(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return self.as_named_input(self._input_name()).as_download(path_on_compute)

    def as_mount(self, path_on_compute: str | None = None) -> "DatasetConsumptionConfig":
        return self.as_named_input(self._input_name()).as_mount(path_on_compute)

    def _input_name(self) -> str:
        name = re.sub(r"[^A-Za-z0-9_]", "_", self.name or "dataset")
        return name if not name[0].isdigit() else f"_{name}"

    # -- files -------------------------------------------------------------------------------
    def _current_files(self) -> list[dict[str, Any]]:
        """The files read now: a version's recorded files, else those the paths name now."""
        if self._files is not None:
            return self._files
        return src.resolve(self._sources, self._workspace, hashes=False)

    def _verified_files(self, workspace: "Workspace | None" = None) -> list[dict[str, Any]]:
        """A version's files after a cheap check (size, and the hash of a local file whose time
        changed) that they are still what was registered."""
        workspace = workspace or self._workspace
        for source, item in src.iter_files(self._sources, self._files):
            if self._delivered is not None:
                continue
            try:
                now = src.stat(source, item["path"], workspace)
            except (OSError, NotFoundError) as e:
                raise self._changed(source, item, f"it cannot be read ({e})") from None
            if now["size"] != item["size"]:
                raise self._changed(source, item, f"its size is {now['size']} bytes, not {item['size']}")
            if "mtime_ns" in item and now.get("mtime_ns") != item["mtime_ns"]:
                with src.open_file(source, item["path"], workspace) as fh:
                    if src.sha256_of(fh) != item["sha256"]:
                        raise self._changed(source, item, "its bytes differ")
        return self._files

    def _changed(self, source: dict[str, Any], item: dict[str, Any], detail: str) -> ConfigError:
        where = src.join(source.get("base", ""), item["path"]) if source["kind"] != "run" else \
            f"{source['base']}/{item['path']} of run {source['run_id']}"
        if self._row:
            return ConfigError(
                f"{self._what()}: file {item['path']!r} ({where}) changed since the version was registered: "
                f"{detail}. A version's files must not change; register the dataset again to make a new "
                f"version (create_new_version=True)")
        return ConfigError(f"{self._what()}: file {item['path']!r} ({where}) changed while it was in use: {detail}")

    def _open(self, source: dict[str, Any], item: dict[str, Any]) -> Any:
        if self._delivered is not None:
            return open(self._delivered / item["path"], "rb")
        return src.open_file(source, item["path"], self._workspace)

    def _read(self, source: dict[str, Any], item: dict[str, Any]) -> bytes:
        """A file's bytes, checked against the version's hash."""
        with self._open(source, item) as fh:
            data = fh.read()
        if "sha256" in item and self._delivered is None and hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise self._changed(source, item, "its bytes differ")
        return data

    def _copy(self, source: dict[str, Any], item: dict[str, Any], destination: Path) -> None:
        """Copy one file to ``destination`` atomically, checked against the version's hash."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as sink, self._open(source, item) as fh:
                digest = src.sha256_of(fh, sink)
            if "sha256" in item and self._delivered is None and digest != item["sha256"]:
                raise self._changed(source, item, "its bytes differ")
            os.replace(tmp, destination)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _check_format(self, files: list[dict[str, Any]], workspace: "Workspace | None") -> None:
        sources = self._sources
        tabular.check(self._format, [
            (src.join(sources[item["source"]]["base"], item["path"]),
             f"{item['path']!r} ({src.describe(sources[item['source']])})",
             (lambda s=sources[item["source"]], p=item["path"]: src.open_file(s, p, workspace)))
            for item in files])

    def to_path(self) -> list[str]:
        """The paths of the files in the dataset (``/a.csv``, ``/sub/b.csv``)."""
        return ["/" + item["path"] for item in self._current_files()]

    def download(self, target_path: str | os.PathLike | None = None, overwrite: bool = False) -> list[str]:
        """Copy the files into ``target_path`` (a new temporary folder without one) at their paths
        in the dataset; returns the paths written. A version's files are checked on the way.

        >>> Dataset.get_by_name(ws, "raw").download("data", overwrite=True)  # doctest: +SKIP
        """
        out = Path(os.fspath(target_path)) if target_path is not None else \
            Path(tempfile.mkdtemp(prefix="runyard-dataset-"))
        files = self._current_files()
        existing = [item["path"] for item in files if (out / item["path"]).exists()]
        if existing and not overwrite:
            raise ConfigError(f"download: {len(existing)} file(s) already in {str(out)!r} (first: "
                              f"{existing[0]!r}); pass overwrite=True to replace them")
        written = []
        for source, item in src.iter_files(self._sources, files):
            self._copy(source, item, out / item["path"])
            written.append(str(out / item["path"]))
        return written

    def mount(self, mount_point: str | os.PathLike | None = None) -> "MountContext":
        """The files in one folder without copying those on this machine (linked, after their
        hashes are checked; fsspec files are downloaded): a context manager.

        >>> with dataset.mount() as mounted:  # doctest: +SKIP
        ...     os.listdir(mounted.mount_point)
        """
        return MountContext(self, mount_point)


class FileDataset(Dataset):
    """Files of any kind: ``download``, ``mount``, ``to_path``; ``as_download()`` in a run."""

    _type = "file"


class TabularDataset(Dataset):
    """A table kept in delimited or Parquet files: ``to_pandas_dataframe()``."""

    _type = "tabular"

    def to_pandas_dataframe(self) -> Any:
        """Every file as one pandas DataFrame (needs ``pip install "runyard[data]"``); a file
        that does not parse is an error naming it.

        >>> Dataset.get_by_name(ws, "diabetes").to_pandas_dataframe().shape  # doctest: +SKIP
        """
        files = self._current_files()
        return tabular.read(self._format, ((item["path"], src.join(source["base"], item["path"]),
                                            f"{item['path']!r} ({src.describe(source)})", self._read(source, item))
                                           for source, item in src.iter_files(self._sources, files)))

    # -- partitions --------------------------------------------------------------------------
    @property
    def partition_keys(self) -> list[str]:
        """The keys the dataset is partitioned by: the columns of its ``partition_format``."""
        return tabular.partition_columns(self._format)

    def get_partition_key_values(self, partition_keys: list[str] | None = None) -> list[dict[str, Any]]:
        """Each distinct combination of ``partition_keys``' values (default: all the dataset's
        partition keys), read from the files' paths (no data is read), in file order.

        >>> sales.get_partition_key_values(["store"])  # doctest: +SKIP
        [{'store': '1'}, {'store': '2'}]
        """
        keys = self._check_partition_keys(partition_keys, "get_partition_key_values")
        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        for source, item in src.iter_files(self._sources, self._current_files()):
            full = src.join(source["base"], item["path"])
            values = tabular.partition_values(self._format, full, repr(item["path"]))
            found.setdefault(tuple(values[k] for k in keys), {k: values[k] for k in keys})
        return list(found.values())

    def _check_partition_keys(self, partition_keys: Any, where: str) -> list[str]:
        known = self.partition_keys
        if partition_keys is None:
            if not known:
                raise ConfigError(f"{where}: {self._what()} is not partitioned (no partition_format); partition it "
                                  f"with partition_by(partition_keys, target)")
            return known
        if (not isinstance(partition_keys, (list, tuple)) or not partition_keys
                or not all(isinstance(k, str) for k in partition_keys)):
            raise ConfigError(f"{where}: partition_keys must be a non-empty list of key names, got {partition_keys!r}")
        missing = [k for k in partition_keys if k not in known]
        if missing:
            raise ConfigError(f"{where}: {missing!r} are not partition keys of {self._what()} (its partition keys: "
                              f"{known or 'none'})")
        return list(partition_keys)

    def partition_by(self, partition_keys: list[str], target: Any, name: str | None = None,
                     show_progress: bool = True, partition_as_file_dataset: bool = False) -> "TabularDataset":
        """Write the table to ``target`` (``(datastore, "path")`` or a datastore), a folder of
        Parquet files per distinct combination of the ``partition_keys`` columns (in a new
        folder under the path, so nothing there is overwritten), and return it as a
        partitioned dataset (registered as ``name`` when given). As in Azure ML, the keys come
        back from the folder names as text columns.

        >>> sales.partition_by(["store"], (datastore, "sales-by-store"), name="sales_by_store")  # doctest: +SKIP
        """
        where = "partition_by"
        refuse_options(where, "a partitioned dataset here is tabular; read a partition's files with "
                       "to_pandas_dataframe()", partition_as_file_dataset=partition_as_file_dataset)
        if (not isinstance(partition_keys, (list, tuple)) or not partition_keys
                or not all(isinstance(k, str) and k for k in partition_keys)
                or len(set(partition_keys)) != len(partition_keys)):
            raise ConfigError(f"{where}: partition_keys must be a non-empty list of distinct column names, "
                              f"got {partition_keys!r}")
        datastore, path = (target, "") if isinstance(target, Datastore) else (
            target if isinstance(target, tuple) and len(target) == 2 else (None, None))
        if not isinstance(datastore, Datastore) or not isinstance(path, str):
            raise ConfigError(f"{where}: target must be a datastore or (datastore, 'path'), got {target!r}")
        frame = self.to_pandas_dataframe()
        missing = [k for k in partition_keys if k not in frame.columns]
        if missing:
            raise ConfigError(f"{where}: {missing!r} are not columns of {self._what()} (its columns: "
                              f"{', '.join(map(str, frame.columns))})")
        for key in partition_keys:
            if frame[key].isna().any():
                raise ConfigError(f"{where}: column {key!r} has empty values (row {int(frame[key].isna().idxmax()) + 1}"
                                  f"); every row needs a value for each partition key")
        folder = f"{path.strip('/')}/{uuid.uuid4().hex}".lstrip("/")
        with tempfile.TemporaryDirectory(prefix="runyard-partitions-") as tmp:
            files = []
            for values, group in frame.groupby(list(partition_keys), sort=True):
                values = values if isinstance(values, tuple) else (values,)
                parts = [str(v) for v in values]
                bad = next((p for p in parts if not p or "/" in p or "\\" in p or p in (".", "..")), None)
                if bad is not None:
                    raise ConfigError(f"{where}: partition key value {bad!r} cannot name a folder (empty, '.', "
                                      f"'..' or holding a slash)")
                file = Path(tmp, *parts, "part-0.parquet")
                file.parent.mkdir(parents=True, exist_ok=True)
                try:
                    group.drop(columns=list(partition_keys)).to_parquet(file, index=False)
                except ImportError as e:
                    from ..errors import missing_dependency
                    raise missing_dependency("pyarrow", "data") from e
                files.append(file)
            datastore.upload_files(files, relative_root=tmp, target_path=folder, show_progress=show_progress)
        partition_format = "/" + "/".join(f"{{{k}}}" for k in partition_keys) + "/part-0.parquet"
        dataset = TabularDatasetFactory.from_parquet_files((datastore, folder), partition_format=partition_format)
        if name is not None:
            dataset = dataset.register(datastore.workspace, name, create_new_version=True)
        return dataset


class MountContext:
    """A dataset's files in ``mount_point`` between ``start()`` and ``stop()`` (or ``with``)."""

    def __init__(self, dataset: Dataset, mount_point: str | os.PathLike | None):
        self.dataset = dataset
        self._given = Path(os.fspath(mount_point)) if mount_point is not None else None
        self.mount_point: str | None = None
        self._made: list[Path] = []

    def start(self) -> "MountContext":
        folder = self._given or Path(tempfile.mkdtemp(prefix="runyard-mount-"))
        folder.mkdir(parents=True, exist_ok=True)
        dataset = self.dataset
        try:
            for source, item in src.iter_files(dataset._sources, dataset._current_files()):
                target = folder / item["path"]
                if target.exists() or target.is_symlink():
                    raise ConfigError(f"mount: {str(target)!r} already exists")
                target.parent.mkdir(parents=True, exist_ok=True)
                local = dataset._delivered / item["path"] if dataset._delivered is not None else \
                    src.local_path(source, item["path"], dataset._workspace)
                if local is None:
                    dataset._copy(source, item, target)
                else:
                    if "sha256" in item and dataset._delivered is None:
                        with open(local, "rb") as fh:
                            if src.sha256_of(fh) != item["sha256"]:
                                raise dataset._changed(source, item, "its bytes differ")
                    target.symlink_to(Path(local).resolve())
                self._made.append(target)
        except BaseException:
            self.mount_point = str(folder)
            self.stop()
            raise
        self.mount_point = str(folder)
        return self

    def stop(self) -> None:
        if self.mount_point is None:
            return
        if self._given is None:
            shutil.rmtree(self.mount_point, ignore_errors=True)
        else:
            for path in self._made:
                path.unlink(missing_ok=True)
        self._made = []
        self.mount_point = None

    def __enter__(self) -> "MountContext":
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


# -- making datasets ----------------------------------------------------------------------------
def _sources_of(path: Any, what: str) -> list[dict[str, Any]]:
    """``path`` as sources: a path or URL (globs allowed), ``(datastore, "path")``, a datastore,
    or a list of them."""
    if isinstance(path, tuple) and len(path) == 2 and isinstance(path[0], Datastore):
        path = [path]
    items = path if isinstance(path, list) else [path]
    if not items:
        raise ConfigError(f"{what}: path is an empty list; give a path, a URL or (datastore, 'path')")
    found = []
    for index, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Datastore):
            found.append(item[0]._source(item[1]))
        elif isinstance(item, Datastore):
            found.append(item._source(""))
        elif isinstance(item, (str, os.PathLike)):
            text = os.fspath(item)
            found.append(src.fsspec_source(text) if src.is_url(text) else src.local_source(text))
        else:
            raise ConfigError(f"{what}: path[{index}] must be a path, a URL or (datastore, 'path'), "
                              f"got {item!r}")
    return found


def _version(version: Any) -> int | None:
    if version is None or version == "latest":
        return None
    if isinstance(version, bool):
        raise ConfigError(f"dataset version {version!r} must be 'latest' or a whole number >= 1")
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise ConfigError(f"dataset version {version!r} must be 'latest' or a whole number >= 1") from None
    if number < 1 or str(number) != str(version).strip():
        raise ConfigError(f"dataset version {version!r} must be 'latest' or a whole number >= 1")
    return number


class FileDatasetFactory:
    """``Dataset.File``: make file datasets."""

    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None,
                   is_file: bool = False) -> FileDataset:
        """Files named by ``path``: a local path or URL (globs allowed), ``(datastore, "path")``,
        or a list of them. A folder gives every file below it, at its path in the folder.
        ``is_file=True`` says every path names files (a file or a glob), never a folder.

        >>> Dataset.File.from_files(path=[(datastore, "images/**/*.png")])  # doctest: +SKIP
        """
        refuse_options("Dataset.File.from_files", "partition columns belong to tabular datasets here "
                       "(Dataset.Tabular.from_*(partition_format=...)); select a file dataset's files with a "
                       "glob in path", partition_format=partition_format)
        if not isinstance(is_file, bool):
            raise ConfigError(f"Dataset.File.from_files: is_file must be True or False, got {is_file!r}")
        dataset = FileDataset._make(_sources_of(path, "Dataset.File.from_files"))
        if is_file:
            folders = [s for s in dataset._sources if s.get("pattern") is None]
            if folders:
                raise ConfigError(f"Dataset.File.from_files: is_file=True, but path {src.describe(folders[0])} "
                                  f"is a folder; name its files (a glob like 'folder/**') or pass is_file=False")
        if validate:
            src.resolve(dataset._sources, hashes=False)
        return dataset

    @staticmethod
    def upload_directory(src_dir: str | os.PathLike, target: Any, pattern: str | None = None,
                         overwrite: bool = False, show_progress: bool = True) -> FileDataset:
        """Upload a folder to ``target`` (``(datastore, "path")`` or a datastore) and return the
        file dataset of what is there."""
        datastore, path = (target, "") if isinstance(target, Datastore) else target
        if not isinstance(datastore, Datastore):
            raise ConfigError("upload_directory: target must be a datastore or (datastore, 'path')")
        folder = Path(os.fspath(src_dir))
        if not folder.is_dir():
            raise ConfigError(f"upload_directory: src_dir {os.fspath(src_dir)!r} is not a folder")
        files = [Path(p) for p in folder.glob(pattern or "**/*") if Path(p).is_file()]
        if not files:
            raise ConfigError(f"upload_directory: no files in {str(folder)!r}" + (f" match {pattern!r}" if pattern else ""))
        datastore.upload_files(files, relative_root=folder, target_path=path, overwrite=overwrite,
                               show_progress=show_progress)
        return FileDatasetFactory.from_files((datastore, path))


class TabularDatasetFactory:
    """``Dataset.Tabular``: make tabular datasets."""

    @staticmethod
    def from_delimited_files(path: Any, validate: bool = True, include_path: bool = False,
                             infer_column_types: bool = True, set_column_types: Any = None,
                             separator: str = ",", header: bool = True, partition_format: str | None = None,
                             support_multi_line: bool = False, empty_as_string: bool = False,
                             encoding: str = "utf8") -> TabularDataset:
        """A table in CSV (or other delimited) files; with ``validate`` each file's start is
        checked now (columns, field counts, encoding, partition paths), naming a file that does
        not parse. Every option is stored with the dataset and applied when it is read:

        - ``infer_column_types=False`` reads every column as text; ``set_column_types`` gives
          columns a type: ``{"age": DataType.to_long(), "day": DataType.to_datetime("%d/%m/%Y")}``;
        - ``partition_format`` adds columns from each file's path: ``"/{Region}/{Day:yyyy/MM/dd}/data.csv"``
          gives a text column ``Region`` and a datetime column ``Day``;
        - ``support_multi_line=False`` (Azure's default) reads a line break as the end of a
          record: a quoted value holding one is an error naming the file; ``True`` reads it;
        - ``empty_as_string=True`` reads empty fields of text columns as ``""`` (not null).

        >>> Dataset.Tabular.from_delimited_files("data/*.csv", separator=";")  # doctest: +SKIP
        """
        where = "Dataset.Tabular.from_delimited_files"
        format = tabular.delimited_format(separator, header, encoding, include_path,
                                          infer_column_types=infer_column_types, set_column_types=set_column_types,
                                          partition_format=partition_format, support_multi_line=support_multi_line,
                                          empty_as_string=empty_as_string, where=where)
        return _tabular(_sources_of(path, where), format, validate)

    @staticmethod
    def from_parquet_files(path: Any, validate: bool = True, include_path: bool = False,
                           set_column_types: Any = None, partition_format: str | None = None) -> TabularDataset:
        """A table in Parquet files (reading needs pyarrow: ``pip install "runyard[data]"``);
        ``set_column_types`` and ``partition_format`` as for ``from_delimited_files``.

        >>> Dataset.Tabular.from_parquet_files([(datastore, "features/*.parquet")])  # doctest: +SKIP
        """
        where = "Dataset.Tabular.from_parquet_files"
        format = tabular.parquet_format(include_path, set_column_types=set_column_types,
                                        partition_format=partition_format, where=where)
        return _tabular(_sources_of(path, where), format, validate)

    @staticmethod
    def register_pandas_dataframe(dataframe: Any, target: Any, name: str, description: str | None = None,
                                  tags: dict[str, str] | None = None, show_progress: bool = True) -> TabularDataset:
        """Write ``dataframe`` as Parquet to ``target`` (``(datastore, "path")`` or a datastore)
        and register it as a version of ``name``."""
        datastore, path = (target, "") if isinstance(target, Datastore) else target
        if not isinstance(datastore, Datastore):
            raise ConfigError("register_pandas_dataframe: target must be a datastore or (datastore, 'path')")
        if not hasattr(dataframe, "to_parquet"):
            raise ConfigError(f"register_pandas_dataframe: expected a pandas DataFrame, got {type(dataframe).__name__}")
        folder = f"{path.strip('/')}/{name}/{uuid.uuid4().hex}".lstrip("/")
        with tempfile.TemporaryDirectory(prefix="runyard-frame-") as tmp:
            try:
                dataframe.to_parquet(Path(tmp) / "data.parquet", index=False)
            except ImportError as e:
                from ..errors import missing_dependency
                raise missing_dependency("pyarrow", "data") from e
            datastore.upload_files([Path(tmp) / "data.parquet"], relative_root=tmp, target_path=folder,
                                   show_progress=show_progress)
        dataset = TabularDatasetFactory.from_parquet_files((datastore, folder))
        return dataset.register(datastore.workspace, name, description=description, tags=tags, create_new_version=True)


def _tabular(sources: list[dict[str, Any]], format: dict[str, Any], validate: bool) -> TabularDataset:
    dataset = TabularDataset._make(sources, format)
    if validate:
        dataset._check_format(src.resolve(sources, hashes=False), None)
    return dataset


Dataset.File = FileDatasetFactory
Dataset.Tabular = TabularDatasetFactory


def register_run_output(workspace: "Workspace", run_id: str, folder: str, registration: dict[str, Any]) -> Dataset:
    """Register the files a run kept under ``folder`` as a version of ``registration["name"]``
    whose producing run is ``run_id`` (``OutputFileDatasetConfig.register_on_complete``)."""
    sources = [src.run_source(run_id, folder)]
    format = registration.get("format")
    cls = TabularDataset if format else FileDataset
    dataset = cls._make(sources, format, workspace=workspace)
    return dataset._register(workspace, registration["name"], registration.get("description"),
                             registration.get("tags"), True, run_id=run_id)
