"""A parallel step's partition table read a page at a time: counts, filter, pages, a reused
step reading the run it reused, and a table uploaded again read again (not the parsed copy)."""

from __future__ import annotations

import json

import pytest

from runyard import Experiment, Workspace
from runyard.errors import NotFoundError
from runyard.studio.partitions import read_page


def table(tmp_path, statuses: list[str]) -> str:
    path = tmp_path / "partitions.json"
    path.write_text(json.dumps({"version": 1, "partitions": [
        {"batch_id": f"b:{i}", "status": status, "tries": 1, "result_span": [0, 1]}
        for i, status in enumerate(statuses)]}))
    return str(path)


def test_pages_counts_and_a_table_written_again(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    run = Experiment(ws, "e").start_logging()
    run.upload_file("parallel_run/partitions.json", table(tmp_path, ["Succeeded", "Failed", "NotRun", "Failed"]))
    page = read_page(ws._store, ws._artifacts, run.id, "Failed", 1, 10)
    assert page == {"counts": {"Succeeded": 1, "Failed": 2, "NotRun": 1}, "total": 2, "offset": 1,
                    "rows": [{"batch_id": "b:3", "status": "Failed", "tries": 1}]}
    assert [r["batch_id"] for r in read_page(ws._store, ws._artifacts, run.id, None, 1, 2)["rows"]] == ["b:1", "b:2"]
    assert read_page(ws._store, ws._artifacts, run.id, None, 10, 2)["rows"] == []

    # a resubmission's table replaces the file: the next read has it
    run.upload_file("parallel_run/partitions.json", table(tmp_path, ["Succeeded"] * 5))
    assert read_page(ws._store, ws._artifacts, run.id, None, 0, 10)["counts"] == {
        "Succeeded": 5, "Failed": 0, "NotRun": 0}

    reused = Experiment(ws, "e").start_logging()
    reused.add_properties({"azureml.reusedrunid": run.id})
    assert read_page(ws._store, ws._artifacts, reused.id, None, 0, 10)["total"] == 5
    plain = Experiment(ws, "e").start_logging()
    with pytest.raises(NotFoundError, match=f"run {plain.id} keeps no partition table"):
        read_page(ws._store, ws._artifacts, plain.id, None, 0, 10)
