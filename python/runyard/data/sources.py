"""Where a dataset's files are, and how to list, hash and read them.

A *source* is a JSON-able dict, stored in a dataset's spec and in a run's job inputs:

- ``{"kind": "local", "base": "/abs/folder", "pattern": "*.csv"}``: files on this machine
  (a local-folder datastore, or a path given as it is);
- ``{"kind": "fsspec", "base": "s3://bucket/folder", "pattern": ..., "storage_options": {...}}``:
  any filesystem fsspec has (``pip install "runyard[data]"`` plus the protocol's package);
- ``{"kind": "run", "run_id": ..., "base": "outputs/name", "pattern": None}``: files kept
  with a run (a pipeline step's output registered on completion).

``pattern`` is a glob relative to ``base`` (``None``: every file below ``base``). A file's
path *in the dataset* is its path relative to ``base``; the dataset's content hash is a hash
of those relative paths and the files' bytes, as for a pipeline step's outputs.
"""

from __future__ import annotations

import glob as globs
import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from ..errors import ConfigError, MissingDependencyError

_GLOB_CHARS = set("*?[")
_CHUNK = 1024 * 1024


# -- fsspec --------------------------------------------------------------------------------------
def is_url(text: str) -> bool:
    return "://" in text


def protocol_of(url: str) -> str:
    return url.split("://", 1)[0].lower()


