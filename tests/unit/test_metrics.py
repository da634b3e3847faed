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
    """Take the buffer off the flusher thread so only the test decides when it writes."""
    m._buffers.discard(buffer)
    return buffer


def test_full_batches_are_sealed_with_an_id_each_and_written_in_order(monkeypatch):
    monkeypatch.setattr(m, "BATCH_SIZE", 10)
    written: list[tuple[str, list[dict]]] = []
    buffer = unticked(m.MetricBuffer("run-1", lambda rows, batch_id: written.append((batch_id, rows))))
    for i in range(25):
        buffer.add("x", m.SCALAR, *m.encode("x", i))
    assert written == []  # adding never writes: the flusher thread (or flush) does
    buffer.flush()
    assert [len(rows) for _, rows in written] == [10, 10, 5]
    assert len({batch_id for batch_id, _ in written}) == 3
    rows = [r for _, batch in written for r in batch]
    assert {r["run_id"] for r in rows} == {"run-1"}
    assert m.assemble(rows) == {"x": list(range(25))}
    buffer.flush()
    assert len(written) == 3


def test_a_failed_batch_is_sent_again_under_the_same_id_and_new_rows_go_in_a_later_batch():
    attempts: list[tuple[str, int]] = []
    stored: dict[str, list[dict]] = {}

    def write(rows, batch_id):
        attempts.append((batch_id, len(rows)))
        if len(attempts) == 1:
            raise OSError("the answer was lost")  # as if applied, but the writer cannot know
        stored[batch_id] = rows  # a store keyed by batch id keeps a batch once

    buffer = unticked(m.MetricBuffer("run-1", write))
    buffer.add("a", m.SCALAR, *m.encode("a", 1))
    with pytest.raises(OSError):
        buffer.flush()
    buffer.add("a", m.SCALAR, *m.encode("a", 2))
    buffer.flush()
    assert [n for _, n in attempts] == [1, 1, 1]
    assert attempts[0][0] == attempts[1][0] != attempts[2][0]
    assert m.assemble([r for rows in stored.values() for r in rows]) == {"a": [1, 2]}


def test_step_and_description_travel_with_the_row():
    written: list[list[dict]] = []
    buffer = unticked(m.MetricBuffer("run-1", lambda rows, batch_id: written.append(rows)))
    buffer.add("loss", m.SCALAR, *m.encode("loss", 0.5), m.check_step(3), m.check_description("train"))
    buffer.flush()
    assert {k: written[0][0][k] for k in ("step", "description")} == {"step": 3, "description": "train"}
    assert m.history(written[0]) == [{"value": 0.5, "step": 3, "time": written[0][0]["logged_at"],
                                      "description": "train"}]


@pytest.mark.parametrize("step", [True, 1.5, "3", 2 ** 40])
def test_a_step_is_a_whole_number_that_fits(step):
    with pytest.raises(ConfigError, match="step"):
        m.check_step(step)


def test_unsent_rows_are_spilled_with_their_batch_ids_and_sent_once(tmp_path, monkeypatch):
    monkeypatch.setenv(m.SPILL_ENV, str(tmp_path / "spill.jsonl"))

    def unreachable(rows, batch_id):
        raise OSError("no server")

    buffer = unticked(m.MetricBuffer("run-1", unreachable))
    for i in range(3):
        buffer.add("x", m.SCALAR, *m.encode("x", i))
    with pytest.raises(OSError):
        buffer.flush()
    assert m.spill(buffer, "no server") == tmp_path / "spill.jsonl"
    buffer.flush()  # nothing is left to send: the spilled rows are not sent twice from here

    class Store:
        def __init__(self):
            self.batches: dict[str, list[dict]] = {}

        def log_metrics(self, rows, batch_id):
            self.batches.setdefault(batch_id, rows)

    store = Store()
    assert m.send_spilled(tmp_path / "spill.jsonl", store) == 3
    assert not (tmp_path / "spill.jsonl").exists()
    assert m.assemble([r for rows in store.batches.values() for r in rows]) == {"x": [0, 1, 2]}


def test_logging_waits_instead_of_growing_without_bound(monkeypatch):
    """Past MAX_PENDING_ROWS waiting rows, add() blocks until the store takes some."""
    import threading
    monkeypatch.setattr(m, "BATCH_SIZE", 10)
    monkeypatch.setattr(m, "MAX_PENDING_ROWS", 40)
    gate = threading.Event()
    written: list[int] = []

    def slow(rows, batch_id):
        gate.wait()
        written.append(len(rows))

    buffer = unticked(m.MetricBuffer("run-1", slow))
    done = threading.Event()

    def log_many():
        for i in range(100):
            buffer.add("x", m.SCALAR, *m.encode("x", i))
        done.set()

    threading.Thread(target=log_many, daemon=True).start()
    assert not done.wait(0.5)  # blocked: the store has taken nothing
    assert buffer._pending <= 50
    gate.set()
    def send_until_done():
        while not done.is_set():
            buffer.flush()
            done.wait(0.01)

    sender = threading.Thread(target=send_until_done, daemon=True)
    sender.start()
    assert done.wait(10)
    sender.join(10)
    buffer.flush()
    assert sum(written) == 100


def test_in_the_foreground_no_thread_starts_and_the_caller_sends(monkeypatch):
    """Python embedded in R runs only while R calls it: no flusher thread (R could pause it
    holding the database's lock); flush_due() sends once the interval passed, and a full
    buffer is sent by the logging call itself instead of waiting for a thread."""
    monkeypatch.setattr(m, "_background", True)
    monkeypatch.setattr(m, "_flusher", None)
    monkeypatch.setattr(m, "_last_due", 0.0)
    monkeypatch.setattr(m, "BATCH_SIZE", 10)
    monkeypatch.setattr(m, "MAX_PENDING_ROWS", 40)
    m.flush_in_foreground()
    written: list[int] = []
    buffer = m.MetricBuffer("run-1", lambda rows, batch_id: written.append(len(rows)))
    assert m._flusher is None
    buffer.add("x", m.SCALAR, *m.encode("x", 1))
    m.flush_due()
    assert sum(written) == 1 and buffer._pending == 0
    sent_at = m._last_due
    buffer.add("x", m.SCALAR, *m.encode("x", 2))
    m.flush_due()  # within FLUSH_INTERVAL_S of the last: not sent now
    assert m._last_due == sent_at
    for i in range(100):  # past MAX_PENDING_ROWS the call sends, it does not wait for a thread
        buffer.add("x", m.SCALAR, *m.encode("x", i))
    assert sum(written) > 40 and buffer._pending <= 40
