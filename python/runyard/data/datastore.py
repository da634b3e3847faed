"""``Datastore``: a named place for data, registered in the workspace.

A datastore is a local folder (``Datastore.register_local``) or any URL fsspec can open
(``Datastore.register_fsspec``: ``s3://``, ``gs://``, ``abfs://``, ``memory://``...; the
protocol's package must be installed). Datasets name files on it as
``(datastore, "path/or/glob")``. Every workspace folder has a default local datastore,
``workspaceblobstore`` (Azure ML's name), in ``<workspace>/datastores/``.

>>> ds = Datastore.register_local(ws, "raw", "/data/raw")  # doctest: +SKIP
>>> ds.upload("prepared", target_path="v1")  # doctest: +SKIP
>>> Dataset.File.from_files(path=[(ds, "v1/**/*.csv")])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..artifacts import copy_atomically
from ..errors import ConfigError, NotFoundError
from . import sources as src

if TYPE_CHECKING:
    from ..workspace import Workspace

KIND = "datastore"
DEFAULT_NAME = "workspaceblobstore"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class Datastore:
    """A registered folder or fsspec URL. ``Datastore(ws, name)`` is ``Datastore.get(ws, name)``;
    without a name, the workspace's default datastore.

    >>> raw = Datastore(ws, "raw")  # doctest: +SKIP
    """

    def __init__(self, workspace: "Workspace", name: str | None = None):
        found = Datastore.get(workspace, name) if name is not None else Datastore.get_default(workspace)
        self._init(workspace, found.name, found._spec)

    def _init(self, workspace: "Workspace", name: str, spec: dict[str, Any]) -> None:
        self.workspace = workspace
        self.name = name
        self._spec = spec

    @classmethod
    def _make(cls, workspace: "Workspace", name: str, spec: dict[str, Any]) -> "Datastore":
        datastore = cls.__new__(cls)
        datastore._init(workspace, name, spec)
        return datastore

    # -- what it is ------------------------------------------------------------------------
    @property
    def datastore_type(self) -> str:
        """``"LocalFolder"`` or ``"Fsspec"``."""
        return "LocalFolder" if self._spec["type"] == "local" else "Fsspec"

    @property
    def path(self) -> str | None:
        """The folder of a local datastore (None for an fsspec one)."""
        return self._spec.get("path")

    @property
    def url(self) -> str:
        """The datastore's root as a URL (``file://`` for a local folder)."""
        return self._spec["url"] if self._spec["type"] == "fsspec" else Path(self._spec["path"]).as_uri()

    def __repr__(self) -> str:
        where = self.path if self._spec["type"] == "local" else self._spec["url"]
        return f"Datastore(name={self.name!r}, type={self.datastore_type!r}, root={where!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Datastore) and (other.workspace, other.name, other._spec) == (
            self.workspace, self.name, self._spec)

    def __hash__(self) -> int:
        return hash((self.name, self.url))

    # -- registering -------------------------------------------------------------------------
    @staticmethod
    def register_local(workspace: "Workspace", datastore_name: str, path: str | os.PathLike,
                       overwrite: bool = False) -> "Datastore":
        """Register an existing local folder as a datastore (of a served workspace: a folder every
        machine that runs its jobs sees at the same path).

        >>> raw = Datastore.register_local(ws, "raw", "/data/raw")  # doctest: +SKIP
        """
        folder = Path(os.path.expanduser(os.fspath(path))).resolve()
        if not folder.is_dir():
            raise ConfigError(f"Datastore.register_local: path {os.fspath(path)!r} is not an existing folder; "
                              f"create it first")
        return _register(workspace, datastore_name, {"type": "local", "path": str(folder)}, overwrite)

    @staticmethod
    def register_fsspec(workspace: "Workspace", datastore_name: str, url: str, overwrite: bool = False,
                        **storage_options: Any) -> "Datastore":
        """Register any URL fsspec opens; ``storage_options`` go to the filesystem (they are
        stored in the workspace: prefer credentials from the environment where the protocol
        reads them).

        >>> lake = Datastore.register_fsspec(ws, "lake", "s3://bucket/runyard", anon=False)  # doctest: +SKIP
        """
        if not isinstance(url, str) or not src.is_url(url):
            raise ConfigError(f"Datastore.register_fsspec: url must look like 'protocol://path', got {url!r} "
                              f"(for a folder on this machine use Datastore.register_local)")
        src.filesystem(url, storage_options)  # the protocol's package is installed, the options accepted
        return _register(workspace, datastore_name,
                         {"type": "fsspec", "url": url.rstrip("/"), "storage_options": storage_options}, overwrite)

    # -- finding -----------------------------------------------------------------------------
    @staticmethod
    def get(workspace: "Workspace", datastore_name: str) -> "Datastore":
        """The datastore registered as ``datastore_name`` (``workspaceblobstore``: the default)."""
        row = workspace._store.get_asset(KIND, datastore_name)
        if row is not None:
            return Datastore._make(workspace, row["name"], row["spec"])
        if datastore_name == DEFAULT_NAME:
            return _workspace_default(workspace)
        known = ", ".join(sorted(Datastore._all(workspace, default=workspace.path is not None))) or "none"
        raise NotFoundError(f"datastore {datastore_name!r} is not registered in workspace {workspace.name!r} "
                            f"(registered: {known}); register it with Datastore.register_local or "
                            f"Datastore.register_fsspec")

    @staticmethod
    def get_default(workspace: "Workspace") -> "Datastore":
        """The workspace's default datastore, ``workspaceblobstore``: the one registered under
        that name, else the folder ``datastores/workspaceblobstore`` of a workspace folder."""
        return Datastore.get(workspace, DEFAULT_NAME)

    @staticmethod
    def _all(workspace: "Workspace", default: bool = True) -> dict[str, "Datastore"]:
        found = {row["name"]: Datastore._make(workspace, row["name"], row["spec"])
                 for row in workspace._store.list_assets(KIND, latest_only=True)}
        if default and DEFAULT_NAME not in found and workspace.path is not None:
            found[DEFAULT_NAME] = _workspace_default(workspace)
        return dict(sorted(found.items()))

    # -- files -------------------------------------------------------------------------------
    def _source(self, path_on_datastore: str = "") -> dict[str, Any]:
        """A dataset source: ``path_on_datastore`` (a file, folder or glob) on this datastore."""
        relative = _relative(path_on_datastore, "path on the datastore")
        if self._spec["type"] == "local":
            return src.local_source(Path(self._spec["path"]) / relative if relative else self._spec["path"],
                                    datastore=self.name, shown=path_on_datastore or "/")
        return src.fsspec_source(src.join(self._spec["url"], relative), self._spec.get("storage_options"),
                                 datastore=self.name, shown=path_on_datastore or "/")

    def _write(self, local: Path, relative: str, overwrite: bool) -> bool:
        """Copy one file to ``relative``; False when it exists and ``overwrite`` is off."""
        if self._spec["type"] == "local":
            target = Path(self._spec["path"]) / relative
            if target.exists() and not overwrite:
                return False
            copy_atomically(local, target)
            return True
        fs, root = src.filesystem(self._spec["url"], self._spec.get("storage_options"))
        target = src.join(root, relative)
        if not overwrite and fs.exists(target):
            return False
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(local), target)
        return True

    def upload(self, src_dir: str | os.PathLike, target_path: str | None = None, overwrite: bool = False,
               show_progress: bool = True) -> tuple["Datastore", str]:
        """Copy the files of folder ``src_dir`` to ``target_path`` on the datastore (files that
        exist there are kept unless ``overwrite``). Returns ``(datastore, target_path)``, a path
        ``Dataset.File.from_files`` takes.

        >>> Dataset.File.from_files(ws.get_default_datastore().upload("data", "raw/v1"))  # doctest: +SKIP
        """
        folder = Path(os.fspath(src_dir))
        if not folder.is_dir():
            raise ConfigError(f"upload: src_dir {os.fspath(src_dir)!r} is not a folder")
        files = [Path(d) / f for d, _, names in os.walk(folder) for f in names]
        self.upload_files(files, relative_root=folder, target_path=target_path, overwrite=overwrite,
                          show_progress=show_progress)
        return self, _relative(target_path or "", "target_path")

    def upload_files(self, files: list[str | os.PathLike], relative_root: str | os.PathLike | None = None,
                     target_path: str | None = None, overwrite: bool = False,
                     show_progress: bool = True) -> tuple["Datastore", str]:
        """Copy ``files`` to ``target_path``, each at its path relative to ``relative_root``
        (default: the folder that holds them all); ``show_progress`` prints how many were copied
        (and kept, without ``overwrite``)."""
        paths = [Path(os.fspath(f)).resolve() for f in files]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ConfigError(f"upload_files: not a file: {', '.join(missing[:5])}")
        target = _relative(target_path or "", "target_path")
        root = Path(os.fspath(relative_root)).resolve() if relative_root is not None else \
            Path(os.path.commonpath([str(p.parent) for p in paths])) if paths else Path(".")
        copied = 0
        for path in paths:
            try:
                relative = path.relative_to(root).as_posix()
            except ValueError:
                raise ConfigError(f"upload_files: {path} is not inside relative_root {str(root)!r}") from None
            copied += self._write(path, f"{target}/{relative}" if target else relative, overwrite)
        if show_progress:
            kept = f", kept {len(paths) - copied} already there" if copied < len(paths) else ""
            print(f"Uploaded {copied} file(s) to datastore {self.name!r} at {target or '/'!r}{kept}", flush=True)
        return self, target

    def download(self, target_path: str | os.PathLike, prefix: str | None = None, overwrite: bool = False,
                 show_progress: bool = True) -> int:
        """Copy the files under ``prefix`` (all, without one) into ``target_path``; files that
        exist there are kept unless ``overwrite``. Returns how many were copied (which
        ``show_progress`` prints)."""
        source = self._source(prefix or "")
        root = self._spec.get("path") or self._spec["url"]
        under = os.path.relpath(source["base"], root) if self._spec["type"] == "local" else \
            source["base"][len(root):].strip("/") or "."
        count = 0
        out = Path(os.fspath(target_path))
        for relative in src.list_files(source):
            destination = out / under / relative
            if destination.exists() and not overwrite:
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with src.open_file(source, relative) as fh, open(destination, "wb") as sink:
                shutil.copyfileobj(fh, sink)
            count += 1
        if show_progress:
            print(f"Downloaded {count} file(s) from datastore {self.name!r} to {str(out)!r}", flush=True)
        return count


