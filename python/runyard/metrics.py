"""How metrics are encoded, buffered and assembled back into Azure-shaped values.

``run.log`` in a tight loop must be cheap: a call appends a tuple to a
buffer; the buffer is written in one transaction when it holds ``BATCH_SIZE``
rows, every ``FLUSH_INTERVAL_S`` by a background thread, at interpreter exit
and on SIGTERM.
"""

from __future__ import annotations

import atexit
import json
import math
import numbers
import threading
import time
import weakref
from typing import Any, Callable

from .errors import ConfigError

BATCH_SIZE = 1000
FLUSH_INTERVAL_S = 1.0

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


class MetricBuffer:
    """Rows waiting to be written for one run."""

    def __init__(self, run_id: str, write: Callable[[list[dict[str, Any]]], None]):
        self.run_id = run_id
        self._write = write
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        _register(self)

    def add(self, name: str, kind: str, value_num: float | None, value_text: str | None) -> None:
        with self._lock:
            self._rows.append((name, kind, value_num, value_text, time.time()))
            full = len(self._rows) >= BATCH_SIZE
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
            if not rows:
                return
            run_id = self.run_id
            try:
                self._write([{"run_id": run_id, "name": n, "kind": k, "value_num": num,
                              "value_text": text, "logged_at": at} for n, k, num, text, at in rows])
            except BaseException:
                self._rows[:0] = rows  # keep them for the next try
                raise


_buffers: "weakref.WeakSet[MetricBuffer]" = weakref.WeakSet()
_flusher: threading.Thread | None = None
_registry_lock = threading.Lock()


def _register(buffer: MetricBuffer) -> None:
    global _flusher
    with _registry_lock:
        _buffers.add(buffer)
        if _flusher is None:
            _flusher = threading.Thread(target=_flush_forever, name="runyard-metrics", daemon=True)
            _flusher.start()
            atexit.register(flush_all)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_INTERVAL_S)
        try:
            flush_all()
        except Exception:  # a locked or vanished store: try again next tick, rows are kept
            pass


def flush_all() -> None:
    for buffer in list(_buffers):
        buffer.flush()
