"""``Run``: one execution, seen from the driver (status, wait, metrics, files,
children) and from inside a job (``Run.get_context()`` and the ``log_*`` calls)."""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

from . import metrics as m
from . import status as st
from .errors import ConfigError, RunFailedError, RunNotFoundError, RunyardError, refuse_unknown_arguments

if TYPE_CHECKING:
    from .experiment import Experiment
    from .workspace import Workspace

ENV_RUN_ID = "RUNYARD_RUN_ID"
ENV_TRACKING_URI = "RUNYARD_TRACKING_URI"
ENV_SPOOL = "RUNYARD_SPOOL"  # a local job's spool folder (store/spool.py)
#: on SIGTERM, how long a job tries to reach the store with its last metrics before it spills them
SIGTERM_FLUSH_S = 1.0


def new_run_id(experiment: str) -> str:
    return f"{experiment}_{int(time.time())}_{secrets.token_hex(4)}"


def outputs_folder(outputs: Any) -> Path | None:
    """The folder an ``outputs=`` argument names (None or False: none), checked."""
    if outputs is None or outputs is False:
        return None
    if not isinstance(outputs, (str, os.PathLike)):
        raise ConfigError(f"outputs must be a folder path, got {type(outputs).__name__}")
    return Path(outputs).expanduser().absolute()


