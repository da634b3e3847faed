"""Progress on stderr while the CLI waits: snapshots, environment builds, a run Preparing.

Each shows only when stderr is a terminal (rich's ``FORCE_COLOR`` or ``TTY_COMPATIBLE=1``
make it one), so piped output and ``--json`` stay plain.
"""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from typing import Any, Callable, TextIO

from .. import status as st
from ._output import errors

# Smaller snapshots take well under a second: no bar flashes by for them.
SNAPSHOT_PROGRESS_MIN_BYTES = 20 * 1024 * 1024
_RESOLVED = re.compile(r"^Resolved (\d+) packages?\b")
_INSTALLED = re.compile(r"^ \+ \S")  # uv names each package it installed: " + six==1.16.0"
_LINE_WIDTH = 70


def snapshot_progress() -> Callable[[int, int], None] | None:
    """A bar for a snapshot big enough to take a moment; None when stderr is no terminal."""
    if not errors.is_terminal:
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
    state: dict = {}

    def update(done: int, total: int) -> None:
        if total < SNAPSHOT_PROGRESS_MIN_BYTES:
            return
        if "progress" not in state:
            progress = Progress(TextColumn("Snapshot"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                                console=errors, transient=True)
            progress.start()
            state["progress"], state["task"] = progress, progress.add_task("snapshot", total=total)
        state["progress"].update(state["task"], completed=done, total=total)
        if done >= total:
            state["progress"].stop()

    return update


def _shorten(line: str) -> str:
    return line if len(line) <= _LINE_WIDTH else line[:_LINE_WIDTH - 3] + "..."


class BuildProgress(io.TextIOBase):
    """The log of an environment build, shown as progress: commands run of those expected
    (``$ uv ...`` lines), packages resolved and installed (counted from uv's output), the
    elapsed time and the latest line. ``verbose`` prints the whole log above the bar.

    >>> with BuildProgress("sklearn", total_steps=2) as log:  # doctest: +SKIP
    ...     target.prepare(environment, log)
    """

    def __init__(self, name: str, total_steps: int | None = None, verbose: bool = False):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, \
            TimeElapsedColumn
        from rich.table import Column
        self.verbose = verbose
        self.steps = self.resolved = self.installed = 0
        self._lock = threading.Lock()
        self.name = name
        fixed = Column(no_wrap=True)
        self._progress = Progress(
            SpinnerColumn(table_column=fixed), BarColumn(bar_width=10, table_column=fixed),
            MofNCompleteColumn(table_column=fixed), TextColumn("steps, {task.fields[packages]}", table_column=fixed),
            TimeElapsedColumn(table_column=fixed),
            TextColumn("{task.fields[line]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
            console=errors, expand=True)
        self._task = self._progress.add_task("build", total=total_steps, packages="0 resolved, 0 installed",
                                             line="")

    def __enter__(self) -> "BuildProgress":
        errors.print(f"Environment {self.name!r}:", highlight=False)
        self._progress.start()
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None and self.steps == 0:  # found in the cache: nothing ran
            self._progress.update(self._task, total=1, completed=1, line="cached")
        elif exc_type is None:
            total = max(self.steps, self._progress.tasks[0].total or 0)
            self._progress.update(self._task, total=total, completed=total, line="")
        self._progress.stop()

    def write(self, text: str) -> int:
        with self._lock:
            if self.verbose:
                self._progress.console.print(text, end="", markup=False, highlight=False, soft_wrap=True)
            last = ""
            for line in text.splitlines():
                if line.startswith("$ "):
                    self.steps += 1
                elif _RESOLVED.match(line):
                    self.resolved = int(_RESOLVED.match(line).group(1))
                elif _INSTALLED.match(line):
                    self.installed += 1
                last = line.strip() or last
            task = self._progress.tasks[0]
            total = task.total if task.total is None else max(task.total, self.steps)
            self._progress.update(self._task, total=total, completed=max(self.steps - 1, 0),
                                  packages=f"{self.resolved} resolved, {self.installed} installed",
                                  **({"line": _shorten(last)} if last else {}))
        return len(text)


class PreparingLine:
    """A text stream for ``wait_for_completion(output=...)``: output passes through to
    ``out``, and while the run is Queued or Preparing one line below it on stderr says so,
    with the time since submission and the latest line of output (the environment build's).
    ``close()`` when done."""

    _INTERVAL_S = 0.25

    def __init__(self, run: Any, out: TextIO | None = None):
        self.run = run
        self.out = out or sys.stdout
        self.started = time.monotonic()
        self.status = st.QUEUED
        self.last_line = ""
        self._shown = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="runyard-preparing-line", daemon=True)
        self._thread.start()

    def write(self, text: str) -> int:
        with self._lock:
            self._clear()
            self.out.write(text)
            self.out.flush()
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines and self.status == st.PREPARING:  # not the header printed while Queued
                self.last_line = lines[-1]
            self._draw()
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:
            self._clear()

    def _follow(self) -> None:
        while not self._stop.is_set():
            status = self.run.get_status()
            with self._lock:
                self.status = status
                if status not in (st.QUEUED, st.PREPARING):
                    self._clear()
                    return
                self._draw()
            self._stop.wait(self._INTERVAL_S)

    def _draw(self) -> None:
        if self._stop.is_set() or self.status not in (st.QUEUED, st.PREPARING):
            return
        elapsed = int(time.monotonic() - self.started)
        line = f"{self.status} {elapsed // 60}:{elapsed % 60:02d}"
        if self.last_line:
            line += f"  {_shorten(self.last_line)}"
        errors.file.write("\r\x1b[2K" + line[:max(errors.width - 1, 20)])
        errors.file.flush()
        self._shown = True

    def _clear(self) -> None:
        if self._shown:
            errors.file.write("\r\x1b[2K")
            errors.file.flush()
            self._shown = False
