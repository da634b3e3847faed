"""A ParallelRunStep run's partition table read a page at a time, as the studio shows it.

The table is the run's file ``parallel_run/partitions.json`` (``runyard.pipeline._parallel.table``),
one row per mini batch: 10,000 of them at the scale "many models" runs at, each failed one with
its traceback. The browser asks for the counts per status and one page of rows, filtered by
status, rather than downloading and parsing the whole file; the server parses a file once and
keeps the last few parsed (a finished run's table does not change; an upload renames a new
file into place, whose inode, modification time or size differ, so it is read again).

>>> page_of({"partitions": [{"status": "Failed"}, {"status": "Succeeded"}]}, "Failed", 0, 10)["total"]
1
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ..artifacts import ArtifactStore
from ..errors import NotFoundError
from ..pipeline import reuse
from ..pipeline._parallel import table

#: the most rows one page may hold
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def read_page(store: Any, artifacts: ArtifactStore, run_id: str, status: str | None, offset: int,
              limit: int) -> dict[str, Any]:
    """The counts per status of run ``run_id``'s partition table and its rows ``offset`` to
    ``offset + limit`` (those with ``status`` only, when given). A reused step's run reads the
    run it reused, as ``Run.get_partition_results`` does. NotFoundError when the run keeps no
    table."""
    holder = store.get_properties(run_id).get(reuse.REUSED_RUN_PROPERTY) or run_id
    try:
        path = artifacts.path(holder, table.FILE)
    except NotFoundError:
        raise NotFoundError(f"run {run_id} keeps no partition table: it is not a ParallelRunStep's run, or it "
                            f"ended before planning its mini batches (see its log)") from None
    stat = path.stat()
    return page_of(_parsed(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size), status, offset, limit)


def page_of(document: dict[str, Any], status: str | None, offset: int, limit: int) -> dict[str, Any]:
    rows = document["partitions"]
    counts = {name: 0 for name in table.STATUSES}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    kept = rows if status is None else [row for row in rows if row["status"] == status]
    return {"counts": counts, "total": len(kept), "offset": offset,
            "rows": [{k: v for k, v in row.items() if k != "result_span"} for row in kept[offset:offset + limit]]}


@functools.lru_cache(maxsize=4)
def _parsed(path: str, _inode: int, _mtime_ns: int, _size: int) -> dict[str, Any]:
    # an upload is a new file renamed into place: a new inode, time or size is a new table
    return table.read(Path(path))