def _check_path_argument(field: str, value: Any, what: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{field} must be {what} (text), got {type(value).__name__}")


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Run:
    """A run of an experiment. ``Run(experiment, run_id)`` re-attaches to an existing one.

    >>> run = experiment.submit(ScriptRunConfig(".", script="train.py"))  # doctest: +SKIP
    >>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
    >>> run.get_metrics()  # doctest: +SKIP
    """

    _context: "Run | None" = None

    def __init__(self, experiment: "Experiment", run_id: str, outputs: str | os.PathLike | None = None,
                 **kwargs: Any):
        """``outputs``: a folder whose files become the run's ``outputs/`` files when this
        object completes (or fails, or cancels) the run; only for a run its code ends (one
        from ``start_logging`` or ``child_run``), as a job's target uploads ``./outputs`` itself."""
        refuse_unknown_arguments("Run()", kwargs, "it takes experiment, run_id and outputs")
        from .experiment import Experiment
        if not isinstance(experiment, Experiment):
            raise ConfigError(f"experiment must be an Experiment (Experiment(ws, name)), got {type(experiment).__name__}")
        row = experiment.workspace._store.get_run(run_id)
        if row is None or row["experiment"] != experiment.name:
            raise RunNotFoundError(
                f"no run {run_id!r} in experiment {experiment.name!r} of workspace {experiment.workspace.name!r}")
        self._init(experiment, row)
        self._track_outputs(outputs)

    def _init(self, experiment: "Experiment", row: dict[str, Any]) -> None:
        self.experiment = experiment
        self._row = row
        self._buffer: m.MetricBuffer | None = None
        self._in_job = False
        self._outputs: Path | None = None

    def _track_outputs(self, outputs: str | os.PathLike | None) -> None:
        """Remember ``outputs``, a folder uploaded as ``outputs/`` when this object ends the run."""
        folder = outputs_folder(outputs)
        if folder is not None and not self._owns_status():
            raise ConfigError(f"outputs={os.fspath(outputs)!r}: run {self.id} is a {self.type} run, whose "
                              f"target uploads its ./outputs folder; add other files with "
                              f"run.upload_folder(name, path)")
        self._outputs = folder

    def _upload_outputs(self) -> None:
        """Upload the tracked outputs folder (if any) under ``outputs/``, once."""
        folder, self._outputs = self._outputs, None
        if folder is not None and folder.is_dir() and any(folder.iterdir()):
            self.upload_folder("outputs", folder)

    @classmethod
    def _from_row(cls, workspace: "Workspace", row: dict[str, Any]) -> "Run":
        from .experiment import Experiment
        if cls is Run and row["run_type"] == "pipeline":
            from .pipeline.run import PipelineRun
            cls = PipelineRun
        elif cls is Run and row["run_type"] == "hyperdrive":
            from .hyperdrive.run import HyperDriveRun
            cls = HyperDriveRun
        elif cls is Run and row["run_type"] == "automl":
            from .automl.run import AutoMLRun
            cls = AutoMLRun
        run = cls.__new__(cls)
        run._init(Experiment(workspace, row["experiment"]), row)
        return run

    @classmethod
    def _from_id(cls, workspace: "Workspace", run_id: str) -> "Run":
        row = workspace._store.get_run(run_id)
        if row is None:
            where = getattr(workspace, "url", None) or workspace.path
            raise RunNotFoundError(f"no run {run_id!r} in workspace {workspace.name!r} ({where})")
        return cls._from_row(workspace, row)

    @staticmethod
    def get(workspace: "Workspace", run_id: str) -> "Run":
        """A run of ``workspace`` by id, whatever its experiment."""
        return Run._from_id(workspace, run_id)

    @classmethod
    def get_context(cls, allow_offline: bool = True) -> "Run":
        """The run this process executes in; outside any job, an offline run that prints.

        >>> run = Run.get_context()
        >>> run.log("accuracy", 0.9)  # doctest: +SKIP
        """
        # An offline run made earlier is no answer to allow_offline=False.
        if cls._context is not None and (allow_offline or not isinstance(cls._context, _OfflineRun)):
            return cls._context
        run_id = os.environ.get(ENV_RUN_ID)
        uri = os.environ.get(ENV_TRACKING_URI)
        if not run_id or not uri:
            if not allow_offline:
                raise RunyardError("Run.get_context(allow_offline=False) outside a runyard job: "
                                   f"{ENV_RUN_ID} and {ENV_TRACKING_URI} are not set")
            cls._context = _OfflineRun()
            return cls._context
        row = None
        if uri.startswith(("http://", "https://")):  # a workspace server; token from RUNYARD_TOKEN
            from .workspace import Workspace
            workspace = Workspace(uri)
        elif uri.startswith("spool://"):  # inside a container: relayed by the run's supervisor
            from .store.spool import SpoolWorkspace
            workspace = SpoolWorkspace(uri[len("spool://"):])
        elif os.environ.get(ENV_SPOOL):  # a local job: metrics relayed by its supervisor
            from .store.spool import local_job_workspace
            workspace, row = local_job_workspace(uri, os.environ[ENV_SPOOL], run_id)
        else:
            from .workspace import Workspace
            workspace = Workspace(uri, _check_lost_runs=False)
        run = cls._from_row(workspace, row) if row else cls._from_id(workspace, run_id)
        run._in_job = True
        if os.environ.get("RUNYARD_AUTOLOG"):  # set by framework estimators
            from .autolog import enable_from_env
            enable_from_env(run)
        if "rpytools" not in sys.modules:  # embedded in R (reticulate), R owns the signals
            _flush_on_sigterm()
        cls._context = run
        return run

    # -- identity ------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._row["run_id"]

    @property
    def number(self) -> int:
        return self._row["run_number"]

    @property
    def display_name(self) -> str | None:
        return self._row["display_name"]

    @property
    def type(self) -> str:
        return self._row["run_type"]

    @property
    def workspace(self) -> "Workspace":
        return self.experiment.workspace

    @property
    def parent(self) -> "Run | None":
        parent_id = self._row["parent_id"]
        return Run._from_id(self.workspace, parent_id) if parent_id else None

    @property
    def status(self) -> str:
        return self.get_status()

    def _store(self):
        return self.workspace._store

    def _refresh(self) -> dict[str, Any]:
        row = self._store().get_run(self.id)
        if row is None:
            raise RunNotFoundError(f"run {self.id} no longer exists")
        self._row = row
        return row

    def __repr__(self) -> str:
        return f"Run(experiment={self.experiment.name!r}, id={self.id!r}, status={self._row['status']!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash(self.id)

    # -- status and details ----------------------------------------------------
    def get_status(self) -> str:
        return self._refresh()["status"]

    def get_details(self) -> dict[str, Any]:
        """Times, target, environment and snapshot hashes, exit code, error, tags, files."""
        row = self._refresh()
        definition = json.loads(row["definition"]) if row["definition"] else {}
        error = row["error"] if row["status"] != st.COMPLETED else None
        log_files = {n: str(self.workspace._artifacts.run_dir(self.id) / n)
                     for n in self.get_file_names() if n.startswith("logs/")}
        duration = None
        if row["start_time"]:
            duration = round((row["end_time"] or time.time()) - row["start_time"], 3)
        return {
            "runId": row["run_id"],
            "experimentName": row["experiment"],
            "runNumber": row["run_number"],
            "displayName": row["display_name"],
            "runType": row["run_type"],
            "parentRunId": row["parent_id"],
            "status": row["status"],
            "target": row["target"],
            "createdTimeUtc": _iso(row["created_at"]),
            "startTimeUtc": _iso(row["start_time"]),
            "endTimeUtc": _iso(row["end_time"]),
            "durationSeconds": duration,
            "exitCode": row["exit_code"],
            "error": {"message": error} if error else None,
            "environment": {"name": row["environment_name"], "version": row["environment_version"],
                            "hash": row["environment_hash"]},
            "environmentHash": row["environment_hash"],
            "snapshotId": row["snapshot_hash"],
            # Azure's runDefinition names the target and environment too; v1 code reads them there
            "runDefinition": {**{k: definition.get(k) for k in (
                "script", "command", "arguments", "max_run_duration_seconds", "environment_variables")},
                "target": row["target"],
                "environment": {"name": row["environment_name"], "version": row["environment_version"]}},
            "host": row["host"],
            "properties": self.get_properties(),
            "tags": self.get_tags(),
            "statusHistory": [{"status": e["status"], "timeUtc": _iso(e["time"])}
                              for e in self._store().status_events(self.id)],
            "logFiles": log_files,
        }

    def get_details_with_logs(self) -> dict[str, Any]:
        details = self.get_details()
        details["logFiles"] = {n: Path(p).read_text(errors="replace") for n, p in details["logFiles"].items()}
        return details

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True, timeout: float | None = None,
                            output: Any = None) -> dict[str, Any]:
        """Block until the run ends; with ``show_output`` stream its logs as they grow
        (to stdout, or to ``output``: a text stream or a function taking each chunk).

        Returns ``get_details()``. A Failed run raises ``RunFailedError`` unless
        ``raise_on_error=False``. A run's outputs and logs are stored before it ends (while it
        is Finalizing), so it always returns after Azure's post-processing:
        ``wait_post_processing`` has nothing more to wait for.
        """
        out = _writer(output)
        if show_output:
            print(f"RunId: {self.id}", file=out)
            where = f"Target: {self._row['target']}" if self._row["target"] else f"Type: {self.type}"  # a driver's runs
            print(f"Experiment: {self.experiment.name}   {where}\n", file=out, flush=True)
        tailer = _LogTailer(self.workspace._artifacts.run_dir(self.id) / "logs") if show_output else None
        deadline = time.monotonic() + timeout if timeout else None
        started = next_check = time.monotonic()
        while True:
            status = self.get_status()
            if tailer:
                tailer.emit(out)
            if status in st.TERMINAL:
                break
            now = time.monotonic()
            if deadline and now > deadline:
                raise RunyardError(f"run {self.id} is still {status} after {timeout} s")
            if now >= next_check and not self._owns_status():
                self._target().check(self.id)
                next_check = now + 2.0
            # poll briskly while a short run may be ending, then back off
            time.sleep(0.025 if now - started < 5 else 0.1 if now - started < 60 else 0.5)
        if tailer:
            tailer.emit(out)
        details = self.get_details()
        if show_output:
            print(f"\nExecution Summary\n=================\nRunId: {self.id}\nStatus: {details['status']}",
                  file=out)
            if details["error"]:
                print(f"Error: {details['error']['message']}", file=out)
            out.flush()
        if raise_on_error and details["status"] == st.FAILED:
            message = details["error"]["message"] if details["error"] else "no error recorded"
            raise RunFailedError(f"run {self.id} failed: {message}")
        return details

    # -- metrics -------------------------------------------------------------
    def _metric_buffer(self) -> m.MetricBuffer:
        if self._buffer is None:
            store = self._store()
            self._buffer = m.MetricBuffer(self.id, lambda rows, batch_id: store.log_metrics(rows, batch_id=batch_id))
        return self._buffer

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a number, string or bool; logging a name again makes it a list. ``step`` (the
        epoch or iteration) and ``description`` are stored with the value.

        >>> run.log("mse", 3010.5, step=3)  # doctest: +SKIP
        """
        num, text = m.encode(m.check_name(name), value)
        self._metric_buffer().add(name, m.SCALAR, num, text, m.check_step(step), m.check_description(description))

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        m.check_name(name)
        values = list(value)
        for v in values:
            m.encode(name, v)
        self._metric_buffer().add(name, m.LIST, None, json.dumps(_plain(values)),
                                  description=m.check_description(description))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Add one row to a table metric: ``run.log_row("losses", epoch=1, loss=0.3)``."""
        m.check_name(name)
        if not kwargs:
            raise ConfigError(f"metric {name!r}: log_row takes the row's columns as named values, "
                              f"e.g. log_row({name!r}, epoch=1, loss=0.3)")
        for key, v in kwargs.items():
            m.encode(f"{name}.{key}", v)
        self._metric_buffer().add(name, m.ROW, None, json.dumps(_plain(kwargs)),
                                  description=m.check_description(description))

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        """Log columns at once: ``run.log_table("t", {"x": [1, 2], "y": [3, 4]})``."""
        m.check_name(name)
        if not isinstance(value, dict) or not all(isinstance(v, (list, tuple)) for v in value.values()):
            raise ConfigError(f"metric {name!r}: log_table takes a dict of column name -> list of values")
        self._metric_buffer().add(name, m.TABLE, None, json.dumps(_plain({k: list(v) for k, v in value.items()})),
                                  description=m.check_description(description))

    def log_image(self, name: str, path: str | os.PathLike | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Store an image file (``path``) or a matplotlib figure/pyplot (``plot``) with the run."""
        m.check_name(name)
        if (path is None) == (plot is None):
            raise ConfigError(f"log_image {name!r}: give exactly one of path= or plot=")
        if path is not None:
            suffix = Path(path).suffix or ".png"
            stored = self.upload_file(f"images/{name}{suffix}", path)
        else:
            buffer = io.BytesIO()
            _save_plot(name, plot, buffer)
            buffer.seek(0)
            stored = self.upload_file(f"images/{name}.png", buffer)
        self._metric_buffer().add(name, m.IMAGE, None, json.dumps(stored), description=m.check_description(description))

    def flush(self) -> None:
        """Write buffered metrics now (done automatically in batches, every second and at exit)."""
        if self._buffer is not None:
            self._buffer.flush()

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict[str, Any]:
        """Metrics of this run: ``{name: value}``; a name logged several times gives a list.

        With ``recursive=True``, ``{run_id: {name: value}}`` for this run and its descendants
        (``run_type``: only those of that type). Every value is stored with the run, so there is
        nothing for Azure's ``populate`` to fetch: the answer is whole either way.
        """
        self.flush()
        if not recursive:
            return m.assemble(self._store().get_metric_rows([self.id], name))
        runs = [self, *self.get_children(recursive=True)]
        if run_type:
            runs = [r for r in runs if r.type == run_type]
        rows = self._store().get_metric_rows([r.id for r in runs], name)
        return {r.id: m.assemble([row for row in rows if row["run_id"] == r.id]) for r in runs}

    def get_metric_history(self, name: str) -> list[dict[str, Any]]:
        """Each value logged under ``name``, in logging order, with its ``step``, ``time`` (seconds
        since the epoch) and ``description``: what ``get_metrics`` folds into one value or list.

        >>> [(h["step"], h["value"]) for h in run.get_metric_history("loss")]  # doctest: +SKIP
        [(0, 0.9), (1, 0.5)]
        """
        self.flush()
        return m.history(self._store().get_metric_rows([self.id], m.check_name(name)))

    # -- files ---------------------------------------------------------------
    def upload_file(self, name: str, path_or_stream: str | os.PathLike | BinaryIO) -> str:
        return self.workspace._artifacts.put_file(self.id, name, path_or_stream)

    def upload_files(self, names: list[str], paths: list[str | os.PathLike]) -> list[str]:
        if len(names) != len(paths):
            raise ConfigError(f"upload_files: {len(names)} names but {len(paths)} paths")
        return [self.upload_file(n, p) for n, p in zip(names, paths)]

    def upload_folder(self, name: str, path: str | os.PathLike) -> list[str]:
        _check_path_argument("name", name, "the folder's name in the run")
        return self.workspace._artifacts.put_folder(self.id, name, path)

    def get_file_names(self) -> list[str]:
        return self.workspace._artifacts.list(self.id)

    def get_partition_results(self, status: str | None = None) -> list[dict[str, Any]]:
        """A ParallelRunStep run's partition table: one dict per mini batch (``batch_id``,
        ``input``, ``partition`` (its key values), ``status`` ('Succeeded', 'Failed' or
        'NotRun'), ``tries``, ``duration_s``, ``items``, ``results``, ``error``, ``traceback``,
        ``reused_from``: the earlier run that ran it, ``models``: the ids of the models it
        registered with ``EntryScript().register_model``), in mini batch order; ``status`` keeps
        those rows only. ``pandas.DataFrame(rows)`` makes it a table. A reused step reads the
        run it reused.

        >>> failed = step_run.get_partition_results(status="Failed")  # doctest: +SKIP
        >>> print(failed[0]["partition"], failed[0]["traceback"])  # doctest: +SKIP
        """
        from .pipeline import reuse
        from .pipeline._parallel import table
        if status is not None and status not in table.STATUSES:
            raise ConfigError(f"get_partition_results: status must be one of {', '.join(table.STATUSES)} or None, "
                              f"got {status!r}")
        holder = self.get_properties().get(reuse.REUSED_RUN_PROPERTY) or self.id
        if table.FILE not in self.workspace._artifacts.list(holder):
            raise ConfigError(f"run {self.id} keeps no partition table: it is not a ParallelRunStep's run, or it "
                              f"ended before planning its mini batches (see its log)")
        with tempfile.TemporaryDirectory(prefix="runyard-partitions-") as tmp:
            path = self.workspace._artifacts.download(holder, table.FILE, Path(tmp) / "partitions.json")
            return table.partition_results(table.read(path), status)

    def download_file(self, name: str, output_file_path: str | os.PathLike | None = None) -> str:
        _check_path_argument("name", name, "the file's name in the run")
        _check_path_argument("output_file_path", output_file_path, "a path", optional=True)
        target = Path(output_file_path) if output_file_path else Path(Path(name).name)
        if target.is_dir():
            target = target / Path(name).name
        return str(self._download(name, target))

    def _download(self, name: str, target: Path) -> Path:
        return self.workspace._artifacts.download(self.id, name, target)

    def download_files(self, prefix: str | None = None, output_directory: str | os.PathLike | None = None,
                       output_paths: list[str] | None = None, append_prefix: bool = True) -> list[str]:
        """Download every file (or those under ``prefix``) into ``output_directory``."""
        _check_path_argument("prefix", prefix, "the start of the files' names", optional=True)
        _check_path_argument("output_directory", output_directory, "a folder path", optional=True)
        out = Path(output_directory or ".")
        names = [n for n in self.get_file_names() if not prefix or n.startswith(prefix)]
        if output_paths is not None and len(output_paths) != len(names):
            raise ConfigError(f"output_paths has {len(output_paths)} entries for {len(names)} files")
        written = []
        for i, name in enumerate(names):
            if output_paths is not None:
                target = Path(output_paths[i])
            else:
                rel = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
                target = out / rel
            written.append(str(self._download(name, target)))
        return written

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | os.PathLike | None = None) -> str:
        """Save the source folder this run ran from as a zip in folder ``path`` (default: the
        current folder) and return the zip's path. ``snapshot_id`` may name the run's snapshot
        (``get_details()["snapshotId"]``); a run has one, so no other id is accepted.

        >>> run.restore_snapshot(path="restored")  # doctest: +SKIP
        'restored/1f3c...e9.zip'
        """
        from . import snapshot
        from .artifacts import copy_atomically
        _check_path_argument("path", path, "a folder path", optional=True)
        snapshot_hash = self._refresh()["snapshot_hash"]
        if snapshot_hash is None:
            raise ConfigError(f"run {self.id} has no snapshot (an interactive run started without "
                              f"snapshot_directory): there is no source to restore")
        if snapshot_id is not None and snapshot_id != snapshot_hash:
            raise ConfigError(f"restore_snapshot: snapshot_id {snapshot_id!r} is not run {self.id}'s snapshot "
                              f"({snapshot_hash}); leave snapshot_id out to restore it")
        if self.workspace.url:  # the server keeps every run's source
            self.workspace._artifacts.get_snapshot(snapshot_hash, self.workspace.snapshots_dir)
        stored = snapshot.stored(snapshot_hash, self.workspace.snapshots_dir)
        target = Path(path if path is not None else ".") / f"{snapshot_hash}.zip"
        copy_atomically(stored.path, target)
        return str(target)

    def register_model(self, model_name: str, model_path: str | None = None, tags: dict[str, Any] | None = None,
                       properties: dict[str, Any] | None = None, model_framework: str | None = None,
                       model_framework_version: str | None = None, description: str | None = None,
                       datasets: list[tuple[str, Any]] | None = None, sample_input_dataset: Any = None,
                       sample_output_dataset: Any = None, resource_configuration: dict[str, Any] | None = None,
                       **kwargs: Any):
        """Register this run's file or folder ``model_path`` (default: ``model_name``) as the
        next version of model ``model_name``, with this run and ``datasets`` as its lineage.

        >>> run.register_model("diabetes", "outputs/model.pkl", datasets=[("training data", ds)])  # doctest: +SKIP
        """
        from .model import Model
        return Model._register_from_run(
            self, model_name, model_path, tags=tags, properties=properties, model_framework=model_framework,
            model_framework_version=model_framework_version, description=description, datasets=datasets,
            sample_input_dataset=sample_input_dataset, sample_output_dataset=sample_output_dataset,
            resource_configuration=resource_configuration, **kwargs)

    def get_log(self) -> str:
        path = self.workspace._artifacts.run_dir(self.id) / "logs" / "driver.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    # -- datasets --------------------------------------------------------------
    @property
    def input_datasets(self) -> dict[str, Any]:
        """The datasets this run reads, by input name (``as_named_input(name)``); in the job, a
        downloaded or mounted one reads the files in the job's folder.

        >>> frame = Run.get_context().input_datasets["train"].to_pandas_dataframe()  # doctest: +SKIP
        """
        from .data.consumption import input_datasets
        return input_datasets(self)

    @property
    def output_datasets(self) -> dict[str, Any]:
        """The dataset versions this run wrote (``register_on_complete``), by output name."""
        from .data.consumption import output_datasets
        return output_datasets(self)

    # -- tags and properties ---------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        if not isinstance(tags, dict):
            raise ConfigError(f"tags must be a dict, got {type(tags).__name__}")
        self._store().set_tags(self.id, tags)

    def remove_tags(self, tags: list[str]) -> None:
        self._store().remove_tags(self.id, tags)

    def get_tags(self) -> dict[str, str | None]:
        return self._store().get_tags(self.id)

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Write-once key/values (a key cannot change once set)."""
        if not isinstance(properties, dict):
            raise ConfigError(f"properties must be a dict, got {type(properties).__name__}")
        self._store().add_properties(self.id, properties)

    def get_properties(self) -> dict[str, str | None]:
        return self._store().get_properties(self.id)

    # -- children --------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None,
                  outputs: str | os.PathLike | None = None) -> "Run":
        """A child run that logs on its own; complete it, or use it as a context manager.
        ``outputs``: a folder uploaded as the child's ``outputs/`` when it ends.

        >>> with run.child_run("fold-1", outputs="fold-1-out") as child:  # doctest: +SKIP
        ...     child.log("auc", 0.91)
        """
        folder = outputs_folder(outputs)
        row = self._store().create_run({
            "run_id": run_id or new_run_id(self.experiment.name), "experiment": self.experiment.name,
            "parent_id": self.id, "display_name": name, "run_type": "child", "status": st.RUNNING,
            "target": self._row["target"], "start_time": time.time(),
        })
        child = Run._from_row(self.workspace, row)
        child._outputs = folder
        return child

    def create_children(self, count: int | None = None, tag_key: str | None = None,
                        tag_values: list[str] | None = None) -> list["Run"]:
        if count is None and not tag_values:
            raise ConfigError("create_children needs count= or tag_values=")
        values = list(tag_values) if tag_values else [None] * int(count)
        children = []
        for value in values:
            child = self.child_run()
            if tag_key and value is not None:
                child.tag(tag_key, value)
            children.append(child)
        return children

    def get_children(self, recursive: bool = False, tags: dict[str, Any] | None = None,
                     properties: dict[str, Any] | None = None, type: str | None = None,
                     status: str | None = None) -> list["Run"]:
        rows = self._store().list_runs(parent_id=self.id, tags=tags, status=status, run_type=type)
        children = [Run._from_row(self.workspace, r) for r in reversed(rows)]
        if properties:
            children = [c for c in children
                        if all(c.get_properties().get(k) == str(v) for k, v in properties.items())]
        if recursive:
            for child in list(children):
                children.extend(child.get_children(recursive=True, tags=tags, properties=properties,
                                                   type=type, status=status))
        return children

    # -- lifecycle -------------------------------------------------------------
    def _owns_status(self) -> bool:
        """Interactive and child runs are ended by their code; jobs by their compute target."""
        return self._row["run_type"] in ("interactive", "child")

    def complete(self, _set_status: bool = True) -> None:
        """Mark the run Completed (inside a job, the target does that when the script exits)."""
        self.flush()
        self._upload_outputs()
        if _set_status and self._owns_status():
            self._store().set_status(self.id, st.COMPLETED)
            self._store().end_active_children(self.id, st.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True) -> None:
        """Mark the run Failed with ``error_details`` (inside a job: when the script exits);
        an ``error_code`` (Azure's classification, e.g. ``"UserError"``) heads the stored error.

        >>> run.fail("no rows left after filtering", error_code="UserError")  # doctest: +SKIP
        """
        self.flush()
        self._upload_outputs()
        message = str(error_details) if error_details is not None else "the run called fail()"
        if error_code is not None:
            message = f"{error_code}: {message}"
        if _set_status and self._owns_status():
            self._store().set_status(self.id, st.FAILED, error=message)
            self._store().end_active_children(self.id, st.FAILED)
        else:
            self._store().update_run(self.id, error=message)

    def cancel(self) -> None:
        """Stop the run: its process gets SIGTERM, then SIGKILL after a grace period."""
        self.flush()
        row = self._refresh()
        if row["status"] in st.TERMINAL:
            return
        if self._owns_status():
            self._upload_outputs()
            self._store().set_status(self.id, st.CANCELED)
            self._store().end_active_children(self.id, st.CANCELED)
            return
        self._target().cancel(self.id)

    def _target(self):
        from .compute import get_target
        return get_target(self.workspace, self._row["target"])

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.complete()
        else:
            self.fail(f"{exc_type.__name__}: {exc}")


