"""How metrics are encoded, buffered and assembled back into Azure-shaped values.

``run.log`` in a tight loop must be cheap: a call appends a tuple to a
buffer; a background thread writes it in batches of up to ``BATCH_SIZE`` rows,
one transaction each, as soon as a batch is full and every ``FLUSH_INTERVAL_S``;
what is left is written at interpreter exit and on SIGTERM. Each batch has an id
that stays the same across its retries, so nothing is stored twice; a store that
is away does not stop the training loop, and what cannot be sent before the
process ends is spilled to a file its supervisor sends (``spill``).
"""

from __future__ import annotations

import atexit
import json
import math
import numbers
import os
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError

BATCH_SIZE = 1000
FLUSH_INTERVAL_S = 1.0
#: rows a run may have waiting for the store before logging waits too
MAX_PENDING_ROWS = 200_000

SCALAR, LIST, ROW, TABLE, IMAGE = "scalar", "list", "row", "table", "image"
_INT_MARK = "i"  # value_text of an integer scalar, so ints come back as ints


def encode(name: str, value: Any) -> tuple[float | None, str | None]:
    """(value_num, value_text) for one scalar value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None, json.dumps(value)
    if isinstance(value, numbers.Integral):
        return float(value), _INT_MARK
    if isinstance(value, numbers.Real):
        number = float(value)
        return (number, None) if math.isfinite(number) else (None, json.dumps(number))
    raise ConfigError(f"metric {name!r}: value {value!r} of type {type(value).__name__} is not a "
                      f"number, string, bool or None (use log_list, log_row or log_table)")


def decode(value_num: float | None, value_text: str | None) -> Any:
    if value_text == _INT_MARK:
        return int(value_num)
    if value_num is not None:
        return value_num
    return json.loads(value_text) if value_text is not None else None


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > 255:
        raise ConfigError(f"metric name {name!r} must be a non-empty string of at most 255 characters")
    return name


def check_step(step: Any) -> int | None:
    """``run.log(..., step=N)``: a whole number (numpy's too) that fits the store, or None."""
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or not -2 ** 31 <= int(step) < 2 ** 31:
        raise ConfigError(f"step {step!r} must be a whole number between -2**31 and 2**31-1, or None")
    return int(step)


def check_description(description: Any) -> str | None:
    """A metric's ``description``: text (empty means none), at most 65,536 characters."""
    if description is None or description == "":
        return None
    if not isinstance(description, str) or "\x00" in description or len(description) > 65536:
        raise ConfigError(f"description must be text of at most 65536 characters without NUL, "
                          f"got {type(description).__name__}")
    return description


def assemble(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Store rows (in logging order) -> {name: value}, the way Azure's get_metrics shaped them."""
    grouped: dict[str, tuple[str, list[Any]]] = {}
    for row in rows:
        kind = row["kind"]
        value = decode(row["value_num"], row["value_text"])
        entry = grouped.setdefault(row["name"], (kind, []))
        entry[1].append(value)
    result: dict[str, Any] = {}
    for name, (kind, values) in grouped.items():
        if kind in (SCALAR, IMAGE):
            result[name] = values[0] if len(values) == 1 else values
        elif kind == LIST:
            result[name] = [v for chunk in values for v in chunk]
        else:  # row or table: columns of values
            columns: dict[str, list[Any]] = {}
            length = 0
            for chunk in values:
                chunk_rows = 1 if kind == ROW else max((len(v) for v in chunk.values()), default=0)
                for col in chunk:
                    columns.setdefault(col, [None] * length)
                for col, col_values in columns.items():
                    if col in chunk:
                        col_values.extend([chunk[col]] if kind == ROW else list(chunk[col]))
                    else:
                        col_values.extend([None] * chunk_rows)
                length += chunk_rows
            result[name] = columns
    return result


def history(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store rows of one metric -> one entry per logged value, with its step, time and description."""
    return [{"value": decode(row["value_num"], row["value_text"]), "step": row.get("step"),
             "time": row["logged_at"], "description": row.get("description")} for row in rows]


class MetricBuffer:
    """Rows waiting to be written for one run.

    ``add`` never waits for the store: rows go into the open batch, a full batch is sealed
    with a batch id of its own, and the flusher thread writes sealed batches in order. A
    batch that fails is kept, with its id, and sent again later under the same id, so a batch
    the store applied but whose answer was lost is not stored twice. Only when more than
    ``MAX_PENDING_ROWS`` wait (the store has been away for long) does ``add`` wait too, so
    memory stays bounded and nothing is dropped.
    """

    def __init__(self, run_id: str, write: Callable[[list[dict[str, Any]], str], None]):
        self.run_id = run_id
        self._write = write
        self._rows: list[tuple] = []
        self._sealed: deque[tuple[str, list[tuple]]] = deque()
        self._pending = 0  # rows in sealed batches
        self._lock = threading.Condition()
        self._send_lock = threading.Lock()  # one sender at a time: batches stay in order
        self.failing_since: float | None = None
        self._said_waiting = self._said_failing = False
        _register(self)

    def add(self, name: str, kind: str, value_num: float | None, value_text: str | None,
            step: int | None = None, description: str | None = None) -> None:
        with self._lock:
            self._rows.append((name, kind, value_num, value_text, time.time(), step, description or None))
            if len(self._rows) < BATCH_SIZE:
                return
            self._seal()
            if self._pending > MAX_PENDING_ROWS:
                if not self._said_waiting:
                    self._said_waiting = True
                    _say_waiting(self)
                while self._pending > MAX_PENDING_ROWS // 2:
                    if _background:
                        _kick.set()
                        self._lock.wait(1.0)
                        continue
                    try:  # no flusher thread (flush_in_foreground): this caller sends them
                        self.flush()
                    except Exception as e:
                        _say_failing(self, e)
                        self._lock.wait(1.0)
        _kick.set()

    def _seal(self) -> None:
        if self._rows:
            self._sealed.append((uuid.uuid4().hex, self._rows))
            self._pending += len(self._rows)
            self._rows = []

    def flush(self) -> None:
        """Write every row added so far, batch by batch; a batch that fails stays for the next
        flush (with its batch id) and its error is raised."""
        with self._lock:
            self._seal()
        with self._send_lock:
            while True:
                with self._lock:
                    if not self._sealed:
                        return
                    batch_id, rows = self._sealed[0]
                try:
                    self._write([{"run_id": self.run_id, "name": n, "kind": k, "value_num": num, "value_text": text,
                                  "logged_at": at, "step": step, "description": description}
                                 for n, k, num, text, at, step, description in rows], batch_id)
                except BaseException:
                    if self.failing_since is None:
                        self.failing_since = time.monotonic()
                    raise
                self.failing_since = None
                self._said_waiting = self._said_failing = False
                with self._lock:
                    if self._sealed and self._sealed[0][0] == batch_id:  # not spilled meanwhile
                        self._sealed.popleft()
                        self._pending -= len(rows)
                    self._lock.notify_all()

    def take_unsent(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Every row not written yet, as (batch id, rows), and forget them: for a process about
        to end without reaching the store (see ``spill``)."""
        with self._lock:
            self._seal()
            batches = [(batch_id, [{"run_id": self.run_id, "name": n, "kind": k, "value_num": num,
                                    "value_text": text, "logged_at": at, "step": step, "description": description}
                                   for n, k, num, text, at, step, description in rows])
                       for batch_id, rows in self._sealed]
            self._sealed.clear()
            self._pending = 0
            self._lock.notify_all()
        return batches


_buffers: "weakref.WeakSet[MetricBuffer]" = weakref.WeakSet()
_flusher: threading.Thread | None = None
_registry_lock = threading.Lock()
_kick = threading.Event()
#: False where the caller flushes (``flush_in_foreground``): no thread is started
_background = True
_registered_exit = False
_last_due = 0.0


def _register(buffer: MetricBuffer) -> None:
    global _flusher, _registered_exit
    with _registry_lock:
        _buffers.add(buffer)
        if _flusher is None and _background:
            _flusher = threading.Thread(target=_flush_forever, name="runyard-metrics", daemon=True)
            _flusher.start()
        if not _registered_exit:
            _registered_exit = True
            atexit.register(flush_at_exit)


def flush_in_foreground() -> None:
    """For a Python that runs only while it is called (embedded in R by reticulate, which holds
    Python's lock between calls): no flusher thread, which R could pause in the middle of a
    write while it holds the workspace database's lock; the caller calls ``flush_due()``.
    Call it before the first value is logged."""
    global _background
    _background = False


def flush_due() -> None:
    """Send the waiting values if ``FLUSH_INTERVAL_S`` has passed since the last time: what the
    flusher thread does, for a caller that has none (a store that is away keeps the values
    and is reported, as the thread does)."""
    global _last_due
    now = time.monotonic()
    if now - _last_due < FLUSH_INTERVAL_S:
        return
    _last_due = now
    for buffer in list(_buffers):
        try:
            buffer.flush()
        except Exception as e:
            _say_failing(buffer, e)


def _flush_forever() -> None:
    while True:
        _kick.wait(FLUSH_INTERVAL_S)
        _kick.clear()
        for buffer in list(_buffers):
            try:
                buffer.flush()
            except Exception as e:  # the store is away: the rows are kept and sent later
                _say_failing(buffer, e)


def flush_all() -> None:
    for buffer in list(_buffers):
        buffer.flush()


def flush_at_exit() -> None:
    """At interpreter exit: send what is left; what cannot be sent goes to the spill file."""
    for buffer in list(_buffers):
        try:
            buffer.flush()
        except Exception as e:
            spill(buffer, f"the workspace could not be reached at exit ({type(e).__name__}: {e})")


def flush_or_spill(deadline_s: float) -> None:
    """On SIGTERM: send what is left, giving up on the store after ``deadline_s``; the rest goes
    to the spill file for the run's supervisor to send."""
    from .store.base import retry_deadline
    with retry_deadline(deadline_s):
        flush_at_exit()


#: where a job writes metric rows it could not send (its supervisor sends them when it ends)
SPILL_ENV = "RUNYARD_METRICS_SPILL"
#: its name in the job's folder, where the targets put it
SPILL_FILE = ".runyard-unsent-metrics.jsonl"


def spill(buffer: MetricBuffer, reason: str) -> Path | None:
    """Write the buffer's unsent rows, with their batch ids, to ``$RUNYARD_METRICS_SPILL`` (or a
    temporary file), one JSON line per batch, and say so on stderr."""
    batches = buffer.take_unsent()
    if not batches:
        return None
    target = Path(os.environ.get(SPILL_ENV) or
                  Path(tempfile.gettempdir()) / f"runyard-unsent-metrics-{buffer.run_id}-{os.getpid()}.jsonl")
    with open(target, "a") as out:
        for batch_id, rows in batches:
            out.write(json.dumps({"batch_id": batch_id, "rows": rows}) + "\n")
    count = sum(len(rows) for _, rows in batches)
    who = "its supervisor sends them when the job ends" if os.environ.get(SPILL_ENV) else "they are kept there"
    print(f"runyard: {count} metric values of run {buffer.run_id} could not be sent: {reason}; written to "
          f"{target} ({who})", file=sys.stderr, flush=True)
    return target


def send_spilled(path: Path, store: Any) -> int:
    """Send the batches a job spilled to ``path`` (their batch ids make a batch sent before
    harmless), then remove the file; the number of rows sent."""
    if not path.is_file():
        return 0
    sent = 0
    for line in path.read_text().splitlines():
        if line.strip():
            batch = json.loads(line)
            store.log_metrics(batch["rows"], batch_id=batch["batch_id"])
            sent += len(batch["rows"])
    path.unlink()
    return sent


def _say_failing(buffer: MetricBuffer, error: Exception) -> None:
    if buffer._said_failing:
        return
    buffer._said_failing = True
    print(f"runyard: metrics of run {buffer.run_id} are not reaching the workspace yet ({type(error).__name__}: "
          f"{error}); they are kept and sent when it answers", file=sys.stderr, flush=True)


def _say_waiting(buffer: MetricBuffer) -> None:
    print(f"runyard: {buffer._pending} metric values of run {buffer.run_id} wait for the workspace; logging "
          f"waits until it answers", file=sys.stderr, flush=True)
