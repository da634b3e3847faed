"""A job's writes relayed to its workspace by its supervisor, through a folder they share.

The job appends each write as one JSON line to ``events.jsonl``; the supervisor
applies the lines to the real store as they arrive (``apply_events``). Two kinds
of job use it:

- a container job (``SpoolStore``), which cannot reach the workspace database:
  every write goes through the spool, reads are answered from the run record the
  supervisor wrote at the start (``run.json``) plus the job's own writes, and
  files it uploads go to ``artifacts/`` in the folder, moved into the workspace
  when the run ends. One kind of request waits for an answer: ``register_models`` (a
  ParallelRunStep's models, ``pipeline/_parallel/models.py``) is applied by the supervisor
  through a ``ModelRegistrar`` it passes to ``apply_events``, which copies the models' files
  into the workspace, registers them and writes the ids to ``answers/<request>.json``;
- a local job (``LocalSpoolStore``), which could open the workspace's SQL store
  but would pay about 0.3 s of imports for it: its metrics go through the spool
  until it needs the workspace for anything else; then it opens the store,
  applies what is still spooled itself (``drain``: each line once, whichever
  process applies it) and uses the store directly from then on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import status as st
from ..artifacts import ArtifactStore
from ..errors import ConfigError, RunyardError
from .base import JobStore, RunStore

EVENTS_FILE = "events.jsonl"
RUN_FILE = "run.json"
#: the supervisor's answers to the requests that wait for one (``register_models``)
ANSWERS_FOLDER = "answers"
#: how long a job waits for its supervisor's answer
ANSWER_TIMEOUT_S = 600.0
#: how far ``events.jsonl`` is applied, where both the job and its supervisor apply it
APPLIED_FILE = "applied"
SCHEME = "spool://"

# The store methods a job may call through the spool, and so the supervisor applies.
_WRITES = ("log_metrics", "set_tags", "remove_tags", "add_properties", "update_run", "set_status",
           "create_run", "end_active_children")
#: what a job sets of a run it creates (a child run); the rest is the store's or its supervisor's
_CHILD_FIELDS = frozenset({"run_id", "experiment", "parent_id", "display_name", "run_type", "status", "target",
                           "start_time"})


def _append_event(folder: Path, op: str, args: Any, kwargs: dict[str, Any]) -> None:
    """One write as one line, written at once under the file's lock (so lines never interleave)."""
    line = json.dumps({"op": op, "args": args, "kwargs": kwargs}, default=str) + "\n"
    with open(folder / EVENTS_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line)
        fh.flush()


