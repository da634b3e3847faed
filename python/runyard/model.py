"""``Model``: files registered in a workspace under a name, versioned, with the run and the
datasets that produced them (Azure ML SDK v1's ``azureml.core.Model``).

Where the files live: in the workspace's artifact store, the one that keeps run files in a
workspace folder and on a workspace server (``HttpArtifactStore``), under a *holder* id:

- ``Model.register(ws, "model.pkl", "name")`` copies the local files under the new version's
  own asset id (``artifacts/runs/model-<hex>/model.pkl``; a server keeps them the same way,
  and serves them through its run-files API, which takes an asset id as holder);
- ``run.register_model("name", "outputs/model.pkl")`` copies nothing: the version points at
  the run's files, as Azure's did (a run's files stay as they were when it ended).

Versions are keyed by content: registering the same files with the same arguments again
returns the version that holds them (so a retried registration makes no new version);
anything different -- a changed byte, tag or description -- makes the next version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple

from .artifacts import sha256_of
from .errors import ConfigError, NotFoundError, RunyardError, refuse_unknown_arguments
from .store.base import RunStore

if TYPE_CHECKING:
    from .run import Run
    from .workspace import Workspace

KIND = "model"
#: Where ``Model.get_model_path`` keeps downloaded models (Azure's folder name, so scoring
#: code and deployment folders that expect it keep working).
CACHE_FOLDER = "azureml-models"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
# A version is "uploading" until its files are all in the artifact store; a registration
# that failed half-way is completed by the next registration of the same content.
_ACTIVE, _UPLOADING, _FAILED, _DELETED = "active", "uploading", "failed", "deleted"
# What a registration says about the model besides its files (fields of the version's spec).
_METADATA_KEYS = ("tags", "properties", "description", "datasets", "framework", "framework_version",
                  "resource_configuration")


class DatasetReference(NamedTuple):
    """A registered dataset version a model was made from (``model.datasets``)."""

    name: str
    version: int


class Model:
    """A registered model version. ``Model(ws, "name")`` is the latest version,
    ``Model(ws, "name", version=2)`` or ``Model(ws, id="name:2")`` one version (``expand`` is
    Azure's switch for fetching every field, which a model here always has).

    >>> model = Model.register(ws, "outputs/model.pkl", "diabetes")  # doctest: +SKIP
    >>> Model(ws, "diabetes").download("deploy")  # doctest: +SKIP
    'deploy/model.pkl'
    """

    class Framework:
        """Values of ``model_framework`` (Azure's ``Model.Framework``)."""

        CUSTOM = "Custom"
        MULTI = "Multi"
        ONNX = "Onnx"
        PYTORCH = "PyTorch"
        SCIKITLEARN = "ScikitLearn"
        TENSORFLOW = "TensorFlow"

    def __init__(self, workspace: "Workspace", name: str | None = None, id: str | None = None,
                 tags: Any = None, properties: Any = None, version: int | str | None = None,
                 run_id: str | None = None, model_framework: str | None = None, expand: bool = True,
                 **kwargs: Any):
        refuse_unknown_arguments("Model()", kwargs)
        _check_workspace(workspace)
        if id is not None:
            id_name, id_version = _parse_id(id)
            if name is not None and name != id_name:
                raise ConfigError(f"Model(): name {name!r} and id {id!r} name different models")
            name, version = id_name, id_version if version is None else version
        if name is None:
            raise ConfigError("Model() needs name= (the latest version) or id='NAME:VERSION'")
        _check_name(name)
        version = _check_version(version)
        found = Model.list(workspace, name=name, tags=tags, properties=properties, run_id=run_id,
                           model_framework=model_framework)
        if version is not None:
            found = [m for m in found if m.version == version]
        if not found:
            raise NotFoundError(_not_found(workspace, name, version))
        self._init(workspace, found[-1]._row)

    @classmethod
    def _from_row(cls, workspace: "Workspace", row: dict[str, Any]) -> "Model":
        model = cls.__new__(cls)
        model._init(workspace, row)
        return model

    def _init(self, workspace: "Workspace", row: dict[str, Any]) -> None:
        spec = row["spec"]
        self.workspace = workspace
        self._row = row
        self.name: str = row["name"]
        self.version: int = row["version"]
        self.id = f"{self.name}:{self.version}"
        self.tags: dict[str, str | None] = dict(spec.get("tags") or {})
        self.properties: dict[str, str | None] = dict(spec.get("properties") or {})
        self.description: str | None = spec.get("description")
        self.run_id: str | None = row["run_id"]
        self.experiment_name: str | None = spec.get("experiment_name")
        self.created_time = datetime.fromtimestamp(row["created_at"], tz=timezone.utc)
        self.model_framework: str | None = spec.get("framework")
        self.model_framework_version: str | None = spec.get("framework_version")
        self.resource_configuration: dict[str, Any] | None = spec.get("resource_configuration")

    # -- what it is --------------------------------------------------------------
    @property
    def framework(self) -> str | None:
        """The model's framework (``model_framework``)."""
        return self.model_framework

    @property
    def datasets(self) -> dict[str, list[DatasetReference]]:
        """The datasets given at registration, by scenario (``"training data"``, ...)."""
        found: dict[str, list[DatasetReference]] = {}
        for entry in self._row["spec"].get("datasets") or []:
            found.setdefault(entry["scenario"], []).append(DatasetReference(entry["name"], entry["version"]))
        return found

    @property
    def sample_input_dataset(self) -> DatasetReference | None:
        return next(iter(self.datasets.get("sample_input", [])), None)

    @property
    def sample_output_dataset(self) -> DatasetReference | None:
        return next(iter(self.datasets.get("sample_output", [])), None)

    @property
    def run(self) -> "Run | None":
        """The run that produced the model, if it came from one."""
        return self.workspace.get_run(self.run_id) if self.run_id else None

    def get_file_names(self) -> list[str]:
        """The model's files as ``download`` lays them out: ``["model.pkl"]``, ``["model/a.bin", ...]``."""
        spec = self._row["spec"]
        return [_downloaded_name(spec, name) for name in spec["files"]]

    def serialize(self) -> dict[str, Any]:
        """The model as JSON-ready data (the CLI's ``--json``)."""
        return {"id": self.id, "name": self.name, "version": self.version, "tags": self.tags,
                "properties": self.properties, "description": self.description, "runId": self.run_id,
                "experimentName": self.experiment_name,
                "createdTime": self.created_time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "framework": self.model_framework, "frameworkVersion": self.model_framework_version,
                "datasets": [dict(e) for e in self._row["spec"].get("datasets") or []],
                "resourceConfiguration": self.resource_configuration, "files": self.get_file_names()}

    def __repr__(self) -> str:
        return (f"Model(workspace={self.workspace!r}, name={self.name!r}, id={self.id!r}, "
                f"version={self.version}, tags={self.tags}, properties={self.properties})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash(self.id)

    # -- registering -------------------------------------------------------------
    @staticmethod
    def register(workspace: "Workspace", model_path: str | os.PathLike, model_name: str,
                 tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
                 description: str | None = None, datasets: list[tuple[str, Any]] | None = None,
                 model_framework: str | None = None, model_framework_version: str | None = None,
                 child_paths: list[str] | None = None, sample_input_dataset: Any = None,
                 sample_output_dataset: Any = None,
                 resource_configuration: dict[str, Any] | None = None) -> "Model":
        """Copy a local file or folder into the workspace as the next version of ``model_name``.

        ``datasets`` are ``(scenario, dataset)`` pairs of registered datasets, e.g.
        ``[("training data", train_ds)]``; ``child_paths`` keeps only those files of a folder.

        >>> Model.register(ws, "outputs/model.pkl", "diabetes", tags={"area": "health"})  # doctest: +SKIP
        """
        _check_workspace(workspace)
        meta = _metadata(model_name, tags, properties, description, datasets, model_framework,
                         model_framework_version, sample_input_dataset, sample_output_dataset,
                         resource_configuration)
        base, folder, files = _local_files(model_path, child_paths)
        _check_sizes(workspace, files)
        digests = {name: sha256_of(path) for name, path in files}
        content_hash = _hash({"files": digests, "path": base, "folder": folder, **meta})
        holder = f"{KIND}-{uuid.uuid4().hex}"  # the version's asset id, and where its files are kept
        spec = {**meta, "path": base, "folder": folder, "holder": holder, "prefix": base,
                "files": sorted(digests), "sha256": digests}
        row = _register(workspace, model_name, spec, content_hash, asset_id=holder, state=_UPLOADING)
        if row["state"] != _ACTIVE:  # new, or an earlier registration of this content that broke off
            row = _upload(workspace, row, dict(files))
        return Model._from_row(workspace, row)

    @staticmethod
    def _register_from_run(run: "Run", model_name: str, model_path: str | None = None,
                           tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
                           model_framework: str | None = None, model_framework_version: str | None = None,
                           description: str | None = None, datasets: list[tuple[str, Any]] | None = None,
                           sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                           resource_configuration: dict[str, Any] | None = None, **kwargs: Any) -> "Model":
        from .run import _OfflineRun
        refuse_unknown_arguments("register_model()", kwargs)
        if isinstance(run, _OfflineRun):
            raise ConfigError("register_model() on an offline run: outside a runyard job there is no "
                              "workspace to register in; use Model.register(workspace, path, name)")
        meta = _metadata(model_name, tags, properties, description, datasets, model_framework,
                         model_framework_version, sample_input_dataset, sample_output_dataset,
                         resource_configuration)
        workspace = run.workspace
        if not isinstance(workspace._store, RunStore):
            raise RunyardError("register_model() inside a container job: the job cannot reach the workspace's "
                               "registry; register from the driver once the run ended "
                               "(run.wait_for_completion(); run.register_model(...))")
        prefix = _run_path(model_path if model_path is not None else model_name)
        files = _run_files(run, prefix)
        digests = {name: workspace._artifacts.digest(run.id, name) for name in files}
        spec = {**meta, "path": PurePosixPath(prefix).name, "folder": files != [prefix], "holder": run.id,
                "prefix": prefix, "files": files, "sha256": digests, "experiment_name": run.experiment.name}
        content_hash = _hash({"run": run.id, "prefix": prefix, "files": digests, **meta})
        store = workspace._store
        row = _register(workspace, model_name, spec, content_hash, run_id=run.id, state=_ACTIVE)
        if row["state"] != _ACTIVE:  # the same content registered before, then deleted
            row = store.update_asset(row["id"], state=_ACTIVE)
        store.record_lineage(run.id, "output", KIND, model_name, row["version"])
        return Model._from_row(workspace, row)

    # -- finding -----------------------------------------------------------------
    @staticmethod
    def list(workspace: "Workspace", name: str | None = None, tags: Any = None, properties: Any = None,
             run_id: str | None = None, latest: bool = False, dataset_id: str | None = None,
             expand: bool = True, page_count: int = 255, model_framework: str | None = None,
             **kwargs: Any) -> list["Model"]:
        """Registered models by name, then version; ``latest`` keeps each name's newest;
        ``dataset_id`` keeps those registered with that dataset version (``datasets=``).

        ``tags`` and ``properties`` filter as in Azure: a list of keys that must be set, or of
        ``[key, value]`` pairs (a dict works too). ``expand`` and ``page_count`` are Azure's
        paging of its service's answer: here every model comes whole, in one list.

        >>> [m.id for m in Model.list(ws, tags=[["area", "health"]], latest=True)]  # doctest: +SKIP
        """
        refuse_unknown_arguments("Model.list()", kwargs)
        _check_workspace(workspace)
        if name is not None:
            _check_name(name)
        wanted_tags, wanted_props = _filters(tags, "tags"), _filters(properties, "properties")
        dataset = None
        if dataset_id is not None:
            from .data import Dataset
            found = Dataset.get_by_id(workspace, dataset_id)
            dataset = (found.name, found.version)
        models = []
        for row in workspace._store.list_assets(KIND, name, state=_ACTIVE):
            spec = row["spec"]
            if run_id is not None and row["run_id"] != run_id:
                continue
            if model_framework is not None and spec.get("framework") != model_framework:
                continue
            if dataset is not None and not any((e["name"], e["version"]) == dataset
                                               for e in spec.get("datasets") or []):
                continue
            if _matches(spec.get("tags") or {}, wanted_tags) and _matches(spec.get("properties") or {}, wanted_props):
                models.append(Model._from_row(workspace, row))
        if latest:
            models = list({m.name: m for m in models}.values())
        return models

    @staticmethod
    def get_by_partition(workspace: "Workspace", model_name: str, partition: dict[str, Any],
                         version: int | str | None = None) -> "Model":
        """The model registered for one partition of a ParallelRunStep's data (the latest
        version, or ``version``): what ``EntryScript().register_model(model_name, path,
        partition=...)`` registered under ``partition_model_name(model_name, partition)``.

        >>> model = Model.get_by_partition(ws, "sales", {"store": "S1"})  # doctest: +SKIP
        >>> regressor = joblib.load(model.download("models/S1", exist_ok=True))  # doctest: +SKIP
        """
        _check_workspace(workspace)
        name = partition_model_name(model_name, partition)
        version = _check_version(version)
        rows = [row for row in workspace._store.list_assets(KIND, name, state=_ACTIVE)
                if version is None or row["version"] == version]
        if not rows:
            what = f"no version {version} of the model" if version is not None else "no model"
            raise NotFoundError(f"{what} registered for partition {_partition_values(partition)} of {model_name!r} "
                                f"(its name would be {name!r}) in workspace {workspace.name!r}; "
                                f"Model.list(ws, tags=[[key, value]]) lists models by their tags")
        model = Model._from_row(workspace, rows[-1])
        if model.properties.get(PARTITION_PROPERTY) != _partition_text(partition):
            raise RunyardError(f"model {model.id} is not the model of partition {_partition_values(partition)} of "
                               f"{model_name!r} (its properties say {model.properties.get(PARTITION_PROPERTY)!r}); "
                               f"it was registered under that name by other means")
        return model

    @staticmethod
    def get_model_path(model_name: str, version: int | str | None = None,
                       _workspace: "Workspace | None" = None) -> str:
        """A local path of the model's file or folder: from ``./azureml-models/NAME/VERSION``,
        downloaded there first when ``_workspace`` is given (always, for the latest version,
        since a newer one may have been registered).

        >>> Model.get_model_path("diabetes", _workspace=ws)  # doctest: +SKIP
        'azureml-models/diabetes/3/model.pkl'
        """
        _check_name(model_name)
        version = _check_version(version)
        cache = Path(CACHE_FOLDER) / model_name
        if version is not None and (cached := _cached(cache / str(version))):
            return cached
        if _workspace is not None:
            _check_workspace(_workspace, "_workspace")
            model = Model(_workspace, model_name, version=version)
            return model.download(cache / str(model.version), exist_ok=True)
        if version is None:
            versions = sorted(int(p.name) for p in cache.glob("*") if p.name.isdigit()) if cache.is_dir() else []
            if versions and (cached := _cached(cache / str(versions[-1]))):
                return cached
            if Path(model_name).exists():
                return model_name
        what = f"model {model_name!r}" + (f" version {version}" if version is not None else "")
        raise NotFoundError(f"{what} is not in {cache}/ (nor ./{model_name}); pass _workspace= to download it")

    # -- files ---------------------------------------------------------------------
    def download(self, target_dir: str | os.PathLike = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Write the model's file or folder into ``target_dir``; its path.

        The model keeps its name: ``target_dir/model.pkl`` or ``target_dir/model/``. If that
        exists, ``exist_ok=True`` replaces it; otherwise it is an error and nothing is written.

        >>> Model(ws, "diabetes").download("deploy", exist_ok=True)  # doctest: +SKIP
        'deploy/model.pkl'
        """
        exist_ok = bool(exist_ok or exists_ok)
        spec = self._row["spec"]
        target_dir = Path(target_dir)
        if target_dir.exists() and not target_dir.is_dir():
            raise ConfigError(f"target_dir {str(target_dir)!r} is a file, not a folder")
        destination = target_dir / spec["path"]
        if destination.exists() and not exist_ok and not (destination.is_dir() and not any(destination.iterdir())):
            raise ConfigError(f"{destination} already exists; pass exist_ok=True to replace it with "
                              f"model {self.id}")
        target_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target_dir, prefix=".model-download-"))
        try:
            for name in spec["files"]:
                local = self.workspace._artifacts.download(spec["holder"], name,
                                                           staging / _downloaded_name(spec, name))
                self._check_digest(name, local)
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            elif destination.exists() or destination.is_symlink():
                destination.unlink()
            os.replace(staging / spec["path"], destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return str(destination)

    def _check_digest(self, name: str, local: Path) -> None:
        expected = (self._row["spec"].get("sha256") or {}).get(name)
        if expected is not None and (found := sha256_of(local)) != expected:
            raise ConfigError(f"model {self.id}: file {name!r} changed since the version was registered "
                              f"(its bytes hash to {found}, not {expected}); nothing was written. A "
                              f"version's files must not change: register the model again")

    # -- changing it ---------------------------------------------------------------
    def add_tags(self, tags: dict[str, Any]) -> None:
        """Set tags (mutable key/values) on this version."""
        tags = _string_dict(tags, "tags")
        self._change(lambda spec: spec.setdefault("tags", {}).update(tags))

    def remove_tags(self, tags: list[str]) -> None:
        """Remove these tag keys (absent keys are ignored)."""
        keys = [tags] if isinstance(tags, str) else list(tags)

        def remove(spec: dict[str, Any]) -> None:
            for key in keys:
                spec.setdefault("tags", {}).pop(key, None)
        self._change(remove)

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add write-once key/values: setting a key again to another value is an error."""
        properties = _string_dict(properties, "properties")

        def add(spec: dict[str, Any]) -> None:
            current = spec.setdefault("properties", {})
            for key, value in properties.items():
                if key in current and current[key] != value:
                    raise ConfigError(f"property {key!r} of model {self.id} is already {current[key]!r}; "
                                      f"properties cannot change (use tags for mutable values)")
            current.update(properties)
        self._change(add)

    def update(self, tags: dict[str, Any] | None = None, description: str | None = None,
               sample_input_dataset: Any = None, sample_output_dataset: Any = None,
               resource_configuration: dict[str, Any] | None = None) -> None:
        """Replace the tags, description, sample datasets or resource configuration given."""
        changes: dict[str, Any] = {}
        if tags is not None:
            changes["tags"] = _string_dict(tags, "tags")
        if description is not None:
            changes["description"] = _optional_string(description, "description")
        if resource_configuration is not None:
            changes["resource_configuration"] = _resource_configuration(resource_configuration)
        samples = {scenario: _dataset_entry(scenario, ds, scenario + "_dataset")
                   for scenario, ds in (("sample_input", sample_input_dataset),
                                        ("sample_output", sample_output_dataset)) if ds is not None}

        def apply(spec: dict[str, Any]) -> None:
            spec.update(changes)
            if samples:
                kept = [e for e in spec.get("datasets") or [] if e["scenario"] not in samples]
                spec["datasets"] = kept + list(samples.values())
        self._change(apply)

    def delete(self) -> None:
        """Remove this version from the workspace's models (a registration of the same
        content later brings it back)."""
        self.workspace._store.update_asset(self._row["id"], state=_DELETED)

    def _change(self, edit: Any) -> None:
        store = self.workspace._store
        row = store.get_asset_by_id(self._row["id"])
        if row is None or row["state"] != _ACTIVE:
            raise NotFoundError(f"model {self.id} is no longer registered in workspace {self.workspace.name!r}")
        spec = row["spec"]
        edit(spec)
        self._init(self.workspace, store.update_asset(row["id"], spec=spec))


# -- a model per partition ------------------------------------------------------------
#: properties of a model registered for a partition: the model name it was registered as,
#: and the partition's key values (JSON, keys sorted)
PARTITION_OF_PROPERTY = "runyard.partition_of"
PARTITION_PROPERTY = "runyard.partition"
_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")


def partition_model_name(model_name: str, partition: dict[str, Any]) -> str:
    """The name a partition's model is registered under: ``model_name``, the partition's values
    made name-safe (for people reading a list) and a hash of both (what tells partitions
    apart, whatever their values hold).

    >>> partition_model_name("sales", {"store": "S1"})
    'sales-S1-f25554f42138b366'
    """
    _check_name(model_name)
    text = _partition_text(partition)
    digest = hashlib.sha256(json.dumps([model_name, text]).encode()).hexdigest()[:16]
    values = _partition_values(partition)
    readable = _UNSAFE.sub("_", "-".join(values[key] for key in sorted(values))).strip("_.")
    room = 255 - len(model_name) - len(digest) - 2
    if room < 0:
        raise ConfigError(f"model name {model_name!r}: a model per partition needs a name of at most "
                          f"{255 - len(digest) - 2} characters (the partition's hash is added to it)")
    readable = readable[:max(room - 1, 0)].rstrip("_.")
    return f"{model_name}-{readable}-{digest}" if readable else f"{model_name}-{digest}"


def _partition_values(partition: Any) -> dict[str, str]:
    """A partition's key values as text (``{"store": 1}`` is ``{"store": "1"}``, as
    ``mini_batch_context.partition_key_value`` has it)."""
    if not isinstance(partition, dict) or not partition:
        raise ConfigError(f"partition must be a dict of the partition's key values, e.g. {{'store': 'S1'}} "
                          f"(mini_batch_context.partition_key_value), got {partition!r}")
    values = {}
    for key, value in partition.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"partition: key {key!r} must be a non-empty string")
        if value is None or isinstance(value, (dict, list, tuple, set)):
            raise ConfigError(f"partition: the value of {key!r} must be a single value, got {value!r}")
        values[key] = str(value)
    return values


def _partition_text(partition: Any) -> str:
    return json.dumps(_partition_values(partition), sort_keys=True)


def partition_metadata(meta: dict[str, Any], model_name: str, partition: Any) -> dict[str, Any]:
    """``meta`` (``_metadata``'s) of a partition's model: the partition's key values as tags
    (a tag given with another value is an error) and the properties that say whose it is."""
    values = _partition_values(partition)
    clashes = {k: v for k, v in meta["tags"].items() if k in values and v != values[k]}
    if clashes:
        raise ConfigError(f"tags {clashes} contradict the partition {values}; leave the partition's keys out of "
                          f"tags (they are set from the partition)")
    for key in (PARTITION_OF_PROPERTY, PARTITION_PROPERTY):
        if key in meta["properties"]:
            raise ConfigError(f"properties: {key!r} is set by runyard for a partition's model; use another key")
    return {**meta, "tags": {**values, **meta["tags"]},
            "properties": {**meta["properties"], PARTITION_OF_PROPERTY: model_name,
                           PARTITION_PROPERTY: _partition_text(values)}}


# -- checking arguments ----------------------------------------------------------------
def _check_workspace(workspace: Any, what: str = "workspace") -> None:
    from .workspace import Workspace
    if not isinstance(workspace, Workspace):
        raise ConfigError(f"{what} must be a Workspace (Workspace.get(...)), got {type(workspace).__name__}")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"model name {name!r}: use 1-255 letters, digits, '.', '_' or '-', starting "
                          f"with a letter or digit")
    return name


def _check_version(version: Any) -> int | None:
    if version is None:
        return None
    try:
        number = int(version)
    except (TypeError, ValueError):
        number = 0
    if isinstance(version, bool) or number < 1 or str(number) != str(version).strip():
        raise ConfigError(f"model version {version!r} must be a whole number from 1")
    return number


def _parse_id(model_id: Any) -> tuple[str, int]:
    name, sep, version = str(model_id).rpartition(":")
    if not isinstance(model_id, str) or not sep or not name:
        raise ConfigError(f"model id {model_id!r} must be NAME:VERSION, e.g. 'diabetes:2'")
    return _check_name(name), _check_version(version)


def _not_found(workspace: "Workspace", name: str, version: int | None) -> str:
    versions = [m.version for m in Model.list(workspace, name=name)]
    if versions:
        what = f"version {version}" if version is not None else "a version matching those filters"
        return f"model {name!r} has no {what}; registered versions: {', '.join(map(str, versions))}"
    names = sorted({m.name for m in Model.list(workspace, latest=True)})
    return (f"no model {name!r} is registered in workspace {workspace.name!r}; registered: "
            f"{', '.join(names) or 'none'}")


def _optional_string(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {type(value).__name__}")
    return value


def _string_dict(value: Any, what: str) -> dict[str, str | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a dict of names to values, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{what}: key {key!r} must be a non-empty string")
    return {k: None if v is None else str(v) for k, v in value.items()}


def _resource_configuration(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"cpu", "memory_in_gb", "gpu"}:
        raise ConfigError("resource_configuration must be a dict with cpu, memory_in_gb and/or gpu, "
                          f"got {value!r}")
    return dict(value)


def _dataset_entry(scenario: str, dataset: Any, what: str) -> dict[str, Any]:
    """``dataset`` as {"scenario", "name", "version"}: anything registered (a ``.name`` and a
    ``.version``, or a dict with those keys)."""
    get = dataset.get if isinstance(dataset, dict) else lambda key: getattr(dataset, key, None)
    name, version = get("name"), get("version")
    try:
        version = int(version)
    except (TypeError, ValueError):
        version = None
    if not isinstance(name, str) or not name or version is None:
        raise ConfigError(f"{what}: {dataset!r} is not a registered dataset (it needs a name and a "
                          f"version); register it first, e.g. dataset.register(workspace, name)")
    return {"scenario": scenario, "name": name, "version": version}


def _metadata(model_name: Any, tags: Any, properties: Any, description: Any, datasets: Any,
              model_framework: Any, model_framework_version: Any, sample_input_dataset: Any,
              sample_output_dataset: Any, resource_configuration: Any) -> dict[str, Any]:
    """Check everything a registration says about the model; its spec fields."""
    _check_name(model_name)
    if datasets is None:
        datasets = []
    if not isinstance(datasets, (list, tuple)):
        raise ConfigError(f"datasets must be a list of (scenario, dataset) pairs, got {type(datasets).__name__}")
    entries = []
    for i, item in enumerate(datasets):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise ConfigError(f"datasets[{i}]: expected a (scenario, dataset) pair such as "
                              f"('training data', dataset), got {item!r}")
        entries.append(_dataset_entry(item[0], item[1], f"datasets[{i}]"))
    for scenario, dataset in (("sample_input", sample_input_dataset), ("sample_output", sample_output_dataset)):
        if dataset is not None:
            entries.append(_dataset_entry(scenario, dataset, f"{scenario}_dataset"))
    return {"tags": _string_dict(tags, "tags"), "properties": _string_dict(properties, "properties"),
            "description": _optional_string(description, "description"), "datasets": entries,
            "framework": _optional_string(model_framework, "model_framework"),
            "framework_version": _optional_string(model_framework_version, "model_framework_version"),
            "resource_configuration": _resource_configuration(resource_configuration)}


def _filters(value: Any, what: str) -> list[tuple[str, str | None]]:
    """Azure's filter forms: ["key", ["key", "value"]], or a dict."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [(str(k), None if v is None else str(v)) for k, v in value.items()]
    if isinstance(value, str):
        return [(value, None)]
    pairs = []
    for item in value:
        if isinstance(item, str):
            pairs.append((item, None))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((str(item[0]), None if item[1] is None else str(item[1])))
        else:
            raise ConfigError(f"{what} filter {item!r}: use a key or a [key, value] pair")
    return pairs


def _matches(values: dict[str, Any], wanted: list[tuple[str, str | None]]) -> bool:
    return all(key in values and (value is None or values[key] == value) for key, value in wanted)


# -- files -------------------------------------------------------------------------------
def _local_files(model_path: Any, child_paths: Any) -> tuple[str, bool, list[tuple[str, Path]]]:
    """(the model's name, whether it is a folder, [(name in the holder, local file)])."""
    if model_path is None or (isinstance(model_path, str) and not model_path):
        raise ConfigError("model_path is required: a local file or folder")
    path = Path(model_path)
    if not path.exists():
        raise ConfigError(f"model_path {str(model_path)!r} does not exist (looked in {Path.cwd()})")
    base = path.resolve().name
    if path.is_file():
        if child_paths:
            raise ConfigError("child_paths only applies when model_path is a folder")
        return base, False, [(base, path)]
    from .artifacts import folder_files, report_left_out
    contents = folder_files(path, base)
    report_left_out(contents.left_out)
    files = [(found.name, found.path) for found in contents.files]
    if child_paths is not None:
        wanted = {(PurePosixPath(base) / PurePosixPath(str(c).replace("\\", "/"))).as_posix() for c in child_paths}
        missing = sorted(wanted - {name for name, _ in files})
        if missing:
            raise ConfigError(f"child_paths not in {str(model_path)!r}: {', '.join(missing)}")
        files = [(name, p) for name, p in files if name in wanted]
    if not files:
        raise ConfigError(f"model_path {str(model_path)!r} is an empty folder")
    return base, True, files


def _check_sizes(workspace: "Workspace", files: list[tuple[str, Path]]) -> None:
    if workspace.url is None:
        return
    from .store.http import MAX_FILE_BYTES
    for name, path in files:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: a workspace server takes files of at most {MAX_FILE_BYTES} bytes")


def _upload(workspace: "Workspace", row: dict[str, Any], files: dict[str, Path]) -> dict[str, Any]:
    """Copy the files of a new version under its holder id, then make the version visible."""
    store, holder = workspace._store, row["spec"]["holder"]
    try:
        for name in row["spec"]["files"]:
            workspace._artifacts.put_file(holder, name, files[name],
                                          sha256=(row["spec"].get("sha256") or {}).get(name))
    except BaseException:
        if workspace.url is None:
            shutil.rmtree(workspace._artifacts.run_dir(holder), ignore_errors=True)
        with contextlib.suppress(Exception):  # the upload's error is the one to report
            store.update_asset(row["id"], state=_FAILED)
        raise
    return store.update_asset(row["id"], state=_ACTIVE)


def _register(workspace: "Workspace", name: str, spec: dict[str, Any], content_hash: str,
              **options: Any) -> dict[str, Any]:
    """The version of ``name`` with this content and these registration arguments: the one
    registered before, unless its tags or description were changed since; else a new one."""
    while True:
        row = workspace._store.register_asset(KIND, name, spec, content_hash=content_hash, **options)
        if all(row["spec"].get(key) == spec[key] for key in _METADATA_KEYS):
            return row
        content_hash = _hash({"edited since registration": row["id"]})


def _register_many(workspace: "Workspace", items: list[dict[str, Any]]) -> list[str]:
    """Register versions prepared elsewhere (a ParallelRunStep's workers: files in place,
    ``{"name", "spec", "content_hash", "run_id"}``) in bulk; their ids, ``name:version``. A
    version found by its content that was deleted or edited since is handled one by one, as
    ``run.register_model`` handles it."""
    store = workspace._store
    found = []
    for item, row in zip(items, store.register_assets(KIND, items)):
        if row["state"] != _ACTIVE or any(row["spec"].get(key) != item["spec"][key] for key in _METADATA_KEYS):
            row = _register(workspace, item["name"], item["spec"], item["content_hash"], run_id=item["run_id"],
                            state=_ACTIVE)
            if row["state"] != _ACTIVE:
                row = store.update_asset(row["id"], state=_ACTIVE)
            store.record_lineage(item["run_id"], "output", KIND, row["name"], row["version"])
        found.append(f"{row['name']}:{row['version']}")
    return found


def _run_path(model_path: Any) -> str:
    if not isinstance(model_path, str) or not model_path.strip():
        raise ConfigError(f"model_path must be a path in the run's files, e.g. 'outputs/model.pkl', "
                          f"got {model_path!r}")
    clean = PurePosixPath(model_path.replace("\\", "/").strip())
    if clean.is_absolute() or ".." in clean.parts or not clean.parts or clean.as_posix() == ".":
        raise ConfigError(f"model_path {model_path!r} must be a relative path in the run's files, "
                          f"e.g. 'outputs/model.pkl'")
    return clean.as_posix()


def _run_files(run: "Run", prefix: str) -> list[str]:
    """The run's files that make up the model at ``prefix`` (a file, or a folder's files).
    Inside a job, a model the script wrote but the run has not uploaded yet (``outputs/``
    goes up when the script ends) is uploaded now."""
    names = run.get_file_names()
    found = [n for n in names if n == prefix or n.startswith(prefix + "/")]
    local = Path(prefix)
    if not found and getattr(run, "_in_job", False) and local.exists():
        if local.is_dir():
            run.upload_folder(prefix, local)
        else:
            run.upload_file(prefix, local)
        names = run.get_file_names()
        found = [n for n in names if n == prefix or n.startswith(prefix + "/")]
    if not found:
        shown = ", ".join(names[:30]) + (f", ... ({len(names)} files)" if len(names) > 30 else "")
        raise ConfigError(f"model_path {prefix!r} is not a file or folder of run {run.id}; its files: "
                          f"{shown or 'none'}")
    return sorted(found)


def _downloaded_name(spec: dict[str, Any], name: str) -> str:
    """A holder's file name as it is laid out by ``download``: the model's name, then its path
    inside the model folder."""
    return spec["path"] + name[len(spec["prefix"]):]


def _cached(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
    if not entries:
        return None
    return str(entries[0]) if len(entries) == 1 else str(folder)


def _hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
