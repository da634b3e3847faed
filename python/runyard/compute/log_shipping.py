"""A served run's logs sent to its workspace server as they grow, so the studio follows them live.

A job's supervisor (and a sweep's or pipeline's driver) writes the run's ``logs/`` on the
machine it runs on; on a workspace folder that is where the studio reads them, but a
workspace server only had them when the run ended. While such a process runs, a thread
sends each log's new bytes every ``EVERY_S`` (``POST /runs/{id}/logs/{name}?offset=``): the
server keeps what lies past its copy's end, so a lost answer, a retry or a restart loses
and repeats nothing. At the end the process uploads its logs whole, as before, and that
copy is final; the thread stops first.

    shipper = LogShipper(workspace, run_id, logs_dir).start()   # a no-op off a server
    ...
    shipper.stop()
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import Any

from ..errors import ConflictError
from ..studio.logs import MAX_APPEND, NAME_PATTERN

EVERY_S = 0.5
_NAME = re.compile(NAME_PATTERN)


class LogShipper:
    """Sends the growth of each file in ``folder`` to the run's ``logs/`` on the server."""

    def __init__(self, workspace: Any, run_id: str, folder: Path):
        self.workspace, self.run_id, self.folder = workspace, run_id, Path(folder)
        self.sent: dict[str, int] = {}
        self.given_up: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "LogShipper":
        if self.workspace.url and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"runyard-logs-{self.run_id}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Sends what is new one last time and ends the thread (a no-op if never started)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None

    def _loop(self) -> None:
        while True:
            stopping = self._stop.wait(EVERY_S)
            try:
                self.ship()
            except Exception as e:  # the server is away or refused: the end's upload still sends all
                print(f"runyard: the live log could not be sent to the workspace server: {e}", file=sys.stderr)
            if stopping:
                return

    def ship(self) -> None:
        """Sends each log's bytes past what the server has, in parts of at most MAX_APPEND."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.iterdir()):
            name = path.name
            if name in self.given_up or not _NAME.match(name) or path.is_symlink() or not path.is_file():
                continue
            offset = self.sent.get(name, 0)
            with open(path, "rb") as fh:
                fh.seek(offset)
                while True:
                    data = fh.read(MAX_APPEND)
                    if not data:
                        break
                    try:
                        offset = self.workspace._artifacts.append_log(self.run_id, name, offset, data)
                    except ConflictError:  # the run has ended, or the server's copy was replaced:
                        self.given_up.add(name)  # the end's upload is the copy that counts
                        break
                    fh.seek(offset)
            self.sent[name] = offset