class _OfflineRun(Run):
    """What ``Run.get_context()`` returns outside a job: a run kept in this process.

    It keeps what a run keeps: metrics (printed as they are logged, with their step and
    description), tags, properties, status, child runs, and files (uploads are copied into a
    temporary folder, so ``get_file_names`` lists them and ``download_file`` copies them
    back). What needs a workspace (``experiment``, ``workspace``, ``register_model``) is a
    clear error.

    >>> run = Run.get_context()
    >>> run.log("loss", 0.5, step=1)  # doctest: +SKIP
    [runyard offline] loss (step 1): 0.5
    """

    #: where offline runs keep their files: ``<temp>/runyard-offline/runs/<run id>/``
    FILES_ROOT = Path(tempfile.gettempdir()) / "runyard-offline"

    def __init__(self, parent: "_OfflineRun | None" = None, name: str | None = None,
                 run_id: str | None = None, outputs: str | os.PathLike | None = None) -> None:
        from .artifacts import ArtifactStore
        from .ids import check_id
        self._offline_id = check_id(run_id, "run_id") if run_id is not None else f"OfflineRun_{secrets.token_hex(4)}"
        self._parent = parent
        self._name = name
        self._metrics: list[dict[str, Any]] = []
        self._tags: dict[str, str | None] = {}
        self._properties: dict[str, str | None] = {}
        self._children: list[_OfflineRun] = []
        self._files = ArtifactStore(self.FILES_ROOT)
        self._outputs = outputs_folder(outputs)
        self._buffer = None
        self._in_job = False
        self._created = time.time()
        self._end: float | None = None
        self._error: str | None = None
        self._history = [(st.RUNNING, self._created)]

    # -- identity ------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._offline_id

    @property
    def number(self) -> int:
        return 0

    @property
    def display_name(self) -> str | None:
        return self._name

    @property
    def type(self) -> str:
        return "offline"

    @property
    def parent(self) -> "_OfflineRun | None":
        return self._parent

    @property
    def experiment(self) -> "Experiment":
        raise RunyardError(f"{self.id} is an offline run (Run.get_context() outside a runyard job): it has no "
                           f"experiment; submit the script with experiment.submit(ScriptRunConfig(...)), or "
                           f"open a workspace with Workspace.from_config()")

    @property
    def workspace(self) -> "Workspace":
        raise RunyardError(f"{self.id} is an offline run (Run.get_context() outside a runyard job): it has no "
                           f"workspace; open one with Workspace.from_config()")

    def __repr__(self) -> str:
        return f"_OfflineRun(id={self.id!r}, status={self.get_status()!r})"

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return hash(self.id)

    def _owns_status(self) -> bool:
        return True

    # -- metrics -------------------------------------------------------------
    def _add(self, name: str, kind: str, num: float | None, text: str | None, shown: Any,
             description: str | None, step: int | None = None) -> None:
        self._metrics.append({"run_id": self.id, "name": name, "kind": kind, "value_num": num,
                              "value_text": text, "logged_at": time.time(), "step": m.check_step(step),
                              "description": m.check_description(description)})
        at = f" (step {step})" if step is not None else ""
        print(f"[runyard offline] {name}{at}: {shown}", flush=True)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        num, text = m.encode(m.check_name(name), value)
        self._add(name, m.SCALAR, num, text, value, m.check_description(description), m.check_step(step))

    def log_list(self, name: str, value: list[Any], description: str = "") -> None:
        m.check_name(name)
        values = list(value)
        for v in values:
            m.encode(name, v)
        self._add(name, m.LIST, None, json.dumps(_plain(values)), values, description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        m.check_name(name)
        if not kwargs:
            raise ConfigError(f"metric {name!r}: log_row takes the row's columns as named values, "
                              f"e.g. log_row({name!r}, epoch=1, loss=0.3)")
        for key, v in kwargs.items():
            m.encode(f"{name}.{key}", v)
        self._add(name, m.ROW, None, json.dumps(_plain(kwargs)), kwargs, description)

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        m.check_name(name)
        if not isinstance(value, dict) or not all(isinstance(v, (list, tuple)) for v in value.values()):
            raise ConfigError(f"metric {name!r}: log_table takes a dict of column name -> list of values")
        columns = {k: list(v) for k, v in value.items()}
        self._add(name, m.TABLE, None, json.dumps(_plain(columns)), columns, description)

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        """The image is kept as this offline run's file ``images/<name>.<suffix>``; its path
        on this machine is printed and is the metric's value."""
        m.check_name(name)
        if (path is None) == (plot is None):
            raise ConfigError(f"log_image {name!r}: give exactly one of path= or plot=")
        if path is not None:
            stored = self._keep(f"images/{name}{Path(path).suffix or '.png'}", path)
        else:
            buffer = io.BytesIO()
            _save_plot(name, plot, buffer)
            buffer.seek(0)
            stored = self._keep(f"images/{name}.png", buffer)
        local = str(self._files.path(self.id, stored))
        self._add(name, m.IMAGE, None, json.dumps(local), local, description)

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: str | None = None,
                    populate: bool = False) -> dict[str, Any]:
        if not recursive:
            return m.assemble([r for r in self._metrics if name is None or r["name"] == name])
        runs = [self, *self.get_children(recursive=True)]
        return {r.id: r.get_metrics(name) for r in runs if not run_type or r.type == run_type}

    def get_metric_history(self, name: str) -> list[dict[str, Any]]:
        """Each value logged under ``name`` with its step, time and description."""
        return m.history([r for r in self._metrics if r["name"] == m.check_name(name)])

    def flush(self) -> None:
        pass

    # -- files ---------------------------------------------------------------
    def _keep(self, name: str, path_or_stream: str | os.PathLike | BinaryIO) -> str:
        return self._files.put_file(self.id, name, path_or_stream)

    def upload_file(self, name: str, path_or_stream: str | os.PathLike | BinaryIO) -> str:
        """Copy the file (or stream) into this offline run's folder as ``name``."""
        stored = self._keep(name, path_or_stream)
        print(f"[runyard offline] upload_file {stored}: {self._files.path(self.id, stored)}", flush=True)
        return stored

    def upload_folder(self, name: str, path: str | os.PathLike) -> list[str]:
        stored = self._files.put_folder(self.id, name, path)
        print(f"[runyard offline] upload_folder {name}: {len(stored)} file(s) in "
              f"{self._files.run_dir(self.id) / name}", flush=True)
        return stored

    def get_file_names(self) -> list[str]:
        return self._files.list(self.id)

    def _download(self, name: str, target: Path) -> Path:
        return self._files.download(self.id, name, target)

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | os.PathLike | None = None) -> str:
        raise ConfigError("restore_snapshot: an offline run (a script run outside any job) has no snapshot; "
                          "its source is the folder it runs in")

    def get_log(self) -> str:
        """An offline run's output goes to this process's stdout: it has no log file."""
        return ""

    # -- datasets ------------------------------------------------------------
    @property
    def input_datasets(self) -> dict[str, Any]:
        """An offline run reads no dataset inputs (they are given to jobs): an empty dict."""
        return _NoInputs()

    @property
    def output_datasets(self) -> dict[str, Any]:
        return {}

    # -- tags and properties -------------------------------------------------
    def set_tags(self, tags: dict[str, Any]) -> None:
        self._tags.update(_key_values(tags, "tags"))

    def remove_tags(self, tags: list[str]) -> None:
        if isinstance(tags, str) or not isinstance(tags, (list, tuple, set)):
            raise ConfigError(f"remove_tags takes a list of tag names, got {type(tags).__name__}")
        for key in tags:
            self._tags.pop(key, None)

    def get_tags(self) -> dict[str, str | None]:
        return dict(self._tags)

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Write-once key/values (a key cannot change once set)."""
        given = _key_values(properties, "properties")
        for key, value in given.items():
            if key in self._properties and self._properties[key] != value:
                raise ConfigError(f"property {key!r} of run {self.id} is already {self._properties[key]!r}; "
                                  f"properties cannot change (use tags for mutable values)")
        self._properties.update(given)

    def get_properties(self) -> dict[str, str | None]:
        return dict(self._properties)

    # -- children ------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None,
                  outputs: str | os.PathLike | None = None) -> "_OfflineRun":
        """An offline run whose parent is this one (``get_children`` lists it)."""
        if run_id is not None and any(c.id == run_id for c in self._children):
            raise ConfigError(f"run_id {run_id!r}: this offline run already has a child with that id")
        child = _OfflineRun(parent=self, name=name, run_id=run_id, outputs=outputs)
        self._children.append(child)
        return child

    def get_children(self, recursive: bool = False, tags: dict[str, Any] | str | None = None,
                     properties: dict[str, Any] | None = None, type: str | None = None,
                     status: str | None = None) -> list["Run"]:
        if isinstance(tags, str):
            tags = {tags: None}
        found: list[Run] = []
        for child in self._children:
            if child._matches(tags, properties, type, status):
                found.append(child)
            if recursive:
                found.extend(child.get_children(recursive=True, tags=tags, properties=properties, type=type,
                                                status=status))
        return found

    def _matches(self, tags: dict[str, Any] | None, properties: dict[str, Any] | None, type: str | None,
                 status: str | None) -> bool:
        return ((type is None or type == self.type) and (status is None or status == self.get_status())
                and all(k in self._tags and (v is None or self._tags[k] == str(v)) for k, v in (tags or {}).items())
                and all(self._properties.get(k) == str(v) for k, v in (properties or {}).items()))

    # -- status and lifecycle ------------------------------------------------
    def get_status(self) -> str:
        return self._history[-1][0]

    def _end_as(self, status: str, error: str | None = None) -> None:
        if self.get_status() in st.TERMINAL:
            return  # moot, as for a stored run: it already ended
        self._upload_outputs()
        for child in self._children:
            child._end_as(status)
        self._end, self._error = time.time(), error
        self._history.append((status, self._end))

    def complete(self, _set_status: bool = True) -> None:
        if _set_status:
            self._end_as(st.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None, _set_status: bool = True) -> None:
        message = str(error_details) if error_details is not None else "the run called fail()"
        if error_code is not None:
            message = f"{error_code}: {message}"
        print(f"[runyard offline] fail: {message}", flush=True)
        if _set_status:
            self._end_as(st.FAILED, message)
        else:
            self._error = message

    def cancel(self) -> None:
        self._end_as(st.CANCELED)

    def get_details(self) -> dict[str, Any]:
        """The keys of an online run's details; what only a job has (target, environment,
        snapshot, exit code, log files) is empty."""
        status = self.get_status()
        start = self._created
        return {
            "runId": self.id, "experimentName": None, "runNumber": 0, "displayName": self._name,
            "runType": self.type, "parentRunId": self._parent.id if self._parent else None, "status": status,
            "target": "offline", "createdTimeUtc": _iso(start), "startTimeUtc": _iso(start),
            "endTimeUtc": _iso(self._end), "durationSeconds": round((self._end or time.time()) - start, 3),
            "exitCode": None, "error": {"message": self._error} if self._error else None,
            "environment": {"name": None, "version": None, "hash": None}, "environmentHash": None,
            "snapshotId": None,
            "runDefinition": dict.fromkeys(("script", "command", "arguments", "max_run_duration_seconds",
                                            "environment_variables", "target", "environment")),
            "host": socket.gethostname(), "properties": self.get_properties(), "tags": self.get_tags(),
            "statusHistory": [{"status": s, "timeUtc": _iso(t)} for s, t in self._history],
            "logFiles": {},
        }

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True, timeout: float | None = None,
                            output: Any = None) -> dict[str, Any]:
        """An offline run is ended by this process's own code, so there is nothing to wait
        for: its details now (a Failed run raises ``RunFailedError`` unless ``raise_on_error=False``)."""
        details = self.get_details()
        if show_output:
            out = _writer(output)
            print(f"RunId: {self.id}\nStatus: {details['status']}", file=out, flush=True)
        if raise_on_error and details["status"] == st.FAILED:
            raise RunFailedError(f"run {self.id} failed: {self._error}")
        return details


class _NoInputs(dict):
    """``input_datasets`` of an offline run: empty, saying why when an input is asked for."""

    def __missing__(self, name: str) -> Any:
        raise KeyError(f"{name!r}: an offline run (Run.get_context() outside a runyard job) has no dataset "
                       f"inputs; submit the script with the dataset as_named_input({name!r}) in "
                       f"arguments or run_config.data")


def _key_values(values: Any, what: str) -> dict[str, str | None]:
    """Tags or properties as a run stores them: text keys, text (or None) values."""
    if not isinstance(values, dict):
        raise ConfigError(f"{what} must be a dict, got {type(values).__name__}")
    return {str(k): None if v is None else str(v) for k, v in values.items()}


def _save_plot(name: str, plot: Any, target: Any) -> None:
    """Write a matplotlib figure, or pyplot's current one, as a PNG to a path or stream."""
    figure = plot.gcf() if hasattr(plot, "gcf") else plot
    if not hasattr(figure, "savefig"):
        raise ConfigError(f"log_image {name!r}: plot= takes a matplotlib figure or matplotlib.pyplot, "
                          f"not {type(plot).__name__}")
    figure.savefig(target, format="png")


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to plain Python, so json can write them."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