def filesystem(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it; a missing package is a
    ``MissingDependencyError`` naming what to install."""
    try:
        import fsspec
    except ModuleNotFoundError as e:
        raise MissingDependencyError(
            f"{url!r} is read through fsspec, which is not installed. Install it with: "
            f'pip install "runyard[data]"') from e
    protocol = protocol_of(url)
    try:
        fs = fsspec.filesystem(protocol, **(storage_options or {}))
    except ImportError as e:
        package = _protocol_package(protocol)
        raise MissingDependencyError(f"{url!r}: fsspec's filesystem for {protocol}:// needs a package that is "
                                     f"not installed ({e}). Install it with: pip install {package}") from e
    except ValueError as e:
        raise ConfigError(f"{url!r}: fsspec knows no filesystem for {protocol}:// ({e})") from e
    except TypeError as e:
        raise ConfigError(f"{url!r}: storage options {sorted(storage_options or {})} are not accepted by "
                          f"fsspec's {protocol}:// filesystem: {e}") from e
    return fs, fs._strip_protocol(url)


def _protocol_package(protocol: str) -> str:
    from fsspec.registry import known_implementations
    error = known_implementations.get(protocol, {}).get("err", "")
    words = error.split()
    # fsspec's hints read "Install s3fs to access S3" or "... install gcsfs ..."
    for i, word in enumerate(words[:-1]):
        if word.lower() == "install":
            return words[i + 1].strip("`'\".,")
    return f"the package that provides fsspec's {protocol!r} protocol"


def join(base: str, relative: str) -> str:
    return f"{base.rstrip('/')}/{relative}" if relative else base


# -- turning what the user wrote into sources ----------------------------------------------------
def split_glob(path: str) -> tuple[str, str | None]:
    """``"data/2024/*.csv"`` -> ``("data/2024", "*.csv")``; no glob -> ``(path, None)``."""
    parts = path.replace("\\", "/").split("/")
    for index, part in enumerate(parts):
        if _GLOB_CHARS & set(part):
            base = "/".join(parts[:index])
            return (base or ("/" if path.startswith("/") else "")), "/".join(parts[index:])
    return path, None


def local_source(path: str | os.PathLike, *, datastore: str | None = None, shown: str | None = None) -> dict[str, Any]:
    """A source on this machine; ``shown`` is what the user wrote (for messages)."""
    text = os.fspath(path)
    base, pattern = split_glob(text)
    base_path = Path(os.path.expanduser(base or ".")).resolve()
    if pattern is None and base_path.is_file():
        base_path, pattern = base_path.parent, base_path.name
    return {"kind": "local", "base": str(base_path), "pattern": pattern, "datastore": datastore,
            "path": shown if shown is not None else text}


def fsspec_source(url: str, storage_options: dict[str, Any] | None = None, *, datastore: str | None = None,
                  shown: str | None = None) -> dict[str, Any]:
    fs, _ = filesystem(url, storage_options)
    prefix = url.split("://", 1)[0] + "://"
    base, pattern = split_glob(url[len(prefix):])
    base_url = prefix + base
    if pattern is None and fs.isfile(fs._strip_protocol(base_url)):
        head, _, name = base.rstrip("/").rpartition("/")
        base_url, pattern = prefix + head, name
    return {"kind": "fsspec", "base": base_url, "pattern": pattern, "datastore": datastore,
            "storage_options": dict(storage_options or {}), "path": shown if shown is not None else url}


def run_source(run_id: str, folder: str) -> dict[str, Any]:
    return {"kind": "run", "run_id": run_id, "base": folder.strip("/"), "pattern": None, "datastore": None,
            "path": f"run {run_id}: {folder.strip('/')}/"}


def describe(source: dict[str, Any]) -> str:
    shown = source.get("path") or join(source["base"], source.get("pattern") or "")
    return f"{shown!r} on datastore {source['datastore']!r}" if source.get("datastore") else repr(shown)


# -- listing -----------------------------------------------------------------------------------
def list_files(source: dict[str, Any], workspace: Any = None) -> list[str]:
    """The paths (relative to the source's base, sorted) of the files the source names."""
    kind = source["kind"]
    pattern = source.get("pattern")
    if kind == "local":
        base = Path(source["base"])
        if pattern is None:
            if not base.is_dir():
                return []
            found = [(Path(d) / f).relative_to(base).as_posix() for d, _, files in os.walk(base) for f in files]
        else:
            found = [Path(p).relative_to(base).as_posix()
                     for p in globs.glob(str(base / pattern), recursive=True) if os.path.isfile(p)]
    elif kind == "fsspec":
        fs, base = filesystem(source["base"], source.get("storage_options"))
        base = base.rstrip("/")
        if pattern is None:
            found = fs.find(base) if fs.isdir(base) else []
        else:
            found = [p for p, info in fs.glob(join(base, pattern), detail=True).items() if info.get("type") == "file"]
        found = [p[len(base):].lstrip("/") for p in found]
    elif kind == "run":
        if workspace is None:
            raise ConfigError(f"the files of {describe(source)} are kept in a workspace; open it first")
        prefix = source["base"] + "/"
        found = [n[len(prefix):] for n in workspace._artifacts.list(source["run_id"]) if n.startswith(prefix)]
    else:
        raise ConfigError(f"unknown dataset source kind {kind!r}")
    return sorted(found)


# -- reading -----------------------------------------------------------------------------------
def local_path(source: dict[str, Any], relative: str, workspace: Any = None) -> Path | None:
    """The file on this machine, if the source is on this machine (else None)."""
    if source["kind"] == "local":
        return Path(source["base"]) / relative
    if source["kind"] == "run":
        return workspace._artifacts.path(source["run_id"], f"{source['base']}/{relative}")
    return None


def open_file(source: dict[str, Any], relative: str, workspace: Any = None) -> BinaryIO:
    path = local_path(source, relative, workspace)
    if path is not None:
        return open(path, "rb")
    fs, base = filesystem(source["base"], source.get("storage_options"))
    return fs.open(join(base, relative), "rb")


def stat(source: dict[str, Any], relative: str, workspace: Any = None) -> dict[str, Any]:
    """``{"size", "mtime_ns"}`` of a file (``mtime_ns`` for files on this machine only)."""
    path = local_path(source, relative, workspace)
    if path is not None:
        info = path.stat()
        return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}
    fs, base = filesystem(source["base"], source.get("storage_options"))
    return {"size": int(fs.info(join(base, relative)).get("size") or 0)}


def sha256_of(stream: BinaryIO, sink: BinaryIO | None = None) -> str:
    """Hash a stream (copying it to ``sink`` on the way, if given)."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest()


def content_hash(files: list[dict[str, Any]]) -> str:
    """Hash of the files' paths in the dataset and their bytes (their sha256), in path order:
    the same rule as a pipeline step's output hash, so identical folders hash alike."""
    digest = hashlib.sha256()
    for item in sorted(files, key=lambda f: f["path"]):
        digest.update(item["path"].encode() + b"\0")
        digest.update(bytes.fromhex(item["sha256"]))
    return digest.hexdigest()


def resolve(sources: list[dict[str, Any]], workspace: Any = None, *, hashes: bool) -> list[dict[str, Any]]:
    """Every file of ``sources``: ``{"path", "source", "size", "mtime_ns"?, "sha256"?}``.

    A source that matches no file, or two files at one path in the dataset, is a ConfigError."""
    files: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        found = list_files(source, workspace)
        if not found:
            raise ConfigError(f"path {describe(source)} matches no files")
        for relative in found:
            if relative in seen:
                raise ConfigError(f"two files would be at {relative!r} in the dataset: from "
                                  f"{describe(sources[seen[relative]])} and from {describe(source)}; "
                                  f"give paths whose files do not overlap")
            seen[relative] = index
            item: dict[str, Any] = {"path": relative, "source": index, **stat(source, relative, workspace)}
            if hashes:
                with open_file(source, relative, workspace) as fh:
                    item["sha256"] = sha256_of(fh)
            files.append(item)
    return sorted(files, key=lambda f: f["path"])


def iter_files(sources: list[dict[str, Any]], files: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for item in files:
        yield sources[item["source"]], item
