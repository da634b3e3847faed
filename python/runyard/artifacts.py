"""Files of runs (outputs, logs, uploads) in a local folder, one subfolder per run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from .errors import ConfigError, NotFoundError


#: prefix of a file being written; ``ArtifactStore.list`` and migrations pass over such files
UPLOAD_PREFIX = ".upload-"


def copy_atomically(source: str | os.PathLike, target: Path, *, keep_times: bool = False) -> None:
    """Copy a file to ``target`` so that ``target`` is never seen half-written: a temp file in
    its folder, then a rename (``keep_times``: with its times, as ``shutil.copy2``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=UPLOAD_PREFIX)
    os.close(fd)
    try:
        (shutil.copy2 if keep_times else shutil.copyfile)(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def folder_files(folder: str | os.PathLike, name: str) -> list[tuple[str, Path]]:
    """(name in the run, local path) of every file below ``folder``, stored under ``name``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"path {str(folder)!r} is not a folder")
    return [((Path(name) / (Path(dirpath) / filename).relative_to(folder)).as_posix(), Path(dirpath) / filename)
            for dirpath, _dirs, files in os.walk(folder) for filename in files]


class ArtifactStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def _target(self, run_id: str, name: str) -> Path:
        clean = Path(name.replace("\\", "/"))
        if clean.is_absolute() or ".." in clean.parts or not clean.parts:
            raise ConfigError(f"artifact name {name!r} must be a relative path inside the run")
        return self.run_dir(run_id) / clean

    def put_file(self, run_id: str, name: str, source: str | os.PathLike | BinaryIO) -> str:
        """Copy a file or stream to ``name`` atomically (temp file + rename)."""
        target = self._target(run_id, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=UPLOAD_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(source, "read"):
                    shutil.copyfileobj(source, out)
                else:
                    path = Path(source)
                    if not path.is_file():
                        raise ConfigError(f"path_or_stream {str(source)!r} is not a file")
                    with open(path, "rb") as src:
                        shutil.copyfileobj(src, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target.relative_to(self.run_dir(run_id)).as_posix()

    def put_folder(self, run_id: str, name: str, folder: str | os.PathLike, *, move: bool = False) -> list[str]:
        """Copy (or move, when the folder is a throwaway job folder) a tree under ``name``."""
        names = []
        for rel, src in folder_files(folder, name):
            if move:
                target = self._target(run_id, rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, target)
                names.append(rel)
            else:
                names.append(self.put_file(run_id, rel, src))
        return sorted(names)

    def list(self, run_id: str) -> list[str]:
        base = self.run_dir(run_id)
        if not base.is_dir():
            return []
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for filename in files:
                if filename.startswith(UPLOAD_PREFIX):
                    continue
                found.append((Path(dirpath) / filename).relative_to(base).as_posix())
        return sorted(found)

    def path(self, run_id: str, name: str) -> Path:
        target = self._target(run_id, name)
        if not target.is_file():
            raise NotFoundError(f"run {run_id} has no file {name!r}")
        return target

    def download(self, run_id: str, name: str, destination: str | os.PathLike) -> Path:
        source = self.path(run_id, name)
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        return destination
