"""A pipeline run's graph as it stands: each step of its definition with the run it became.

What ``runyard pipeline show`` prints and the studio draws: the steps in the definition's order,
each with the steps it waits for (``upstream``), its inputs and outputs, and where it stands —
its step run's status (``NotStarted`` before the driver starts it), the run it reused, its
times and error. Read from the run store only (the run's definition and its child runs), so a
server answers it without a workspace of its own.

>>> steps = pipeline_steps(ws._store, run.id)  # doctest: +SKIP
>>> [(s["name"], s["status"]) for s in steps]  # doctest: +SKIP
[('prep', 'Completed'), ('train', 'Running')]
"""

from __future__ import annotations

import json
import time
from typing import Any

from .. import status as st
from ..errors import ConfigError, RunNotFoundError
from . import reuse


def pipeline_steps(store: Any, run_id: str) -> list[dict[str, Any]]:
    """The steps of pipeline run ``run_id``; a ``ConfigError`` when it is no pipeline run."""
    row = store.get_run(run_id)
    if row is None:
        raise RunNotFoundError(f"no run {run_id!r}")
    if row["run_type"] != "pipeline":
        raise ConfigError(f"run {run_id} is a {row['run_type']} run, not a pipeline run")
    definition = json.loads(row["definition"]) if row["definition"] else {"steps": []}
    runs: dict[str, dict[str, Any]] = {}
    for child in store.list_runs(parent_id=run_id):  # newest first: a step's latest run wins
        runs.setdefault(child["display_name"], child)
    now = time.time()
    steps = []
    for step in definition["steps"]:
        found = runs.get(step["name"])
        reused = store.get_properties(found["run_id"]).get(reuse.REUSED_RUN_PROPERTY) if found else None
        ran = found is not None and found["start_time"] is not None and not reused
        steps.append({
            "name": step["name"], "kind": step["kind"], "upstream": list(step["upstream"]),
            "inputs": [{"name": i["name"], "output": i["output"], "step": i["step"]} for i in step["inputs"]],
            "outputs": list(step["outputs"]), "target": step["job"].get("target"),
            "status": found["status"] if found else st.NOT_STARTED,
            "run_id": found["run_id"] if found else None, "reused_run_id": reused,
            "start_time": found["start_time"] if found else None, "end_time": found["end_time"] if found else None,
            "duration_seconds": round((found["end_time"] or now) - found["start_time"], 3) if ran else None,
            "error": found["error"] if found and found["status"] != st.COMPLETED else None,
        })
    return steps
