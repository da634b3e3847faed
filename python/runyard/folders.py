"""A folder's files, read without following a link out of the folder.

Job outputs, uploaded folders, snapshots and the artifact store are folders that someone
else may have filled: a link in them (``outputs/evil -> /etc/passwd``) must not carry a
file of this machine into a run, a download or a server's answer. So here a link to a
regular file inside the folder counts as that file (its bytes are kept under the link's
name), and a link out of the folder, a dangling link, a loop, a link to a folder and
anything that is not a regular file (a FIFO, a socket) are left out, each with the reason,
so the caller can write a line into the run's log.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class FoundFile:
    """A regular file below the folder: ``name`` is where it is kept, ``path`` holds its bytes."""

    name: str  #: posix path, the caller's prefix included
    path: Path  #: the file itself, or for a link the file it resolves to (inside the folder)
    identity: tuple[int, int]  #: (st_dev, st_ino) when found: ``open_found`` checks it still is
    linked: bool = False  #: ``name`` is a link to ``path``


@dataclass(frozen=True)
class LeftOut:
    name: str
    reason: str

    def line(self) -> str:
        """The line for the run's log: ``runyard: left out outputs/evil: a link to a file ...``."""
        return f"runyard: left out {self.name}: {self.reason}"


@dataclass
class FolderContents:
    files: list[FoundFile] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


class FileChangedError(OSError):
    """A file was replaced (by a link, another file) between being found and being read."""


def walk(folder: str | os.PathLike, prefix: str = "", label: str | None = None) -> FolderContents:
    """Every regular file below ``folder`` (links resolved as above), named ``prefix/<path>``.

    ``label`` is how reasons call the folder ("outputs/", "the source folder"); by default
    ``prefix/``. Subfolders that cannot be read are left out too.
    """
    folder = Path(folder)
    real_root = Path(os.path.realpath(folder))
    label = label or (f"{prefix}/" if prefix else str(folder))
    found = FolderContents()

    def name_of(path: Path) -> str:
        rel = path.relative_to(folder).as_posix()
        return f"{prefix}/{rel}" if prefix else rel

    def unreadable(error: OSError) -> None:
        if error.filename and Path(error.filename) != folder:
            found.left_out.append(LeftOut(name_of(Path(error.filename)),
                                          f"could not be read ({error.strerror})"))
        else:
            raise error

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        current = Path(dirpath)
        for dirname in list(dirnames):
            if (current / dirname).is_symlink():  # os.walk does not enter it; say so
                dirnames.remove(dirname)
                found.left_out.append(entry(current / dirname, real_root, name_of(current / dirname), label))
        dirnames.sort()
        for filename in filenames:
            result = entry(current / filename, real_root, name_of(current / filename), label)
            (found.files if isinstance(result, FoundFile) else found.left_out).append(result)
    found.files.sort(key=lambda f: f.name)
    found.left_out.sort(key=lambda f: f.name)
    return found


def entry(path: Path, real_root: Path, name: str, label: str) -> FoundFile | LeftOut:
    """What ``path``, an entry found below the folder whose real path is ``real_root``, holds."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return LeftOut(name, "it vanished while the folder was read")
    if stat.S_ISREG(info.st_mode):
        return FoundFile(name, path, (info.st_dev, info.st_ino))
    if not stat.S_ISLNK(info.st_mode):
        return LeftOut(name, f"not a regular file but a {_kind(info.st_mode)}")
    link = os.readlink(path)
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as e:
        if e.errno == errno.ELOOP:
            return LeftOut(name, f"a link that loops ({link})")
        return LeftOut(name, f"a link to {link}, which does not exist")
    try:
        info = os.stat(real)
    except OSError as e:
        where = "outside" if not real.is_relative_to(real_root) else "in"
        return LeftOut(name, f"a link to something {where} {label} that could not be read ({real}: {e.strerror})")
    if not real.is_relative_to(real_root):
        return LeftOut(name, f"a link to a {_kind(info.st_mode)} outside {label} ({real})")
    if not stat.S_ISREG(info.st_mode):
        return LeftOut(name, f"a link to a {_kind(info.st_mode)} ({link}); only links to files are followed")
    return FoundFile(name, real, (info.st_dev, info.st_ino), linked=True)


def open_found(found: FoundFile) -> BinaryIO:
    """``found`` opened for reading, never through a link, and only if it is still the file
    that was found (a ``FileChangedError`` otherwise)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(found.path, flags)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOENT, errno.ENXIO):
            raise FileChangedError(e.errno, "it changed while it was being stored", str(found.path)) from e
        raise
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) != found.identity or not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FileChangedError(errno.ESTALE, "it changed while it was being stored", str(found.path))
    return os.fdopen(fd, "rb")


def is_found(path: Path, found: FoundFile) -> bool:
    """Whether ``path`` (not followed) is the very file ``found`` names: after a move, say."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) == found.identity


class LinkOnPathError(OSError):
    """A folder on the way to a file to write is a link (or no folder at all)."""


def make_folders(base: Path, parts: "tuple[str, ...] | list[str]") -> Path:
    """``base/part/part...`` made folder by folder, never through a link: a ``LinkOnPathError``
    names the first one that is a link or no folder (``base`` itself is trusted)."""
    path = base
    for part in parts:
        path = path / part
        try:  # most folders exist already: a look costs less than a refused mkdir
            info = os.lstat(path)
        except FileNotFoundError:
            try:
                os.mkdir(path)
            except FileExistsError:
                pass
            info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode):
            raise LinkOnPathError(errno.ENOTDIR, "a link or no folder", str(path))
    return path


def inside(path: Path, real_root: Path) -> bool:
    """Whether ``path`` resolves (links followed) to ``real_root`` or below it."""
    real = Path(os.path.realpath(path))
    return real == real_root or real.is_relative_to(real_root)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"
