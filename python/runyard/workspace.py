"""``Workspace``: a folder (default ``./.runyard``) holding run history, files and snapshots."""

from __future__ import annotations

import os
import re
import tempfile
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .artifacts import ArtifactStore
from .errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from .compute import ComputeTarget
    from .data import Dataset, Datastore
    from .environment import Environment
    from .experiment import Experiment
    from .model import Model

DEFAULT_FOLDER = ".runyard"
CONFIG_FILE = "config.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class Workspace:
    """Where runs are recorded. Open one with ``create``, ``get`` or ``from_config``.

    >>> ws = Workspace.create("/tmp/demo/.runyard")  # doctest: +SKIP
    >>> ws.compute_targets["local"]  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike | None = None, resource_group: str | None = None,
                 workspace_name: str | None = None, *, subscription_id: str | None = None, token: str | None = None,
                 auth: Any = None, _check_lost_runs: bool = True, _open_store: bool = True):
        """``Workspace(path)`` opens a workspace folder or server; Azure's
        ``Workspace(subscription_id, resource_group, workspace_name)`` opens the workspace folder
        recorded for that Azure workspace (see ``runyard.azure_config``). ``auth``: an Azure
        sign-in object (``runyard.authentication``), accepted and not needed."""
        from .authentication import check_auth
        check_auth(auth, "Workspace()")
        #: the workspace server's address, or None for a workspace folder
        self.url: str | None = None
        if subscription_id is not None or resource_group is not None or workspace_name is not None:
            if subscription_id is not None and path is not None:
                raise ConfigError("Workspace(): give a folder path or Azure's subscription_id, resource_group and "
                                  "workspace_name, not both")
            path = _azure_workspace_folder(subscription_id if subscription_id is not None else path,
                                           resource_group, workspace_name)
        elif path is None:
            raise ConfigError("Workspace(): give a workspace folder (or server URL), or Azure's subscription_id, "
                              "resource_group and workspace_name; Workspace.from_config() finds the project's")
        if is_server_url(path):
            self._open_server(str(path), token)
            return
        self.path = Path(path).resolve()
        config_file = self.path / CONFIG_FILE
        if not config_file.is_file():
            raise NotFoundError(
                f"no runyard workspace at {self.path} (no {CONFIG_FILE}). Create one with "
                f"`runyard init` or Workspace.create({str(path)!r}).")
        try:
            self._config: dict[str, Any] = yaml.safe_load(config_file.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{config_file}: invalid YAML: {e}") from e
        if not isinstance(self._config, dict):
            raise ConfigError(f"{config_file}: expected a mapping of settings")
        self.name: str = str(self._config.get("name") or self.path.parent.name or "workspace")
        if _open_store:  # else the caller sets _store (a local job: store.spool.local_job_workspace)
            self._store = self._connect_store()
        self._artifacts = ArtifactStore(self._resolve(self._config.get("artifacts_path", "artifacts")))
        if _check_lost_runs:
            from .compute.local import fail_lost_runs
            fail_lost_runs(self)

    def _connect_store(self) -> Any:
        """The folder's run-history store (SQLite or PostgreSQL), opened."""
        from .store import open_store
        return open_store(self.store_url)

    def _open_server(self, url: str, token: str | None) -> None:
        """A workspace served by ``runyard server``: history and files over HTTP, no folder."""
        from .store.http import HttpArtifactStore, HttpStore
        self.url = url.rstrip("/")
        self.path = None
        self._config = {}
        self._store = HttpStore(self.url, token)
        self.name = str(self._store.workspace_info()["name"])  # says now if nothing answers
        self._artifacts = HttpArtifactStore(self._store)

    def _local_folder(self, what: str) -> Path:
        """The workspace folder; for a served workspace, this machine's folder for it (snapshots
        before upload, folders of running jobs, locks) under runyard's cache."""
        if self.path is None:
            import hashlib
            from .compute.local_env import cache_root
            folder = cache_root() / "servers" / hashlib.sha256(self.url.encode()).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        return self.path

    @property
    def address(self) -> str:
        """What a job's RUNYARD_TRACKING_URI holds: the server's URL or the folder's path."""
        return self.url or str(self.path)

    @property
    def token(self) -> str | None:
        """The token sent to the workspace server, if any."""
        return self._store._client.token if self.url else None

    def _resolve(self, value: str) -> Path:
        path = Path(os.path.expanduser(str(value)))
        return path if path.is_absolute() else self.path / path

    @property
    def store_url(self) -> str:
        url = self._config.get("store_url") or "sqlite:///runyard.db"
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url[len("sqlite:///"):]
            if relative and relative != ":memory:" and not Path(relative).is_absolute():
                return f"sqlite:///{self.path / relative}"
        return url

    @property
    def snapshots_dir(self) -> Path:
        return self._local_folder("snapshots") / "snapshots"

    @property
    def work_dir(self) -> Path:
        return self._local_folder("running jobs") / "work"

    # -- opening -------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike = DEFAULT_FOLDER, name: str | None = None,
               store_url: str | None = None, exist_ok: bool = True) -> "Workspace":
        """Create a workspace folder (or open it, if it exists and ``exist_ok``).

        >>> ws = Workspace.create(".runyard", name="demo")  # doctest: +SKIP
        """
        folder = Path(_check_path(path)).resolve()
        if store_url is not None and not isinstance(store_url, str):
            raise ConfigError(f"store_url must be a database URL (text), got {type(store_url).__name__}")
        if (folder / CONFIG_FILE).is_file():
            if not exist_ok:
                raise ConfigError(f"a workspace already exists at {folder} (exist_ok=False)")
            return cls(folder)
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"path {str(path)!r} exists and is not a folder")
        name = name or (folder.parent.name if folder.name == DEFAULT_FOLDER else folder.name) or "workspace"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"workspace name {name!r}: use 1-255 letters, digits, '.', '_' or '-'")
        config: dict[str, Any] = {"name": name, "artifacts_path": "artifacts"}
        if store_url:
            config["store_url"] = store_url
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".config-")
            with os.fdopen(fd, "w") as fh:
                yaml.safe_dump(config, fh, sort_keys=False)
            os.replace(tmp, folder / CONFIG_FILE)
            (folder / ".gitignore").write_text("*\n")
            return cls(folder)
        except BaseException:
            (folder / CONFIG_FILE).unlink(missing_ok=True)
            if created:
                import shutil
                shutil.rmtree(folder, ignore_errors=True)
            raise

    @classmethod
    def get(cls, path: str | os.PathLike = DEFAULT_FOLDER, token: str | None = None, *,
            subscription_id: str | None = None, resource_group: str | None = None, auth: Any = None) -> "Workspace":
        """Open an existing workspace: its folder, a project folder that holds ``.runyard``, or
        the address of a workspace server (``token``, else ``RUNYARD_TOKEN``, if it asks for one).

        Azure's ``Workspace.get(name, subscription_id=, resource_group=)`` (either id given)
        takes ``path`` as the Azure workspace's name and opens it as
        ``Workspace(subscription_id, resource_group, name)`` does. ``auth``: an Azure sign-in
        object, accepted and not needed.

        >>> ws = Workspace.get("http://127.0.0.1:8000")  # doctest: +SKIP
        >>> ws = Workspace.get("ml-workspace", subscription_id="1234", resource_group="ml-rg")  # doctest: +SKIP
        """
        from .authentication import check_auth
        check_auth(auth, "Workspace.get")
        if subscription_id is not None or resource_group is not None:
            if token is not None:
                raise ConfigError("Workspace.get: token is for a workspace server; Azure's subscription_id and "
                                  "resource_group open a workspace folder; give one or the other")
            return cls(subscription_id=subscription_id, resource_group=resource_group, workspace_name=path)
        if is_server_url(path):
            if token is not None and not isinstance(token, str):
                raise ConfigError(f"token must be text, got {type(token).__name__}")
            return cls(path, token=token)
        folder = Path(_check_path(path))
        if not (folder / CONFIG_FILE).is_file() and (folder / DEFAULT_FOLDER / CONFIG_FILE).is_file():
            folder = folder / DEFAULT_FOLDER
        return cls(folder)

    @classmethod
    def from_config(cls, path: str | os.PathLike | None = None, auth: Any = None) -> "Workspace":
        """The workspace of the current project: ``RUNYARD_WORKSPACE``, else the nearest
        ``.runyard/config.yaml`` in this folder or one above it (like Azure's config.json).
        ``auth``: an Azure sign-in object, accepted and not needed."""
        from .authentication import check_auth
        check_auth(auth, "Workspace.from_config")
        if path is None and os.environ.get("RUNYARD_WORKSPACE"):
            return cls.get(os.environ["RUNYARD_WORKSPACE"])
        start = Path(_check_path(path) if path is not None else os.getcwd()).resolve()
        if start.is_file() and start.suffix == ".json":
            from . import azure_config
            return cls(_open_for_azure(azure_config.project_folder(start), azure_config.read_config(start)))
        found = _discover(start.parent if start.is_file() else start)
        if found is None:
            raise NotFoundError(
                f"no .runyard/config.yaml (nor Azure's .azureml/config.json) in {start} or any folder above it. "
                f"Run `runyard init` in your project folder, or set RUNYARD_WORKSPACE.")
        return cls(found)

    # -- Azure's identity ----------------------------------------------------
    @property
    def subscription_id(self) -> str:
        """The Azure subscription this workspace was opened for (``offline`` if none)."""
        from .azure_config import OFFLINE_SUBSCRIPTION
        return str(self._config.get("azure", {}).get("subscription_id", OFFLINE_SUBSCRIPTION))

    @property
    def resource_group(self) -> str:
        """The Azure resource group this workspace was opened for (``offline`` if none)."""
        from .azure_config import OFFLINE_RESOURCE_GROUP
        return str(self._config.get("azure", {}).get("resource_group", OFFLINE_RESOURCE_GROUP))

    @property
    def location(self) -> str:
        """Where the workspace is: ``local`` (a folder or server of runyard's, not an Azure region)."""
        from .azure_config import OFFLINE_LOCATION
        return OFFLINE_LOCATION

    def get_mlflow_tracking_uri(self) -> str:
        """The URI that makes MLflow's client log to this workspace's runs (runyard's MLflow
        plugin, ``runyard.mlflow_tracking``; needs ``pip install mlflow-skinny`` or ``mlflow``).

        >>> mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())  # doctest: +SKIP
        """
        from .mlflow_tracking import tracking_uri
        return tracking_uri(self)

    # -- what is in it -------------------------------------------------------
    @property
    def experiments(self) -> dict[str, "Experiment"]:
        from .experiment import Experiment
        return {name: Experiment(self, name) for name in self._store.list_experiments()}

    @property
    def environments(self) -> dict[str, "Environment"]:
        from .environment import Environment
        return Environment.list(self)

    @property
    def compute_targets(self) -> dict[str, "ComputeTarget"]:
        from .compute import list_targets
        return list_targets(self)

    @property
    def models(self) -> dict[str, "Model"]:
        """Registered models by name, each at its latest version."""
        from .model import Model
        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def datastores(self) -> dict[str, "Datastore"]:
        """Registered datastores by name, with the default ``workspaceblobstore``."""
        from .data import Datastore
        return Datastore._all(self)

    def get_default_datastore(self) -> "Datastore":
        """The default datastore (see ``Datastore.get_default``)."""
        from .data import Datastore
        return Datastore.get_default(self)

    @property
    def datasets(self) -> dict[str, "Dataset"]:
        """Registered datasets by name, each at its latest version."""
        from .data import Dataset
        return Dataset.get_all(self)

    def get_compute_target(self, name: str) -> "ComputeTarget":
        from .compute import get_target
        return get_target(self, name)

    def get_run(self, run_id: str):
        """Re-attach to any run of this workspace by id."""
        from .run import Run
        return Run._from_id(self, run_id)

    def __repr__(self) -> str:
        if self.url:
            return f"Workspace(name={self.name!r}, url={self.url!r})"
        return f"Workspace(name={self.name!r}, path={str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and (other.path, other.url) == (self.path, self.url)

    def __hash__(self) -> int:
        return hash((self.path, self.url))

    @cached_property
    def _lock_dir(self) -> Path:
        path = self._local_folder("locks") / "locks"
        path.mkdir(exist_ok=True)
        return path


