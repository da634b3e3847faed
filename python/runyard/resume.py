"""``resume_from``: a new run starts with a previous run's ``outputs/`` (or a checkpoint folder).

At submit, ``resume_from`` (a ``Run``, a run id of the workspace, or a local folder) becomes
the job's ``resume_from``: ``{"run_id": ...}``, or for a folder ``{"run_id": <the new run>}``
after the folder's files are stored with the new run under ``resume_from/`` (so a job on any
node can fetch them, and the run keeps what it started from). Before the script starts, the
target puts those files in ``./resume_from`` of the job's folder and sets
``RUNYARD_RESUME_FROM`` to that folder.

The same mechanism gives a pipeline step its inputs: a job's ``inputs`` name other runs'
files (``{"run_id", "prefix", "folder"}``), put in ``./<folder>`` of the job's folder before
the script starts, and its ``output_folders`` are made empty there (see ``put_inputs``); a
dataset input (``{"dataset": ...}``) brings a dataset's files the same way.

>>> run = exp.submit(ScriptRunConfig("src", script="train.py", resume_from=previous_run))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .errors import ConfigError

if TYPE_CHECKING:
    from .workspace import Workspace

FOLDER = "resume_from"
ENV_VAR = "RUNYARD_RESUME_FROM"


def resolve(value: Any, workspace: "Workspace") -> dict[str, str] | None:
    """What ``resume_from`` names, checked before any work: ``{"run_id"}`` or ``{"path"}``."""
    if value is None:
        return None
    from .run import Run
    if isinstance(value, Run):
        if value.workspace != workspace:
            raise ConfigError(f"resume_from: run {value.id} is in another workspace")
        return {"run_id": value.id}
    if isinstance(value, os.PathLike) or isinstance(value, str):
        text = os.fspath(value)
        path = Path(text).expanduser()
        if path.is_dir():
            if not any(p.is_file() for p in path.rglob("*")):
                raise ConfigError(f"resume_from: folder {text!r} holds no files")
            return {"path": str(path.resolve())}
        if workspace._store.get_run(text) is not None:
            return {"run_id": text}
        raise ConfigError(f"resume_from {text!r} is neither a folder nor a run of workspace {workspace.name!r}")
    raise ConfigError(f"resume_from: expected a Run, a run id or a folder, got {type(value).__name__}")


def files(source: dict[str, str], workspace: Any) -> Iterator[tuple[str, Path]]:
    """(path under ./resume_from, a local copy) of every file to resume from."""
    prefix = source.get("prefix", "outputs/")
    for name in workspace._artifacts.list(source["run_id"]):
        if name.startswith(prefix) and not name.endswith("/"):
            yield name[len(prefix):], workspace._artifacts.path(source["run_id"], name)


def put_into(folder: Path, source: dict[str, str] | None, workspace: Any) -> Path | None:
    """Copy the files to resume from into ``folder/resume_from``; that folder, or None."""
    if not source:
        return None
    import shutil
    target = folder / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for relative, local in files(source, workspace):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, destination)
    return target


def input_files(inputs: list[dict[str, Any]] | None, workspace: Any) -> Iterator[tuple[str, Path]]:
    """(path in the job's folder, a local copy) of every file of the job's ``inputs``: other
    runs' files, and datasets' (``{"dataset": ...}``, see ``runyard.data.consumption``)."""
    for source in inputs or []:
        if "dataset" in source:
            from .data.consumption import dataset_files
            yield from dataset_files(source, workspace)
            continue
        for relative, local in files(source, workspace):
            yield f"{source['folder']}/{relative}", local


def put_inputs(folder: Path, inputs: list[dict[str, Any]] | None, output_folders: list[str] | None,
               workspace: Any) -> None:
    """Copy the job's ``inputs`` into ``folder`` (a mounted dataset's files are linked) and make
    its (empty) ``output_folders``."""
    import shutil
    for name in [*(source["folder"] for source in inputs or [] if source.get("mode") != "direct"),
                 *(output_folders or [])]:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for source in inputs or []:
        for relative, local in input_files([source], workspace):
            destination = folder / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.get("mode") == "mount":
                destination.symlink_to(Path(local).resolve())
            else:
                shutil.copyfile(local, destination)
