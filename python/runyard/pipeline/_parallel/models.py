"""Models a ParallelRunStep's workers register (``EntryScript().register_model``): prepared in
the worker while its mini batch runs, written in bulk by the coordinator once the mini batch
succeeded.

In the worker (``register``) a registration checks its arguments, uploads the model's files into
the step run's files under ``parallel_run/models/<mini batch index>/<model name>/`` (the
version points at them, as a version ``run.register_model`` makes does) and is kept with the
mini batch. When ``run()`` returns the worker sends them, ``("models", index, [...])``, ahead of
its ``("done", ...)``; a try that raises sends none. The coordinator (``ModelWriter``) holds a
mini batch that registered models until they are written: every ``FLUSH_MODELS`` models or
``FLUSH_SECONDS``, and at the end, in one ``store.register_assets`` call made by a thread of its
own (so the workers get their next mini batches meanwhile); only then is the mini batch
Succeeded. So a failed try (raised, timed out, its worker killed) registers nothing, a
retried mini batch registers its models once, and a flush the store refuses is a failed try of
each mini batch in it. On a workspace folder a failed try's files are removed; a workspace
server keeps them until the next try writes over them.

Where the job runs decides how files and registrations travel, not what they mean: on the
local target (workspace folder or server) and on Ray (the served workspace its jobs log to)
through the run's own artifact store and store; in a container through its spool
(``store/spool.py``): the files into the spool's run files, the flush as a ``register_models``
request the run's supervisor answers (it copies the files into the workspace, then registers
them in bulk), so the coordinator still gets every model's id before a mini batch succeeds.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from ...errors import ConfigError

#: where in the step run's files the workers put the models' files
MODELS_FOLDER = "parallel_run/models"
#: a flush of registered models: after this many, or this many seconds after the oldest came
FLUSH_MODELS = 1000
FLUSH_SECONDS = 1.0

# -- the worker side --------------------------------------------------------------------
_batch_index: int | None = None
_registered: list[dict[str, Any]] = []


def start(index: int) -> None:
    """A mini batch begins in this worker."""
    global _batch_index
    _batch_index = index
    _registered.clear()


def take() -> list[dict[str, Any]]:
    """The mini batch's registrations (it ended); none are kept."""
    global _batch_index
    taken = list(_registered)
    _registered.clear()
    _batch_index = None
    return taken


def register(model_name: str, model_path: Any, partition: Any, options: dict[str, Any]) -> str:
    """``EntryScript().register_model``: the name the model will be registered under."""
    from ...run import Run, _OfflineRun
    from ...store.base import RunStore
    from ...store.spool import SpoolStore
    if _batch_index is None:
        raise ConfigError("EntryScript().register_model() registers a model of the mini batch being run: call it "
                          "inside run(), not in init() or outside a ParallelRunStep (there: Model.register)")
    run = Run.get_context()
    if isinstance(run, _OfflineRun) or not isinstance(run.workspace._store, (RunStore, SpoolStore)):
        raise ConfigError("EntryScript().register_model(): this worker is not inside a ParallelRunStep's job, so no "
                          "workspace's registry is at hand; register with Model.register instead")
    item = prepare(run, _batch_index, {item["name"] for item in _registered}, model_name, model_path, partition,
                   options)
    _registered.append(item)
    return item["name"]


def prepare(run: Any, index: int, taken: set[str], model_name: Any, model_path: Any, partition: Any,
            options: dict[str, Any]) -> dict[str, Any]:
    """A registration of mini batch ``index`` checked, its files uploaded into ``run``'s files,
    ready for a flush (``taken``: the names the mini batch registered already)."""
    from ...model import KIND, _check_sizes, _hash, _local_files, _metadata, partition_metadata, \
        partition_model_name
    from ...artifacts import sha256_of
    meta = _metadata(model_name, **options)
    name = model_name
    if partition is not None:
        name = partition_model_name(model_name, partition)
        meta = partition_metadata(meta, model_name, partition)
    if name in taken:
        raise ConfigError(f"model {name!r} is already registered by this mini batch; a mini batch registers a model "
                          f"once (a folder as model_path holds several files)")
    base, folder, files = _local_files(model_path, None)
    _check_sizes(run.workspace, files)
    where = f"{MODELS_FOLDER}/{index}/{name}"
    digests = {}
    for file_name, path in files:
        digest = sha256_of(path)
        digests[run.workspace._artifacts.put_file(run.id, f"{where}/{file_name}", path, sha256=digest)] = digest
    spec = {**meta, "path": base, "folder": folder, "holder": run.id, "prefix": f"{where}/{base}",
            "files": sorted(digests), "sha256": digests, "experiment_name": run.experiment.name}
    from ...store import asset_specs
    asset_specs.check_spec(KIND, spec)  # here, so that a bad one fails its own try, not a whole flush
    return {"name": name, "spec": spec, "run_id": run.id,
            "content_hash": _hash({"run": run.id, "prefix": spec["prefix"], "files": digests, **meta})}