def _discover(start: Path) -> Path | None:
    """The workspace folder for ``start``: the nearest ``.runyard`` in it or a folder above, or
    beside the nearest Azure ``config.json`` (created and recorded on first use)."""
    from . import azure_config
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file() and folder.name == DEFAULT_FOLDER:
            return folder
        if (folder / DEFAULT_FOLDER / CONFIG_FILE).is_file():
            return folder / DEFAULT_FOLDER
        config = azure_config.find_config(folder)
        if config is not None:
            return _open_for_azure(folder, azure_config.read_config(config))
    return None


def _azure_workspace_folder(subscription_id: Any, resource_group: Any, workspace_name: Any) -> Path:
    """Azure's ``Workspace(subscription_id, resource_group, workspace_name)``: the workspace
    ``Workspace.from_config()`` finds from the current folder, else ``./.runyard`` (created)."""
    from . import azure_config
    wanted = azure_config.identity(subscription_id, resource_group, workspace_name)
    if os.environ.get("RUNYARD_WORKSPACE"):
        if is_server_url(os.environ["RUNYARD_WORKSPACE"]):
            raise ConfigError(f"Workspace(subscription_id, resource_group, workspace_name) opens a workspace folder, "
                              f"and RUNYARD_WORKSPACE names a server ({os.environ['RUNYARD_WORKSPACE']}); open it "
                              f"with Workspace.get(url), or unset RUNYARD_WORKSPACE")
        folder = Path(os.environ["RUNYARD_WORKSPACE"])
        folder = folder / DEFAULT_FOLDER if (folder / DEFAULT_FOLDER / CONFIG_FILE).is_file() else folder
    else:
        folder = _discover(Path.cwd()) or Path.cwd() / DEFAULT_FOLDER
    return _open_for_azure(folder.parent if folder.name == DEFAULT_FOLDER else folder, wanted, folder)


