"""How a validated configuration becomes a run handed to a compute target.

This is the job contract of DESIGN.md, driver side: resolve the target,
validate the environment, snapshot the source, record the run ``Queued``,
then ``target.submit``. Every way to train ends here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import resume, snapshot
from . import status as st
from .compute import JobSpec, get_target
from .compute.local_env import submitting_interpreter
from .errors import ComputeError, RunyardError

if TYPE_CHECKING:
    from .environment import Environment
    from .experiment import Experiment
    from .run import Run
    from .workspace import Workspace


def submit_job(experiment: "Experiment", *, source_directory: Path | None, script: str | None,
               command: str | list[str] | None, arguments: list[str],
               environment: "Environment | None", compute_target: Any,
               environment_variables: dict[str, str], max_run_duration_seconds: int | None,
               tags: dict[str, Any], display_name: str | None = None,
               properties: dict[str, Any] | None = None, parent_id: str | None = None,
               snapshot_progress: Callable[[int, int], None] | None = None,
               distributed: dict[str, Any] | None = None, max_retries: int = 0,
               resources: dict[str, Any] | None = None, resume_from: Any = None,
               snapshot_hash: str | None = None, inputs: list[dict[str, Any]] | None = None,
               output_folders: list[str] | None = None, notes: list[str] | None = None) -> "Run":
    """Record a run Queued and start it; ``snapshot_hash`` (a snapshot taken earlier, e.g. when a
    pipeline was submitted) replaces snapshotting ``source_directory``; ``inputs`` and
    ``output_folders`` go to the job (see ``runyard.resume.put_inputs``); ``notes`` (lines on
    how the run was placed) go to its driver.log."""
    from .run import Run, new_run_id
    workspace = experiment.workspace
    target = get_target(workspace, compute_target)
    target.check_reachable()
    resume_source = resume.resolve(resume_from, workspace)
    if environment is not None:
        environment.validate_for_build()
        target.check_environment(environment)
    if snapshot_hash is not None:
        if workspace.url:  # taken on another machine, maybe: the server has it
            workspace._artifacts.get_snapshot(snapshot_hash, workspace.snapshots_dir)
        snap = snapshot.stored(snapshot_hash, workspace.snapshots_dir)
    else:
        snap = snapshot.take(source_directory, workspace.snapshots_dir, progress=snapshot_progress)
    if workspace.url:  # the server keeps every run's source too
        workspace._artifacts.put_snapshot(snap.hash, snap.path)
    run_id = new_run_id(experiment.name)
    job = JobSpec(
        run_id=run_id, experiment=experiment.name, workspace_path=workspace.address,
        target=target.name, snapshot_hash=snap.hash, snapshot_path=str(snap.path),
        environment=environment.model_dump(mode="json") if environment else {},
        environment_hash=environment.hash if environment else "",
        script=script, command=command, arguments=list(arguments),
        environment_variables=dict(environment_variables),
        max_run_duration_seconds=max_run_duration_seconds,
        use_submitting_python=environment is None, submitting_python=submitting_interpreter(),
        distributed=distributed, max_retries=max_retries, resources=dict(resources or {}),
        inputs=list(inputs or []), output_folders=list(output_folders or []),
    )
    if resume_source and "path" in resume_source:  # the folder is stored with this run, below
        job.resume_from = {"run_id": run_id, "prefix": f"{resume.FOLDER}/", "path": resume_source["path"]}
    else:
        job.resume_from = resume_source
    row = workspace._store.create_run({
        "run_id": run_id, "experiment": experiment.name, "parent_id": parent_id,
        "display_name": display_name, "run_type": "command" if command else "script",
        "status": st.QUEUED, "target": target.name, "definition": json.dumps(job.to_dict()),
        "environment_name": environment.name if environment else None,
        "environment_version": environment.version if environment else None,
        "environment_hash": job.environment_hash or None, "snapshot_hash": snap.hash,
    }, tags=tags, properties=properties)
    if snap.left_out or notes:
        _report_to_driver_log(workspace, run_id, [*(notes or []), *(item.line() for item in snap.left_out)])
    if any("dataset" in source for source in job.inputs):  # the dataset versions this run reads
        from .data.consumption import record_lineage
        record_lineage(workspace._store, run_id, job.inputs)
    try:
        if resume_source and "path" in resume_source:
            workspace._artifacts.put_folder(run_id, resume.FOLDER, resume_source["path"])
        target.submit(job)
    except RunyardError as e:
        workspace._store.set_status(run_id, st.FAILED, error=f"could not start on {target.name}: {e}")
        raise
    except Exception as e:
        workspace._store.set_status(run_id, st.FAILED, error=f"could not start on {target.name}: {e}")
        raise ComputeError(f"compute target {target.name!r} could not start run {run_id}: {e}") from e
    return Run._from_row(workspace, row)


def _report_to_driver_log(workspace: "Workspace", run_id: str, lines: list[str]) -> None:
    """How the run was placed and what the snapshot left out of the source folder (links out
    of it...): said now, and in the run's driver.log."""
    log_dir = workspace._artifacts.run_dir(run_id) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "driver.log", "a", encoding="utf-8") as log:
        for line in lines:
            print(line, file=sys.stderr, flush=True)
            log.write(line + "\n")
