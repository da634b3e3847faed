"""Files of runs (outputs, logs, uploads) in a local folder, one subfolder per run."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable

from . import folders
from .errors import ConfigError, ConflictError, NotFoundError
from .folders import FolderContents, FoundFile, LeftOut
from .ids import check_id


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


def folder_files(folder: str | os.PathLike, name: str) -> FolderContents:
    """The files below ``folder``, each named ``name/<path>``: its regular files, and each link
    to a file inside ``folder`` as that file; what was left out (links out of the folder,
    dangling links, links to folders, FIFOs...) with the reason, for the run's log."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"path {str(folder)!r} is not a folder")
    prefix = PurePosixPath(str(name).replace("\\", "/")).as_posix()
    return folders.walk(folder, "" if prefix == "." else prefix)


def report_left_out(left_out: Iterable[LeftOut], log: Callable[[str], None] | None = None) -> None:
    """One line per file left out, to ``log`` or (inside a job, where it is the run's
    driver.log) to stderr."""
    for item in left_out:
        if log is None:
            print(item.line(), file=sys.stderr, flush=True)
        else:
            log(item.line())


def check_file_name(name: str) -> str:
    """A run file's name as stored (posix, clean); a ``ConfigError`` for one that is not a
    relative path inside the run."""
    clean = PurePosixPath(name.replace("\\", "/")) if isinstance(name, str) else None
    if clean is None or "\x00" in name or clean.is_absolute() or ".." in clean.parts or not clean.parts:
        raise ConfigError(f"artifact name {name!r} must be a relative path inside the run")
    return clean.as_posix()