def _open_for_azure(project: Path, wanted: Any, folder: Path | None = None) -> Path:
    """The workspace folder (``project/.runyard`` unless ``folder``) recording Azure identity
    ``wanted``: created if absent, the identity added if it records none; another identity
    recorded there is an error naming both."""
    folder = folder or project / DEFAULT_FOLDER
    if not (folder / CONFIG_FILE).is_file():
        Workspace.create(folder, name=wanted.workspace_name)
    config = Workspace(folder, _check_lost_runs=False, _open_store=False)._config  # a bad config.yaml says so
    recorded = config.get("azure")
    if recorded == wanted.to_dict():
        return folder
    if recorded is not None:
        raise ConfigError(
            f"workspace {folder} records Azure workspace {recorded.get('workspace_name')!r} (subscription "
            f"{recorded.get('subscription_id')!r}, resource group {recorded.get('resource_group')!r}), not "
            f"{wanted.workspace_name!r} ({wanted.subscription_id!r}, {wanted.resource_group!r}); open that one by "
            f"its folder, or set RUNYARD_WORKSPACE to another folder for it")
    config["azure"] = wanted.to_dict()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".config-")
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(config, fh, sort_keys=False)
    os.replace(tmp, folder / CONFIG_FILE)
    return folder


def check_workspace(value: Any, field: str = "workspace") -> "Workspace":
    """``value`` if it is a workspace (inside a container job, also the spool folder its run
    logs to); else a ``ConfigError`` naming ``field``.

    >>> check_workspace("my-workspace")
    Traceback (most recent call last):
    ...
    runyard.errors.ConfigError: workspace must be a Workspace (Workspace.get(...) or Workspace.create(...)), got str
    """
    from .store.spool import SpoolWorkspace
    if not isinstance(value, (Workspace, SpoolWorkspace)):
        raise ConfigError(f"{field} must be a Workspace (Workspace.get(...) or Workspace.create(...)), "
                          f"got {type(value).__name__}")
    return value


def _check_path(path: Any, field: str = "path") -> str | os.PathLike:
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"{field} must be a folder path (or a workspace server's URL), got {type(path).__name__}")
    return path


def is_server_url(path: object) -> bool:
    return isinstance(path, str) and path.lower().startswith(("http://", "https://"))
