"""metrics: encoding values, assembling rows into Azure-shaped results, buffering."""

from __future__ import annotations

import json
import math

import pytest

from runyard import metrics as m
from runyard.errors import ConfigError


@pytest.mark.parametrize("value", [0, 7, -3, 2**40, 0.5, -1e-9, 3.0, True, False, None, "text", ""])
def test_encode_decode_round_trip_keeps_type(value):
    decoded = m.decode(*m.encode("x", value))
    assert decoded == value
    assert type(decoded) is type(value)


def test_non_finite_floats_round_trip():
    assert math.isnan(m.decode(*m.encode("x", float("nan"))))
    assert m.decode(*m.encode("x", float("inf"))) == float("inf")
    assert m.decode(*m.encode("x", float("-inf"))) == float("-inf")


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, object(), b"bytes"])
def test_encode_refuses_non_scalars(value):
    with pytest.raises(ConfigError, match="log_list"):
        m.encode("x", value)


@pytest.mark.parametrize("name", ["", None, 3, "n" * 256])
def test_bad_metric_names(name):
    with pytest.raises(ConfigError, match="metric name"):
        m.check_name(name)


def row(name, kind, value):
    if kind in (m.SCALAR, m.IMAGE) and not isinstance(value, (list, dict)):
        num, text = m.encode(name, value) if kind == m.SCALAR else (None, json.dumps(value))
    else:
        num, text = None, json.dumps(value)
    return {"name": name, "kind": kind, "value_num": num, "value_text": text}


def test_assemble_scalars_lists_and_images():
    rows = [
        row("once", m.SCALAR, 1.5),
        row("loss", m.SCALAR, 3), row("loss", m.SCALAR, 2), row("loss", m.SCALAR, 1),
        row("values", m.LIST, [1, 2]), row("values", m.LIST, [3]),
        row("plot", m.IMAGE, "images/plot.png"),
    ]
    assert m.assemble(rows) == {
        "once": 1.5, "loss": [3, 2, 1], "values": [1, 2, 3], "plot": "images/plot.png"}


def test_assemble_rows_into_columns_filling_gaps():
    rows = [row("t", m.ROW, {"epoch": 1, "loss": 0.5}),
            row("t", m.ROW, {"epoch": 2}),
            row("t", m.ROW, {"epoch": 3, "acc": 0.9})]
    assert m.assemble(rows) == {"t": {"epoch": [1, 2, 3], "loss": [0.5, None, None], "acc": [None, None, 0.9]}}


def test_assemble_tables_append_chunks():
    rows = [row("t", m.TABLE, {"x": [1, 2], "y": [3, 4]}), row("t", m.TABLE, {"x": [5]})]
    assert m.assemble(rows) == {"t": {"x": [1, 2, 5], "y": [3, 4, None]}}


def unticked(buffer: m.MetricBuffer) -> m.MetricBuffer:
    """Take the buffer off the once-a-second flusher so only the test decides when it writes."""
    m._buffers.discard(buffer)
    return buffer


def test_buffer_writes_full_batches_and_the_rest_on_flush(monkeypatch):
    monkeypatch.setattr(m, "BATCH_SIZE", 10)
    written: list[list[dict]] = []
    buffer = unticked(m.MetricBuffer("run-1", written.append))
    for i in range(25):
        buffer.add("x", m.SCALAR, *m.encode("x", i))
    assert [len(batch) for batch in written] == [10, 10]
    buffer.flush()
    assert [len(batch) for batch in written] == [10, 10, 5]
    rows = [r for batch in written for r in batch]
    assert {r["run_id"] for r in rows} == {"run-1"}
    assert m.assemble(rows) == {"x": list(range(25))}
    buffer.flush()
    assert len(written) == 3


def test_buffer_keeps_rows_when_a_write_fails():
    attempts: list[int] = []
    stored: list[dict] = []

    def write(rows):
        attempts.append(len(rows))
        if len(attempts) == 1:
            raise OSError("database is locked")
        stored.extend(rows)

    buffer = unticked(m.MetricBuffer("run-1", write))
    buffer.add("a", m.SCALAR, *m.encode("a", 1))
    with pytest.raises(OSError):
        buffer.flush()
    buffer.add("a", m.SCALAR, *m.encode("a", 2))
    buffer.flush()
    assert attempts == [1, 2]
    assert m.assemble(stored) == {"a": [1, 2]}