class ArtifactStore:
    """A workspace folder's run files: ``<root>/runs/<run id>/<name>``.

    What it guarantees, whoever filled the folder (an older runyard, a hand, a job):
    ``list``, ``contents``, ``path`` and ``download`` only ever name or read regular files
    whose real path is inside the run's own folder (a link there to a file of the same run
    counts as that file; a link out of it, dangling, to a folder, and a run folder that is
    itself a link are absent), and writes never go through a link out of the run's folder.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def run_dir(self, run_id: str) -> Path:
        """Where ``run_id``'s files are (a ``ConfigError`` for an id that is no valid folder name)."""
        return self.root / "runs" / check_id(run_id, "run_id")

    def _real_run_dir(self, run_id: str) -> Path | None:
        """The run's folder, resolved; None when it is missing or is itself a link."""
        base = self.run_dir(run_id)
        real = Path(os.path.realpath(base))
        if real != Path(os.path.realpath(base.parent)) / run_id or not real.is_dir():
            return None
        return real

    def _target(self, run_id: str, name: str) -> Path:
        return self.run_dir(run_id) / check_file_name(name)

    def _writable_target(self, run_id: str, name: str) -> Path:
        """``_target``, its folders made; never through a link (a ``ConfigError``)."""
        target = self._target(run_id, name)
        base = self.run_dir(run_id)
        base.mkdir(parents=True, exist_ok=True)
        rel = target.relative_to(base)
        try:
            if self._real_run_dir(run_id) is None:
                raise folders.LinkOnPathError(errno.ENOTDIR, "a link", str(base))
            folders.make_folders(base, rel.parts[:-1])
        except folders.LinkOnPathError as e:
            raise ConfigError(f"artifact {name!r} of run {run_id}: {e.filename} is a link or no folder; "
                              f"runyard writes no file through a link, remove it") from e
        return target

    def put_file(self, run_id: str, name: str, source: str | os.PathLike | BinaryIO, *,
                 keep_times: bool = False, sha256: str | None = None) -> str:
        """Copy a file or stream to ``name`` atomically (temp file + rename); ``keep_times``:
        a file's times and mode too, as ``shutil.copy2``; with ``sha256``, bytes that hash
        otherwise are refused (ConfigError) and nothing is stored."""
        if not hasattr(source, "read") and not Path(source).is_file():
            raise ConfigError(f"path_or_stream {str(source)!r} is not a file")
        target = self._writable_target(run_id, name)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=UPLOAD_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(source, "read"):
                    digest = _copy_hashing(source, out)
                else:
                    with open(source, "rb") as src:
                        digest = _copy_hashing(src, out)
            if sha256 is not None and digest != sha256:
                raise ConfigError(f"{name!r} of {run_id}: its bytes hash to {digest}, not the {sha256} expected: "
                                  f"the file changed while it was copied; nothing was stored")
            if keep_times and not hasattr(source, "read"):
                shutil.copystat(source, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target.relative_to(self.run_dir(run_id)).as_posix()

    def put_folder(self, run_id: str, name: str, folder: str | os.PathLike, *, move: bool = False,
                   log: Callable[[str], None] | None = None) -> list[str]:
        """Copy (or move, when the folder is a throwaway job folder) a tree under ``name``.

        A link to a file inside the folder is stored as a copy of that file; a link out of it
        (and a dangling one, a loop, a link to a folder) is left out, with a line to ``log``
        (default: stderr) saying so. Returns the names stored.
        """
        contents = folder_files(folder, name)
        left_out = list(contents.left_out)
        names = []
        # Links first: a move below may take away the file a link points to.
        for found in sorted(contents.files, key=lambda f: not f.linked):
            try:
                if move and not found.linked:
                    names.append(self._move(run_id, found))
                else:
                    with folders.open_found(found) as src:
                        names.append(self.put_file(run_id, found.name, src))
            except folders.FileChangedError as e:
                left_out.append(LeftOut(found.name, e.strerror))
        report_left_out(sorted(left_out, key=lambda item: item.name), log)
        return sorted(names)

    def _move(self, run_id: str, found: FoundFile) -> str:
        target = self._writable_target(run_id, found.name)
        os.replace(found.path, target)
        if not folders.is_found(target, found):  # replaced between the walk and the move
            target.unlink(missing_ok=True)
            raise folders.FileChangedError(errno.ESTALE, "it changed while it was being stored", str(found.path))
        return target.relative_to(self.run_dir(run_id)).as_posix()

    def contents(self, run_id: str) -> FolderContents:
        """The run's files as ``list`` names them, and what in its folder is no file of the run."""
        base = self._real_run_dir(run_id)
        if base is None:
            return FolderContents()
        contents = folders.walk(base, label=f"the folder of run {run_id}")
        contents.files = [f for f in contents.files if not PurePosixPath(f.name).name.startswith(UPLOAD_PREFIX)]
        return contents

    def list(self, run_id: str) -> list[str]:
        """The names of the run's files: regular files in its folder and links there to such a
        file of the same run; never a link out of the run's folder, nor a file being written."""
        return [f.name for f in self.contents(run_id).files]

    def append(self, run_id: str, name: str, offset: int, data: bytes) -> int:
        """Appends to the file ``name`` (made if missing) the part of ``data``, which belongs at
        byte ``offset``, that lies past the file's end: a retry adds nothing twice, and whoever
        sends a log as it grows can lose a connection without losing or repeating a byte. A
        ``ConflictError`` when ``offset`` is past the end (bytes before it are missing). Answers
        the file's size. Never through a link; one appender at a time (a lock on the file)."""
        target = self._writable_target(run_id, name)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise ConfigError(f"artifact {name!r} of run {run_id} is a link; runyard writes no file through a "
                                  f"link, remove it") from e
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if offset > size:
                raise ConflictError(f"offset: {offset} is past the end of {name!r} of run {run_id} ({size} bytes); "
                                    f"send the bytes from {size}")
            view = memoryview(data)[size - offset:]
            while view:
                view = view[os.write(fd, view):]
            return max(size, offset + len(data))
        finally:
            os.close(fd)

    def path(self, run_id: str, name: str) -> Path:
        """The file ``name`` of the run (in its folder, as ``run_dir(run_id) / name``): a
        ``ConfigError`` for a name that is not a relative path, a ``NotFoundError`` when it is
        no regular file whose real path is inside the run's folder (missing, a link out of it)."""
        target = self._target(run_id, name)
        base = self._real_run_dir(run_id)
        if base is None or not target.is_file() or not folders.inside(target, base):
            raise NotFoundError(f"run {run_id} has no file {name!r}")
        return target

    def digest(self, run_id: str, name: str) -> str:
        """The sha256 of the file ``name`` of the run (checked as ``path`` does)."""
        return sha256_of(self.path(run_id, name))

    def find(self, run_id: str, name: str) -> Path | None:
        """``path``, or None when the run has no such file."""
        try:
            return self.path(run_id, name)
        except NotFoundError:
            return None

    def download(self, run_id: str, name: str, destination: str | os.PathLike) -> Path:
        """Copy the file ``name`` (checked as ``path`` does) to ``destination``, atomically: a link
        already at ``destination`` is replaced, never written through."""
        source = self.path(run_id, name)
        destination = Path(destination)
        copy_atomically(source, destination)
        return destination


def _copy_hashing(source: BinaryIO, out: BinaryIO) -> str:
    """Copy ``source`` to ``out`` in blocks; the sha256 of what was copied."""
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
        out.write(block)
    return digest.hexdigest()


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