class SpoolStore(JobStore):
    """The job side: writes become lines of ``events.jsonl``, reads come from ``run.json`` and
    the job's own writes."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        data = json.loads((self.folder / RUN_FILE).read_text())
        self._runs: dict[str, dict[str, Any]] = {data["run"]["run_id"]: data["run"]}
        self._tags: dict[str, dict[str, Any]] = {data["run"]["run_id"]: data.get("tags", {})}
        self._properties: dict[str, dict[str, Any]] = {data["run"]["run_id"]: data.get("properties", {})}
        self._metrics: list[dict[str, Any]] = []

    def _append(self, op: str, *args: Any, **kwargs: Any) -> None:
        _append_event(self.folder, op, args, kwargs)

    # -- writes: appended for the supervisor, mirrored locally for reads ------
    def log_metrics(self, rows: list[dict[str, Any]], *, batch_id: str | None = None) -> None:
        if rows:
            self._append("log_metrics", rows, batch_id=batch_id)
            self._metrics.extend(rows)

    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        self._append("set_tags", run_id, tags)
        self._tags.setdefault(run_id, {}).update({k: None if v is None else str(v) for k, v in tags.items()})

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._append("remove_tags", run_id, keys)
        for key in keys:
            self._tags.get(run_id, {}).pop(key, None)

    def add_properties(self, run_id: str, props: dict[str, Any]) -> None:
        mine = self._properties.setdefault(run_id, {})
        for key, value in props.items():
            if key in mine and mine[key] != str(value):
                raise ConfigError(f"property {key!r} of run {run_id} is already {mine[key]!r}; "
                                  f"properties cannot change (use tags for mutable values)")
        self._append("add_properties", run_id, props)
        mine.update({k: str(v) for k, v in props.items()})

    def update_run(self, run_id: str, **fields: Any) -> None:
        self._append("update_run", run_id, **fields)
        self._runs.get(run_id, {}).update(fields)

    def set_status(self, run_id: str, status: str, *, allow_from_terminal: bool = False,
                   error: str | None = None, exit_code: int | None = None) -> bool:
        row = self._runs.get(run_id)
        if row is None or row["status"] in st.TERMINAL:
            return False
        fields = {k: v for k, v in (("error", error), ("exit_code", exit_code)) if v is not None}
        self._append("set_status", run_id, status, **fields)
        row.update(fields, status=status)
        return True

    def create_run(self, row: dict[str, Any], tags: dict[str, Any] | None = None,
                   properties: dict[str, Any] | None = None) -> dict[str, Any]:
        self._append("create_run", row, tags, properties)
        full = {column: None for column in next(iter(self._runs.values()))}
        full.update(row, created_at=time.time(), run_number=0)
        self._runs[row["run_id"]] = full
        self._tags[row["run_id"]] = dict(tags or {})
        self._properties[row["run_id"]] = dict(properties or {})
        return full

    def end_active_children(self, run_id: str, status: str) -> None:
        self._append("end_active_children", run_id, status)
        for row in self._runs.values():
            if row.get("parent_id") == run_id and row["status"] not in st.TERMINAL:
                row["status"] = status

    def register_models(self, items: list[dict[str, Any]]) -> list[str]:
        """Register models prepared in this job (their files in the spool's ``artifacts/``) in
        bulk, as ``model._register_many`` does: the supervisor copies their files into the
        workspace and registers them; their ids (``name:version``), once it answered."""
        request = uuid.uuid4().hex
        self._append("register_models", items, request=request)
        answer = self.folder / ANSWERS_FOLDER / f"{request}.json"
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        pause = 0.01
        while not answer.is_file():
            if time.monotonic() > deadline:
                raise RunyardError(f"the run's supervisor did not answer the registration of {len(items)} model(s) "
                                   f"within {ANSWER_TIMEOUT_S:.0f} s (is it still running?)")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        data = json.loads(answer.read_text())
        with contextlib.suppress(OSError):
            answer.unlink()
        if data.get("error"):
            raise RunyardError(data["error"])
        return list(data["ids"])

    # -- reads -----------------------------------------------------------------
    def get_run(self, run_id: str) -> dict[str, Any] | None:
        row = self._runs.get(run_id)
        return dict(row) if row else None

    def get_tags(self, run_id: str) -> dict[str, Any]:
        return dict(self._tags.get(run_id, {}))

    def get_properties(self, run_id: str) -> dict[str, Any]:
        return dict(self._properties.get(run_id, {}))

    def get_metric_rows(self, run_ids: list[str], name: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self._metrics if r["run_id"] in run_ids and (name is None or r["name"] == name)]

    def list_runs(self, *, parent_id: str | None = None, status: Any = None, tags: Any = None,
                  run_type: str | None = None, **_: Any) -> list[dict[str, Any]]:
        statuses = None if status is None else ({status} if isinstance(status, str) else set(status))
        return [dict(r) for r in self._runs.values()
                if (parent_id is None or r.get("parent_id") == parent_id)
                and (statuses is None or r["status"] in statuses)
                and (run_type is None or r.get("run_type") == run_type)]

    def status_events(self, run_id: str) -> list[dict[str, Any]]:
        return []


class SpoolWorkspace:
    """What a job inside a container sees as its workspace: the spool folder."""

    #: a spool is no workspace server (what ``model`` asks to know a server's file limit)
    url = None

    def __init__(self, folder: str | os.PathLike):
        self.path = Path(folder)
        self.name = "spool"
        self._store = SpoolStore(self.path)
        self._artifacts = ArtifactStore(self.path / "artifacts")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpoolWorkspace) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)


class LocalSpoolStore:
    """A local job's workspace store: metrics are appended to the spool for its supervisor to
    apply; anything else (a read, a tag, a model to register) opens the workspace's own store,
    applies the spool's pending lines first, and goes there, as does every later call.

    It stands for the whole store (a ``RunStore``, registered below), so that every path of the
    job reads its own writes: nothing reaches the store before what was spooled ahead of it.
    """

    def __init__(self, folder: str | os.PathLike, run_id: str, open_store: Callable[[], Any]):
        self.folder = Path(folder)
        self._run_id = run_id
        self._open_store = open_store
        self._store: Any = None
        self._lock = threading.Lock()  # the metrics flusher thread appends beside the main thread

    def _opened(self) -> Any:
        with self._lock:
            if self._store is None:
                store = self._open_store()
                drain(store, self.folder, self._run_id)
                self._store = store
            return self._store

    def log_metrics(self, rows: list[dict[str, Any]], *, batch_id: str | None = None) -> None:
        with self._lock:
            if self._store is None:
                if rows:
                    _append_event(self.folder, "log_metrics", [rows], {"batch_id": batch_id})
                return
        self._store.log_metrics(rows, batch_id=batch_id)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._opened(), name)


RunStore.register(LocalSpoolStore)


def local_job_workspace(path: str, folder: str, run_id: str) -> tuple[Any, dict[str, Any]]:
    """The workspace a local job logs to, and its run's record (from ``run.json``), without
    opening the workspace's store."""
    from ..workspace import Workspace
    workspace = Workspace(path, _check_lost_runs=False, _open_store=False)
    workspace._store = LocalSpoolStore(folder, run_id, workspace._connect_store)
    row = json.loads((Path(folder) / RUN_FILE).read_text())["run"]
    if row.get("run_id") != run_id:
        raise RunyardError(f"{folder}/{RUN_FILE} holds run {row.get('run_id')!r}, not this job's run {run_id!r}")
    return workspace, row


# -- supervisor side -----------------------------------------------------------
def write_run_file(folder: Path, row: dict[str, Any], tags: dict[str, Any], properties: dict[str, Any]) -> None:
    (folder / ANSWERS_FOLDER).mkdir(parents=True, exist_ok=True)
    (folder / RUN_FILE).write_text(json.dumps({"run": row, "tags": tags, "properties": properties}, default=str))
    (folder / EVENTS_FILE).touch()


def apply_events(store: Any, folder: Path, offset: int, run_id: str, known: set[str] | None = None,
                 note: Callable[[str], None] | None = None, registrar: "ModelRegistrar | None" = None) -> int:
    """Apply the complete lines after ``offset`` to ``store``; returns the new offset.

    The lines come from the job, so each is treated as hostile: only writes to ``run_id`` and
    to runs created under it through the spool are applied, a created run is a child run with
    only the fields a job sets, the run's own status stays its supervisor's, and a line that
    is not a valid write is left out with a line to ``note`` (the run's driver.log). Pass the
    same ``known`` set on every call: runs created in an earlier call (a child's children)
    are remembered there. ``registrar``: what answers a ``register_models`` request (without
    one, the request is answered with an error).
    """
    path = folder / EVENTS_FILE
    if not path.is_file():
        return offset
    with open(path, "rb") as fh:
        fh.seek(offset)
        chunk = fh.read()
    end = chunk.rfind(b"\n")
    if end < 0:
        return offset
    allowed = _Descendants(store, run_id, known)
    for raw in chunk[:end + 1].splitlines():
        try:
            _apply(store, json.loads(raw), run_id, allowed, known, folder, registrar)
        except (RunyardError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            if note is not None:
                note(f"runyard: a write the job sent was not applied: {type(e).__name__}: {e}")
    return offset + end + 1


def drain(store: Any, folder: Path, run_id: str, note: Callable[[str], None] | None = None) -> None:
    """Apply what is not yet applied of a spool that two processes apply (a local job once it
    opened the store, and its supervisor): under a lock, from the offset kept in ``applied``,
    so each line is applied once whichever process gets to it."""
    with open(folder / APPLIED_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        text = fh.read().strip()
        offset = int(text) if text.isdigit() else 0
        new = apply_events(store, folder, offset, run_id, note=note)
        if new != offset:
            fh.seek(0)
            fh.truncate()
            fh.write(str(new))
            fh.flush()


class _Descendants:
    """``in``: whether a run is the job's run or a run under it (looked up once per run)."""

    def __init__(self, store: Any, run_id: str, known: set[str] | None):
        self.store, self.known = store, known
        self.yes = {run_id} | {r["run_id"] for r in store.list_runs(parent_id=run_id)} | (known or set())
        self.no: set[str] = set()

    def __contains__(self, candidate: Any) -> bool:
        if not isinstance(candidate, str) or candidate in self.no:
            return False
        chain, current = [], candidate
        while current not in self.yes:
            row = self.store.get_run(current) if len(chain) < 50 else None
            if row is None or not row.get("parent_id"):
                self.no.update(chain or [candidate])
                return False
            chain.append(current)
            current = row["parent_id"]
        self.yes.update(chain)
        return True

    def add(self, run_id: str) -> None:
        self.yes.add(run_id)
        if self.known is not None:
            self.known.add(run_id)


def _apply(store: Any, event: Any, run_id: str, allowed: _Descendants, known: set[str] | None,
           folder: Path | None = None, registrar: "ModelRegistrar | None" = None) -> None:
    op, args, kwargs = event["op"], list(event.get("args") or []), dict(event.get("kwargs") or {})
    if op == "register_models" and folder is not None:
        _answer(folder, kwargs.get("request"), lambda: _register_models(registrar, args[0], allowed))
        return
    if op not in _WRITES:
        raise ConfigError(f"{op!r} is not a write a job makes")
    if op == "create_run":
        row = {k: v for k, v in dict(args[0]).items() if k in _CHILD_FIELDS}
        if row.get("parent_id") not in allowed or row.get("run_type") != "child":
            raise ConfigError(f"run {row.get('run_id')!r}: a job creates child runs of its own runs only")
        store.create_run(row, *args[1:3])
        allowed.add(row["run_id"])
    elif op == "log_metrics":
        rows = list(args[0])
        if any(not isinstance(r, dict) or r.get("run_id") not in allowed for r in rows):
            raise ConfigError("metric rows for a run that is not the job's")
        store.log_metrics(rows, batch_id=kwargs.get("batch_id"))
    elif args[0] not in allowed:
        raise ConfigError(f"run {args[0]!r} is not the job's run or a run under it")
    elif op == "set_status":
        if args[0] == run_id:
            raise ConfigError("the status of the job's own run is its supervisor's")
        store.set_status(args[0], args[1], error=kwargs.get("error"), exit_code=kwargs.get("exit_code"))
    else:
        getattr(store, op)(*args, **kwargs)


# -- requests that wait for an answer --------------------------------------------------------
class ModelRegistrar:
    """The supervisor's side of ``SpoolStore.register_models``: a job's models, checked as
    anything from the job is, their files copied from the spool into ``workspace``'s run files
    (verified against the digests the job sent), then registered in bulk."""

    def __init__(self, workspace: Any, folder: Path):
        self.workspace = workspace
        self.uploads = Path(folder) / "artifacts" / "runs"

    def register(self, items: list[dict[str, Any]], allowed: Any) -> list[str]:
        from ..model import KIND, _register_many
        from . import asset_specs
        if not isinstance(items, list):
            raise ConfigError("register_models: a list of models is expected")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("spec"), dict):
                raise ConfigError("register_models: each model is a {name, spec, content_hash, run_id} object")
            holder = item["spec"].get("holder")
            if item.get("run_id") not in allowed or holder != item.get("run_id"):
                raise ConfigError(f"model {item.get('name')!r}: a job registers models from its own runs' files only")
            asset_specs.check_spec(KIND, item["spec"])
        copied: list[tuple[str, str]] = []
        try:
            for item in items:
                spec = item["spec"]
                for name in spec["files"]:
                    source = self._source(spec["holder"], name)
                    self.workspace._artifacts.put_file(spec["holder"], name, source, sha256=spec["sha256"][name])
                    copied.append((spec["holder"], name))
            return _register_many(self.workspace, items)
        except BaseException:
            if getattr(self.workspace, "url", None) is None:  # a refused batch leaves no files behind
                for holder, name in copied:
                    with contextlib.suppress(OSError, ConfigError):
                        self.workspace._artifacts._target(holder, name).unlink()
            raise

    def _source(self, holder: str, name: str) -> Path:
        """The job's copy of a model file: a plain file inside its run's spool folder."""
        base = (self.uploads / holder).resolve()
        path = self.uploads / holder / name
        if path.is_symlink() or not path.is_file() or base not in path.resolve().parents:
            raise ConfigError(f"model file {name!r} of run {holder}: not a file the job uploaded through the spool")
        return path


def _register_models(registrar: ModelRegistrar | None, items: Any, allowed: Any) -> dict[str, Any]:
    if registrar is None:
        raise ConfigError("this job's supervisor registers no models (register them from the driver)")
    return {"ids": registrar.register(items, allowed)}


def _answer(folder: Path, request: Any, work: Callable[[], dict[str, Any]]) -> None:
    """Do a request's work and write its answer (or its error) where the job waits for it."""
    if not isinstance(request, str) or not request.isalnum():
        raise ConfigError("a request without a valid request id")
    try:
        answer = work()
    except (RunyardError, OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        answer = {"error": f"{type(e).__name__}: {e}"}
    target = folder / ANSWERS_FOLDER / f"{request}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{request}.tmp")
    tmp.write_text(json.dumps(answer))
    tmp.chmod(0o666)
    os.replace(tmp, target)
