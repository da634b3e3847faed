"""When a pipeline step is reused instead of run again.

A step's reuse key is a hash of everything that decides its result: the snapshot of its
source, script or command, arguments with parameters filled in, environment hash (or the
interpreter, without one), compute target name and type, variables, distribution, output
names, and the **content** of each input (the files' relative paths and bytes; not the
input's name, path or the run that wrote it). A step whose key matches a Completed step
run of the workspace is recorded as Completed without running, pointing at that run
(``azureml.reusedrunid``), whose outputs the next steps read; it gets a copy of that run's
metrics (its files stay with the reused run).

>>> key = step_key(job, arguments, command, input_hashes=["ab12..."], python="/usr/bin/python3")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: property of an executed step run: its reuse key
KEY_PROPERTY = "runyard.reuse_key"
#: properties of a reused step run, as Azure ML named them
IS_REUSED_PROPERTY = "azureml.isreused"
REUSED_RUN_PROPERTY = "azureml.reusedrunid"
REUSED_PIPELINE_RUN_PROPERTY = "azureml.reusedpipelinerunid"


def output_hash(workspace: Any, run_id: str, output: str) -> str:
    """Hash of the files of ``output`` kept with ``run_id`` (relative paths and bytes)."""
    prefix = f"outputs/{output}/"
    digest = hashlib.sha256()
    for name in workspace._artifacts.list(run_id):
        if name.startswith(prefix):
            digest.update(name[len(prefix):].encode() + b"\0")
            with open(workspace._artifacts.path(run_id, name), "rb") as fh:
                file_digest = hashlib.sha256()
                for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                    file_digest.update(chunk)
            digest.update(file_digest.digest())
    return digest.hexdigest()


def step_key(job: dict[str, Any], arguments: list[str], command: Any, *, input_hashes: list[str],
             outputs: list[str], python: str | None) -> str:
    document = {
        "snapshot": job["snapshot_hash"], "script": job["script"], "command": command,
        "arguments": arguments, "environment": job["environment_hash"] or {"python": python},
        "target": [job["target"], job["target_type"]],
        "environment_variables": job["environment_variables"], "distributed": job["distributed"],
        "resources": job["resources"], "inputs": input_hashes, "outputs": sorted(outputs),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def find_reusable(store: Any, key: str) -> dict[str, Any] | None:
    """The newest Completed step run with reuse key ``key``, or None."""
    from .. import status as st
    rows = store.list_runs(properties={KEY_PROPERTY: key}, status=st.COMPLETED, limit=1)
    return rows[0] if rows else None


def parallel_finished(store: Any, row: dict[str, Any]) -> bool:
    """A ParallelRunStep's run all of whose mini batches succeeded (one that completed within
    its failure thresholds with some failed is not reused: it is resumed)."""
    from ._parallel import table
    return store.get_properties(row["run_id"]).get(table.UNFINISHED_PROPERTY) == "0"


def find_parallel_resumable(store: Any, workspace: Any, key: str) -> dict[str, Any] | None:
    """The newest ended run of a ParallelRunStep with reuse key ``key`` that kept a partition
    table: its id, output folder and how many mini batches it did not finish; or None."""
    import json
    from .. import status as st
    from ._parallel import table
    for row in store.list_runs(properties={KEY_PROPERTY: key}, status=list(st.TERMINAL), limit=5):
        if table.FILE not in workspace._artifacts.list(row["run_id"]):
            continue
        with open(workspace._artifacts.path(row["run_id"], table.FILE), encoding="utf-8") as fh:
            document = json.load(fh)
        return {"run_id": row["run_id"], "output_folder": document["output_folder"],
                "unfinished": document["summary"]["batches"] - document["summary"]["succeeded"]}
    return None


#: where a resumed ParallelRunStep finds the run it resumes (its partition table and output)
RESUME_FOLDER = "inputs/_parallel_resume"


def parallel_resume_inputs(resumable: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The job inputs and variables that make a ParallelRunStep's job resume ``resumable``
    (what ``find_parallel_resumable`` found): its partition table and output files in the
    job's folder, where the coordinator (``runyard.pipeline._parallel``) reads them."""
    from ._parallel import RESUME_ENV
    earlier = (("table", "parallel_run/"), ("output", resumable["output_folder"]))
    inputs = [{"run_id": resumable["run_id"], "prefix": prefix, "folder": f"{RESUME_FOLDER}/{folder}"}
              for folder, prefix in earlier]
    return inputs, {RESUME_ENV: RESUME_FOLDER}