# -- the coordinator side ---------------------------------------------------------------
#: what a flush gives back: each mini batch's model ids (none when it failed) and its "done",
#: and the error that failed the flush, if one did
Outcome = tuple[dict[int, tuple[list[str], tuple]], str | None]


class ModelWriter:
    """The coordinator's registrations: staged per mini batch while it runs, pending once it
    returned, written in bulk by a thread (one flush at a time)."""

    def __init__(self, workspace: Any, remove_files: Callable[[int], None]):
        self.workspace = workspace
        self.staged: dict[int, list[dict[str, Any]]] = {}
        #: mini batch index -> (its registrations, what its "done" said)
        self.pending: dict[int, tuple[list[dict[str, Any]], tuple]] = {}
        self.pending_count = 0
        self.oldest: float | None = None
        self._remove_files = remove_files
        self._writer: ThreadPoolExecutor | None = None
        self._flushing: Future | None = None
        self.written = 0
        self.seconds = 0.0  # spent writing

    @property
    def busy(self) -> bool:
        """Registrations wait, or are being written."""
        return bool(self.pending) or self._flushing is not None

    def stage(self, index: int, items: list[dict[str, Any]]) -> None:
        self.staged[index] = items

    def done(self, index: int, outcome: tuple) -> bool:
        """The mini batch's run() returned; True: it registered models, which wait for a flush."""
        items = self.staged.pop(index, None)
        if not items:
            return False
        self.pending[index] = (items, outcome)
        self.pending_count += len(items)
        self.oldest = self.oldest or time.monotonic()
        return True

    def failed(self, index: int) -> None:
        """A try of the mini batch failed: its registrations, and its files where it can, go."""
        self.staged.pop(index, None)
        self._remove_files(index)

    def due(self, idle: bool) -> bool:
        """Time to start a flush: none runs, and many wait, or one waited long, or nothing else
        is going on."""
        return bool(self.pending) and self._flushing is None and (
            idle or self.pending_count >= FLUSH_MODELS or time.monotonic() - (self.oldest or 0.0) >= FLUSH_SECONDS)

    def seconds_to_due(self) -> float:
        """How long the coordinator may wait for its workers before it looks here again."""
        if self._flushing is not None:
            return 0.02
        return max(0.0, (self.oldest or 0.0) + FLUSH_SECONDS - time.monotonic()) if self.pending else 1.0

    def start_flush(self) -> None:
        """Write the pending registrations in the writer's thread; ``finished`` has the outcome."""
        batches, self.pending, self.pending_count, self.oldest = self.pending, {}, 0, None
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="runyard-models")
        self._flushing = self._writer.submit(self._write, batches)

    def finished(self, wait: bool = False) -> Outcome | None:
        """The outcome of the flush that ran, once it is done (``wait``: waiting for it)."""
        if self._flushing is None or not (wait or self._flushing.done()):
            return None
        outcome, self._flushing = self._flushing.result(), None
        return outcome

    def flush(self) -> Outcome:
        """Write the pending registrations now (the step is ending)."""
        batches, self.pending, self.pending_count, self.oldest = self.pending, {}, 0, None
        return self._write(batches)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)

    def _write(self, batches: dict[int, tuple[list[dict[str, Any]], tuple]]) -> Outcome:
        items = [item for registrations, _ in batches.values() for item in registrations]
        started = time.perf_counter()
        try:
            models = iter(register_many(self.workspace, items))
        except Exception as e:  # the store's, whatever it is: each mini batch's try failed
            for index in batches:
                self._remove_files(index)
            return {index: ([], outcome) for index, (_, outcome) in batches.items()}, f"{type(e).__name__}: {e}"
        finally:
            self.seconds += time.perf_counter() - started
        self.written += len(items)
        return {index: ([next(models) for _ in registrations], outcome)
                for index, (registrations, outcome) in batches.items()}, None


def register_many(workspace: Any, items: list[dict[str, Any]]) -> list[str]:
    """Register the items in bulk through the store the job has; their ids (``name:version``)."""
    from ...store.spool import SpoolStore
    if isinstance(workspace._store, SpoolStore):  # in a container: the run's supervisor registers them
        return workspace._store.register_models(items)
    from ...model import _register_many
    return _register_many(workspace, items)


def remover(workspace: Any, run_id: str) -> Callable[[int], None]:
    """What removes a failed try's model files: on a workspace folder, its folder of the run's
    files; a workspace server's files stay (the next try writes over them)."""
    if getattr(workspace, "url", None) is not None:
        return lambda index: None
    root = workspace._artifacts.run_dir(run_id) / MODELS_FOLDER

    def remove(index: int) -> None:
        shutil.rmtree(root / str(index), ignore_errors=True)
    return remove
