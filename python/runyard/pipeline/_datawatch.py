"""What a data-change schedule compares: a folder's files as relative path -> (size, mtime_ns).

A changed file is one that is new or whose size or modification time differs from the
manifest stored at the previous poll (deleted files fire nothing). Each change has a slot
name made of the file's path and its new signature, so claiming that slot in the store
fires one pipeline run per version of a file, however many schedulers see the change.

>>> changed({"a.csv": [1, 10]}, {"a.csv": [1, 10], "b.csv": [2, 11]})
['b.csv']
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

SLOT_PREFIX = "data:"
_MAX_SLOT = 255


def scan(folder: Path) -> dict[str, list[int]]:
    """Every file under ``folder`` (recursively; hidden ones and symlinked folders left out)."""
    found: dict[str, list[int]] = {}
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):  # editors' and copy tools' temporary files
                continue
            path = Path(root) / name
            try:
                stat = path.stat()
            except OSError:  # gone between listing and looking
                continue
            found[path.relative_to(folder).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return found


def changed(before: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """Files added or modified since ``before``, by path."""
    return sorted(path for path, signature in now.items() if before.get(path) != list(signature))


def slot(path: str, signature: list[int]) -> str:
    """The firing slot of one version of one file."""
    size, mtime_ns = signature
    name = f"{SLOT_PREFIX}{mtime_ns}:{size}:{path}"
    if len(name) <= _MAX_SLOT:
        return name
    return f"{SLOT_PREFIX}{mtime_ns}:{size}:sha256:{hashlib.sha256(path.encode()).hexdigest()}"
