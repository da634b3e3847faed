"""The partition table a ParallelRunStep keeps with its step run: one row per mini batch.

Stored as the run's file ``parallel_run/partitions.json``::

    {"version": 1, "append_row_file": "outputs/scores/parallel_run_step.txt" or null,
     "summary": {"batches": 120, "succeeded": 118, "failed": 2, "not_run": 0, "reused": 0, ...},
     "partitions": [{"batch_id": "sales:store=1", "input": "sales", "partition": {"store": "1"},
                     "status": "Succeeded", "tries": 1, "duration_s": 0.12, "items": 200, "results": 1,
                     "error": null, "traceback": null, "reused_from": null, "models": ["sales-1-...:1"],
                     "result_span": [0, 14]}, ...]}

``result_span`` (offset and length in bytes of the mini batch's lines in the append_row file)
lets a later run carry a succeeded mini batch's results over; ``get_partition_results``
leaves it out.
"""

from __future__ import annotations

import json
from typing import Any

FILE = "parallel_run/partitions.json"
#: the step run's properties the pipeline driver reads (how many mini batches did not succeed)
UNFINISHED_PROPERTY = "runyard.parallel.unfinished"
STATUSES = ("Succeeded", "Failed", "NotRun")


def read(path: Any) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def partition_results(document: dict[str, Any], status: str | None = None) -> list[dict[str, Any]]:
    rows = [{k: v for k, v in row.items() if k != "result_span"} for row in document["partitions"]]
    return [row for row in rows if status is None or row["status"] == status]
