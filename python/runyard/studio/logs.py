"""A run's log files read by byte offset, as a live log view follows them.

A run writes its logs to ``logs/`` among its files (``driver.log``, ``rank_<n>.log``,
``environment_build.log``...), appending while it runs. A reader asks for the text from an
offset and gets whole UTF-8 characters up to ``MAX_CHUNK`` bytes with the offset to ask from
next: a character cut in two by the writer's flush stays for the next read, so asking again
from ``next_offset`` after a lost connection loses and repeats nothing. The server's route
waits (``wait``, a long poll) until there is text past the offset, so a line appears in a
live view about ``POLL_S`` after it is written.

>>> whole_characters("é".encode()[:1])
0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..artifacts import ArtifactStore
from ..errors import ConfigError

FOLDER = "logs"
MAX_CHUNK = 256 * 1024
#: the most one append to a log may carry (POST /runs/{id}/logs/{name}?offset=)
MAX_APPEND = 1024 * 1024
#: a live view's long poll: the server looks for new text every POLL_S, for at most MAX_WAIT_S,
#: and at the run's status every STATUS_EVERY_POLLS looks (an ended run's log grows no more)
MAX_WAIT_S, POLL_S, STATUS_EVERY_POLLS = 30.0, 0.1, 10
#: a log's name: one file of the run's ``logs/`` folder
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$"


def list_logs(artifacts: ArtifactStore, run_id: str) -> list[dict[str, Any]]:
    """The run's log files, ``{"name", "size"}`` by name."""
    prefix = f"{FOLDER}/"
    out = []
    for name in artifacts.list(run_id):
        if name.startswith(prefix) and "/" not in name[len(prefix):]:
            path = artifacts.find(run_id, name)
            if path is not None:
                out.append({"name": name[len(prefix):], "size": path.stat().st_size})
    return sorted(out, key=lambda log: log["name"])


def read_log(artifacts: ArtifactStore, run_id: str, name: str, offset: int,
             limit: int = MAX_CHUNK) -> dict[str, Any]:
    """The text of ``logs/<name>`` from byte ``offset``: ``{"name", "offset", "next_offset",
    "size", "text"}``. A ``NotFoundError`` when the run has no such log; a ``ConfigError``
    for an offset past its end."""
    path: Path = artifacts.path(run_id, f"{FOLDER}/{name}")
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if offset > size:
            raise ConfigError(f"offset: {offset} is past the end of {FOLDER}/{name} ({size} bytes)")
        fh.seek(offset)
        chunk = fh.read(min(limit, size - offset))
    kept = chunk[:whole_characters(chunk)]
    return {"name": name, "offset": offset, "next_offset": offset + len(kept), "size": size,
            "text": kept.decode("utf-8", errors="replace")}


def whole_characters(chunk: bytes) -> int:
    """The length of ``chunk`` without a UTF-8 character cut off at its end."""
    for back in range(1, min(4, len(chunk)) + 1):
        byte = chunk[-back]
        if byte < 0x80:
            return len(chunk)  # ASCII: nothing is cut
        if byte >= 0xC0:  # the lead byte of the last character: does the chunk hold it all?
            needs = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(chunk) if back >= needs else len(chunk) - back
    return len(chunk)  # continuation bytes with no lead: not UTF-8; decoding replaces them
