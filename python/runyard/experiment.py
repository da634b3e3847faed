"""``Experiment``: a named group of runs in a workspace."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, Iterator

from . import status as st
from .errors import ConfigError, refuse_unknown_arguments

if TYPE_CHECKING:
    from .run import Run
    from .workspace import Workspace

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$")


class Experiment:
    """``Experiment(ws, "diabetes").submit(config)`` starts a run.

    >>> exp = Experiment(ws, "diabetes")  # doctest: +SKIP
    >>> run = exp.submit(ScriptRunConfig("src", script="train.py"))  # doctest: +SKIP
    """

    def __init__(self, workspace: "Workspace", name: str, **kwargs: Any):
        refuse_unknown_arguments("Experiment()", kwargs, "it takes workspace and name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f"experiment name {name!r}: use 1-200 letters, digits, '_' or '-', "
                              f"starting with a letter or digit")
        from .workspace import check_workspace
        self.workspace = check_workspace(workspace)
        self.name = name

    @property
    def id(self) -> str:
        return self.name

    def submit(self, config: Any, tags: dict[str, Any] | None = None, **kwargs: Any) -> "Run":
        """Validate ``config``, snapshot its source, record the run Queued and start it.

        ``config`` is anything with a ``_submit(experiment, tags, **kwargs)`` method:
        ``ScriptRunConfig``, an estimator, a ``Pipeline`` (with ``pipeline_parameters=``
        and ``regenerate_outputs=``; it returns a ``PipelineRun``), or a ``ParallelRunStep``
        (a job of its own, with ``regenerate_outputs=``).
        """
        submit = getattr(config, "_submit", None)
        if submit is None:
            raise ConfigError(f"Experiment.submit: cannot submit a {type(config).__name__}; "
                              f"pass a ScriptRunConfig, an estimator, a Pipeline or a ParallelRunStep")
        if tags is not None and not isinstance(tags, dict):
            raise ConfigError(f"tags must be a dict, got {type(tags).__name__}")
        return submit(self, tags=tags or {}, **kwargs)

    def start_logging(self, outputs: str | None = None, snapshot_directory: str | None = None, *,
                      display_name: str | None = None, tags: dict[str, Any] | None = None) -> "Run":
        """An interactive run in this process (a notebook, a script): log to it, then ``complete()``.

        ``outputs`` is a folder whose files become the run's ``outputs/`` files when it ends
        (Azure tracked ``./outputs`` unless told otherwise; here only the folder given);
        ``snapshot_directory`` is a folder stored as the run's source.

        >>> run = Experiment(ws, "notebook").start_logging(outputs="outputs", snapshot_directory=".")  # doctest: +SKIP
        """
        from .run import Run, new_run_id, outputs_folder
        folder = outputs_folder(outputs)
        row = {"run_id": new_run_id(self.name), "experiment": self.name, "display_name": display_name,
               "run_type": "interactive", "status": st.RUNNING, "target": "interactive",
               "start_time": time.time()}
        if snapshot_directory is not None:
            from . import snapshot
            from .artifacts import report_left_out
            snap = snapshot.take(snapshot_directory, self.workspace.snapshots_dir)
            report_left_out(snap.left_out)
            row["snapshot_hash"] = snap.hash
        created = self.workspace._store.create_run(row, tags=tags)
        run = Run._from_row(self.workspace, created)
        run._outputs = folder
        return run

    def get_runs(self, type: str | None = None, tags: dict[str, Any] | str | None = None,
                 properties: dict[str, Any] | None = None, include_children: bool = False,
                 status: str | None = None) -> Iterator["Run"]:
        """Runs newest first, filtered by type, tags (a dict, or a key that must be present),
        properties and status."""
        from .run import iter_runs
        if isinstance(tags, str):
            tags = {tags: None}
        if status is not None and status not in st.ALL:
            raise ConfigError(f"status {status!r} is not one of: {', '.join(st.ALL)}")
        rows = self.workspace._store.list_runs(experiment=self.name, top_level_only=not include_children,
                                               status=status, tags=tags, run_type=type)
        runs = iter_runs(self.workspace, rows)
        if not properties:
            return runs
        return (r for r in runs if all(r.get_properties().get(k) == str(v) for k, v in properties.items()))

    @staticmethod
    def list(workspace: "Workspace") -> list["Experiment"]:
        return list(workspace.experiments.values())

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, workspace={self.workspace.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and other.name == self.name and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash((self.name, self.workspace))