def _relative(path: str, what: str) -> str:
    """A path inside a datastore: relative, without '..'; '' for its root."""
    if not isinstance(path, str):
        raise ConfigError(f"{what} must be text, got {type(path).__name__}")
    clean = PurePosixPath(path.replace("\\", "/").lstrip("/"))
    if ".." in clean.parts:
        raise ConfigError(f"{what} {path!r} must stay inside the datastore (no '..')")
    text = clean.as_posix()
    return "" if text == "." else text


def _register(workspace: "Workspace", name: str, spec: dict[str, Any], overwrite: bool) -> Datastore:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"datastore name {name!r}: use 1-255 letters, digits, '.', '_' or '-'")
    row = workspace._store.get_asset(KIND, name)
    if row is not None and row["spec"] == spec:
        return Datastore._make(workspace, name, spec)
    if row is not None and not overwrite:
        where = row["spec"].get("path") or row["spec"].get("url")
        raise ConfigError(f"datastore {name!r} is already registered (at {where!r}); pass overwrite=True to "
                          f"point it elsewhere")
    # no content hash: the latest registration is the datastore, even if an older one matches it
    row = workspace._store.register_asset(KIND, name, spec)
    return Datastore._make(workspace, name, row["spec"])


def _workspace_default(workspace: "Workspace") -> Datastore:
    if workspace.path is None:
        raise ConfigError(
            f"workspace {workspace.name!r} is served over HTTP and has no folder for a default datastore; "
            f"register one that every machine running its jobs can reach under the name {DEFAULT_NAME!r}: "
            f"Datastore.register_fsspec(ws, {DEFAULT_NAME!r}, 's3://bucket/path') or "
            f"Datastore.register_local(ws, {DEFAULT_NAME!r}, '/shared/folder')")
    folder = workspace.path / "datastores" / DEFAULT_NAME
    folder.mkdir(parents=True, exist_ok=True)
    return Datastore._make(workspace, DEFAULT_NAME, {"type": "local", "path": str(folder)})