class _CallbackWriter:
    """A text stream that hands each chunk to a function (an R function, from the R package)."""

    def __init__(self, callback: Any):
        self._callback = callback

    def write(self, text: str) -> int:
        self._callback(text)
        return len(text)

    def flush(self) -> None:
        pass


def _writer(output: Any) -> Any:
    """Where streamed output goes: stdout, a stream, or a function called with each chunk."""
    if output is None:
        return sys.stdout
    if hasattr(output, "write"):
        return output
    if callable(output):
        return _CallbackWriter(output)
    raise ConfigError(f"output must be a stream or a function, not {type(output).__name__}")


class _LogTailer:
    """Prints what was appended to a run's log files since the last call."""

    #: a sweep's driver writes hyperdrive.log (a run has one or the other of the last two)
    ORDER = ("environment_build.log", "driver.log", "hyperdrive.log")

    def __init__(self, logs_dir: Path):
        self.logs_dir = logs_dir
        self.offsets: dict[str, int] = {}

    def emit(self, out: Any) -> None:
        for name in self.ORDER:
            path = self.logs_dir / name
            if not path.is_file():
                continue
            offset = self.offsets.get(name, 0)
            with open(path, "rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
            if chunk:
                self.offsets[name] = offset + len(chunk)
                out.write(chunk.decode(errors="replace"))
                out.flush()


_sigterm_installed = False


def _flush_on_sigterm() -> None:
    """In a job, write buffered metrics before SIGTERM ends the process."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return

    def handler(signum, _frame):
        try:
            m.flush_or_spill(SIGTERM_FLUSH_S)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)
    _sigterm_installed = True


def iter_runs(workspace: "Workspace", rows: list[dict[str, Any]]) -> Iterator[Run]:
    for row in rows:
        yield Run._from_row(workspace, row)
