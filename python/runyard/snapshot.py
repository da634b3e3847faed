"""The project folder as a content-addressed zip.

Which files go in follows ``.runyardignore``, else ``.amlignore``, else
``.gitignore`` (gitignore semantics; a file of the chosen name in a subfolder
applies below it; with no ignore file at the root, each folder's own counts). The hash covers each file's path and bytes, so identical
folders are stored once and a repeated submit only re-reads the files.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pathspec

from . import folders
from .errors import ConfigError, SnapshotError
from .folders import LeftOut
from .ids import check_sha256

IGNORE_FILES = (".runyardignore", ".amlignore", ".gitignore")
ALWAYS_EXCLUDED_DIRS = {".runyard", ".git", "__pycache__", ".ipynb_checkpoints"}
DEFAULT_MAX_MB = 300
DEFAULT_MAX_FILES = 2000
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Snapshot:
    hash: str
    path: Path
    file_count: int
    total_bytes: int
    #: what ``take`` left out of the source folder (links out of it...), for the run's log
    left_out: tuple[LeftOut, ...] = ()


def _ignore_file_name(source: Path) -> str | None:
    for name in IGNORE_FILES:
        if (source / name).is_file():
            return name
    return None


def list_files(source: str | os.PathLike) -> list[tuple[str, Path, int]]:
    """The files a snapshot of ``source`` holds: (posix relative path, path, size), sorted.

    A link to a file inside ``source`` is that file (``path`` is the file it resolves to);
    links out of it and the rest ``source_contents`` leaves out are not listed."""
    files, _left_out = source_contents(source)
    return files


def source_contents(source: str | os.PathLike) -> tuple[list[tuple[str, Path, int]], list[LeftOut]]:
    """``list_files``, and what was left out of it (not counting ignored files) with why."""
    source = Path(source)
    if not source.is_dir():
        raise ConfigError(f"source_directory {str(source)!r} does not exist or is not a folder")
    real_source = Path(os.path.realpath(source))
    # The kind chosen at the root applies everywhere; with none at the root, each folder
    # uses the first kind it has (so a lone data/.gitignore still counts).
    root_kind = _ignore_file_name(source)
    specs: list[tuple[Path, pathspec.PathSpec]] = []
    files: list[tuple[str, Path, int]] = []
    left_out: list[LeftOut] = []

    def kept(path: Path) -> None:
        rel = path.relative_to(source).as_posix()
        found = folders.entry(path, real_source, rel, "the source folder")
        if isinstance(found, LeftOut):
            left_out.append(found)
        else:
            files.append((rel, found.path, found.path.stat().st_size))

    for dirpath, dirnames, filenames in os.walk(source):
        current = Path(dirpath)
        ignore_name = root_kind or _ignore_file_name(current)
        if ignore_name and (current / ignore_name).is_file():
            lines = (current / ignore_name).read_text(errors="replace").splitlines()
            specs.append((current, pathspec.GitIgnoreSpec.from_lines(lines)))
        active = [(base, spec) for base, spec in specs if current == base or base in current.parents]

        def ignored(path: Path, is_dir: bool) -> bool:
            for base, spec in active:
                rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):
                    return True
            return False

        dirnames[:] = sorted(d for d in dirnames
                             if d not in ALWAYS_EXCLUDED_DIRS and not ignored(current / d, True))
        for name in list(dirnames):  # os.walk does not enter a link to a folder: say so
            if (current / name).is_symlink():
                dirnames.remove(name)
                kept(current / name)
        for name in sorted(filenames):
            if not ignored(current / name, False):
                kept(current / name)
    files.sort()
    left_out.sort(key=lambda item: item.name)
    return files, left_out


def _check_limits(files: list[tuple[str, Path, int]], max_mb: float, max_files: int) -> None:
    total = sum(size for _, _, size in files)
    if total > max_mb * 1024 * 1024:
        biggest = sorted(files, key=lambda f: -f[2])[:5]
        listing = ", ".join(f"{rel} ({size / 1e6:.1f} MB)" for rel, _, size in biggest)
        raise SnapshotError(
            f"the source folder holds {total / 1e6:.1f} MB, over the snapshot limit of {max_mb} MB. "
            f"Biggest files: {listing}. Exclude data and outputs in .runyardignore "
            f"(gitignore syntax) or raise the limit (RUNYARD_SNAPSHOT_MAX_MB).")
    if len(files) > max_files:
        by_dir: dict[str, int] = {}
        for rel, _, _ in files:
            top = rel.split("/", 1)[0] if "/" in rel else "."
            by_dir[top] = by_dir.get(top, 0) + 1
        crowded = sorted(by_dir.items(), key=lambda kv: -kv[1])[:5]
        listing = ", ".join(f"{d}/ ({n} files)" for d, n in crowded)
        raise SnapshotError(
            f"the source folder holds {len(files)} files, over the snapshot limit of {max_files}. "
            f"Most files are in: {listing}. Exclude them in .runyardignore (gitignore syntax) "
            f"or raise the limit (RUNYARD_SNAPSHOT_MAX_FILES).")


def _file_digest(fh) -> bytes:
    h = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
        h.update(chunk)
    return h.digest()


def limits_from_env() -> tuple[float, int]:
    try:
        max_mb = float(os.environ.get("RUNYARD_SNAPSHOT_MAX_MB", DEFAULT_MAX_MB))
        max_files = int(os.environ.get("RUNYARD_SNAPSHOT_MAX_FILES", DEFAULT_MAX_FILES))
    except ValueError as e:
        raise ConfigError(f"RUNYARD_SNAPSHOT_MAX_MB / RUNYARD_SNAPSHOT_MAX_FILES must be numbers: {e}") from e
    return max_mb, max_files


def take(source: str | os.PathLike, store_dir: str | os.PathLike, *, max_mb: float | None = None,
         max_files: int | None = None, progress: Callable[[int, int], None] | None = None) -> Snapshot:
    """Snapshot ``source`` into ``store_dir/<hash>.zip`` unless that hash is stored already.

    ``progress(done, total)`` is called as bytes are read: ``total`` is twice the folder's size
    (once hashed, once zipped), and ``done`` jumps to ``total`` when the zip is stored already.
    """
    env_mb, env_files = limits_from_env()
    files, left_out = source_contents(source)
    _check_limits(files, max_mb if max_mb is not None else env_mb,
                  max_files if max_files is not None else env_files)
    total = sum(size for _, _, size in files)
    work = 2 * total
    digest = hashlib.sha256()
    done = 0
    for rel, path, size in files:
        digest.update(rel.encode() + b"\0")
        with open(path, "rb") as fh:
            digest.update(_file_digest(fh))
        done += size
        if progress:
            progress(done, work)
    snapshot_hash = digest.hexdigest()
    store_dir = Path(store_dir)
    target = store_dir / f"{snapshot_hash}.zip"
    if not target.exists():
        store_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=store_dir, prefix=".snapshot-", suffix=".zip")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for rel, path, size in files:
                    info = zipfile.ZipInfo(rel, date_time=_ZIP_DATE)
                    info.external_attr = (os.stat(path).st_mode & 0o777) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    with open(path, "rb") as src, zf.open(info, "w") as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                    done += size
                    if progress:
                        progress(done, work)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    elif progress:
        progress(work, work)
    return Snapshot(snapshot_hash, target, len(files), total, tuple(left_out))


def stored(snapshot_hash: str, store_dir: str | os.PathLike) -> Snapshot:
    """The snapshot ``take`` stored earlier under ``snapshot_hash``: a regular file in
    ``store_dir`` (a link there, to anywhere, counts as absent)."""
    check_sha256(snapshot_hash, "snapshot hash")
    path = Path(store_dir) / f"{snapshot_hash}.zip"
    if path.is_symlink() or not path.is_file():
        raise SnapshotError(f"snapshot {snapshot_hash} is not in {store_dir}")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    return Snapshot(snapshot_hash, path, len(infos), sum(i.file_size for i in infos))


@dataclass(frozen=True)
class Entry:
    """An entry of a snapshot zip, checked: ``name`` is a clean relative path, ``mode`` safe to give."""

    info: zipfile.ZipInfo
    name: str
    mode: int


def entries(zf: zipfile.ZipFile) -> list[Entry]:
    """The files of a snapshot zip, every entry checked before anything is unpacked: a
    ``SnapshotError`` names the first one that is absolute, climbs out with ``..``, is a link,
    a device, or appears twice (a snapshot ``take`` made holds none of these)."""
    found: list[Entry] = []
    files: set[str] = set()
    folder_names: set[str] = set()
    for info in zf.infolist():
        problem = _entry_problem(info)
        name = posixpath.normpath(info.filename)
        parents = {"/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)}
        if info.is_dir():
            parents.add(name)
        if problem is None and (name in files or parents & files or (not info.is_dir() and name in folder_names)):
            problem = "appears twice (as a file, or as a file and a folder)"
        if problem is not None:
            raise SnapshotError(
                f"snapshot {zf.filename}: entry {info.filename!r} {problem}; nothing was unpacked. A "
                f"snapshot runyard takes never holds such an entry: submit from the source folder again "
                f"to take a new one, and do not hand runyard zips made elsewhere")
        folder_names |= parents
        if not info.is_dir():
            files.add(name)
        mode = (info.external_attr >> 16) & 0o777
        # No setuid, setgid or sticky bit, nothing writable by others; the owner may always rewrite it.
        found.append(Entry(info, name, (mode & 0o755) | 0o600 if mode else 0o644))
    return found


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if not name or "\0" in name:
        return "has no usable name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if ".." in parts:
        return "climbs out of the folder with '..'"
    if posixpath.normpath(name) in (".", ""):
        return "names the folder itself"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is no regular file"
    return None


def extract(snapshot_path: str | os.PathLike, destination: str | os.PathLike) -> None:
    """Unpack a snapshot into ``destination`` (an empty folder): only what ``entries`` passes,
    each file created below ``destination`` without going through a link, its mode masked."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(snapshot_path) as zf:
        for entry in entries(zf):
            parts = entry.name.split("/")
            try:
                folder = folders.make_folders(destination, parts if entry.info.is_dir() else parts[:-1])
            except folders.LinkOnPathError as e:
                raise SnapshotError(f"snapshot {snapshot_path}: entry {entry.info.filename!r} would be "
                                    f"unpacked through {e.filename}, which is a link or no folder; unpack "
                                    f"into an empty folder") from e
            if entry.info.is_dir():
                continue
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            try:
                fd = os.open(folder / parts[-1], flags, 0o600)
            except OSError as e:
                raise SnapshotError(f"snapshot {snapshot_path}: entry {entry.info.filename!r} could not be "
                                    f"written to {folder / parts[-1]} ({e.strerror}); unpack into an empty "
                                    f"folder") from e
            with os.fdopen(fd, "wb") as out, zf.open(entry.info) as src:
                os.fchmod(out.fileno(), entry.mode)
                shutil.copyfileobj(src, out, 1024 * 1024)


def content_hash_of_zip(snapshot_path: str | os.PathLike) -> str:
    """The hash ``take`` gives the files a snapshot zip holds (their paths and bytes): what a
    snapshot's name must be. Every entry is checked first (``entries``), so a zip that is no
    snapshot, or holds an entry ``extract`` would refuse, is a ``SnapshotError``."""
    try:
        with zipfile.ZipFile(snapshot_path) as zf:
            files = sorted((entry.name, entry.info) for entry in entries(zf) if not entry.info.is_dir())
            digest = hashlib.sha256()
            for name, info in files:
                digest.update(name.encode() + b"\0")
                with zf.open(info) as fh:
                    digest.update(_file_digest(fh))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as e:
        raise SnapshotError(f"{snapshot_path} is not a readable snapshot zip: {e}") from e
    return digest.hexdigest()
