"""The coordinator of a ParallelRunStep's job (see the package): mini batches to workers,
failures against the thresholds, the partition table and the append_row file."""

from __future__ import annotations

import argparse
import collections
import json
import os
import selectors
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from . import RESUME_ENV
from . import table
from .batches import MiniBatch, dataset_files, folder_files, plan
from .models import ModelWriter, remover
from .pool import LocalProcessPool, WorkerHandle, WorkerPool


class StepFailed(Exception):
    """The step cannot go on; its message is the run's error."""


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    if "--" in argv:
        at = argv.index("--")
        argv, arguments = argv[:at], argv[at + 1:]
    else:
        arguments = []
    parser = argparse.ArgumentParser(prog="runyard.pipeline._parallel")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--dataset", nargs=2, action="append", default=[], metavar=("NAME", "PATH"))
    parser.add_argument("--folder", nargs=2, action="append", default=[], metavar=("NAME", "PATH"))
    parser.add_argument("--side", nargs=2, action="append", default=[], metavar=("NAME", "PATH"))
    parser.add_argument("--output")
    options = parser.parse_args(argv)
    options.settings = json.loads(options.settings)
    options.arguments = arguments
    return options


class _Slot:
    """A worker, the mini batch it runs and the one sent to wait behind it."""

    def __init__(self, handle: WorkerHandle):
        self.handle = handle
        self.ready = False
        self.batch: MiniBatch | None = None
        #: sent ahead while ``batch`` runs, so that the worker never waits for the coordinator
        #: between mini batches; not tried until it starts
        self.next: MiniBatch | None = None
        self.deadline = 0.0
        self.started = 0.0
        self.fds: list[int] = []  # what the coordinator's selector watches for it
        self.watched: list[Any] = []  # the handle's waitables they are the descriptors of

    def begin_next(self, timeout: float) -> None:
        """The running mini batch ended: the one sent ahead runs now."""
        self.batch, self.next = self.next, None
        self.started = time.monotonic()
        self.deadline = self.started + timeout

    def take_back(self, rows: dict[int, dict[str, Any]], queue: collections.deque) -> None:
        """The worker is gone: the mini batch sent ahead goes back to the queue, untried."""
        if self.next is not None:
            rows[self.next.index]["tries"] -= 1
            queue.appendleft(self.next)
            self.next = None


class Coordinator:
    def __init__(self, options: argparse.Namespace, pool: WorkerPool | None = None):
        self.settings = options.settings
        self.options = options
        self.output_dir = Path(options.output or "outputs").absolute()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.append_file = self.output_dir / self.settings["append_row_file_name"] \
            if self.settings["output_action"] == "append_row" else None
        self.pool = pool or self._pool()
        self.rows: dict[int, dict[str, Any]] = {}
        self.failed_batches = 0
        self.failed_items = 0
        self.spool = tempfile.TemporaryFile()  # each succeeded mini batch's lines, until written in order
        self.spans: dict[int, tuple[int, int]] = {}
        self.aborted: str | None = None
        self.carried = 0  # mini batches an earlier run finished
        self.models: ModelWriter | None = None  # the models the workers register, once work starts

    def _pool(self) -> WorkerPool:
        """The step's target's workers: processes here (local, Docker; R processes for an entry
        script in R) or Ray actors."""
        from . import r_workers
        if r_workers.is_r_script(self.settings["entry_script"]):
            return r_workers.RProcessPool(self.settings, self.options.arguments, str(self.output_dir))
        if self.settings.get("workers") == "ray":
            from .ray_pool import RayActorPool
            return RayActorPool(self.settings, self.options.arguments, str(self.output_dir),
                                [path for _, path in self.options.side])
        return LocalProcessPool(self.settings, self.options.arguments, str(self.output_dir))

    # -- the run -----------------------------------------------------------------------
    def run(self) -> int:
        try:
            batches = self._plan()
            self.batches = {b.index: b for b in batches}
            queue = collections.deque(b for b in batches if self.rows[b.index]["status"] != "Succeeded")
            self.total = len(batches)
            reused = self.carried = self.total - len(queue)
            if self.settings.get("description"):
                self.log(self.settings["description"])
            count = min(self.pool.capacity(), len(queue)) if queue else 0
            nodes = self.settings.get("node_count") or 1
            self.log(f"{self.total} mini batch(es) from {', '.join(self._input_names()) or 'no input'}"
                     + (f", {reused} carried over from run {self.resumed_from}" if reused else "")
                     + (f"; {count} Ray actor(s) on {nodes} node(s)" if self.settings.get("workers") == "ray"
                        else f"; {count} worker process(es)"))
            if queue:
                from ...run import Run
                workspace = Run.get_context().workspace
                self.models = ModelWriter(workspace, remover(workspace, Run.get_context().id))
                try:
                    self._work(queue, count)
                    # the step stopped early: the mini batches that returned keep their models
                    self._flushed(self.models.finished(wait=True), None)
                    if self.models.pending:
                        self._flushed(self.models.flush(), None)
                finally:
                    self.models.close()
        finally:
            self.pool.close()
        self._finish()
        return 0

    def _input_names(self) -> list[str]:
        return [name for name, _ in self.options.dataset + self.options.folder]

    def _plan(self) -> list[MiniBatch]:
        from ...run import Run
        file_inputs = {name: folder_files(path) for name, path in self.options.folder}
        tables: dict[str, Any] = {}
        if self.options.dataset:
            datasets = Run.get_context().input_datasets
            for name, path in self.options.dataset:
                dataset = datasets[name]
                if dataset._type == "tabular":
                    tables[name] = dataset
                else:
                    file_inputs[name] = [full for full, _ in dataset_files(dataset)]
        batches = plan(self.settings, file_inputs, tables)
        for batch in batches:
            self.rows[batch.index] = {"batch_id": batch.batch_id, "input": batch.input, "partition": batch.partition,
                                      "status": "NotRun", "tries": 0, "duration_s": 0.0, "items": batch.items,
                                      "results": None, "error": None, "traceback": None, "reused_from": None,
                                      "models": []}
        self.resumed_from = self._carry_over(batches)
        return batches

    def _carry_over(self, batches: list[MiniBatch]) -> str | None:
        """Mark the mini batches an earlier run finished as succeeded, with its results and files."""
        folder = os.environ.get(RESUME_ENV)
        if not folder or not (Path(folder) / "table" / Path(table.FILE).name).is_file():
            return None
        earlier = table.read(Path(folder) / "table" / Path(table.FILE).name)
        old_output = Path(folder) / "output"
        old_append = old_output / Path(earlier["append_row_file"]).name if earlier.get("append_row_file") else None
        if old_output.is_dir():  # files the earlier mini batches wrote (models, say)
            for path in old_output.rglob("*"):
                target = self.output_dir / path.relative_to(old_output)
                if path.is_file() and (old_append is None or path != old_append) and not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        by_id = {row["batch_id"]: row for row in earlier["partitions"] if row["status"] == "Succeeded"}
        data = old_append.read_bytes() if old_append is not None and old_append.is_file() else b""
        for batch in batches:
            old = by_id.get(batch.batch_id)
            if old is None:
                continue
            self.rows[batch.index].update(status="Succeeded", tries=old["tries"], duration_s=old["duration_s"],
                                          items=old["items"], results=old["results"], models=old.get("models") or [],
                                          reused_from=old.get("reused_from") or earlier["run_id"])
            if self.append_file is not None and old.get("result_span"):
                start, length = old["result_span"]
                self._keep_result(batch.index, data[start:start + length])
        return earlier["run_id"]

    def _work(self, queue: collections.deque, workers: int) -> None:
        # one selector for the whole step (what ``multiprocessing.connection.wait`` builds anew
        # on every call, about 60 us each, several times per mini batch)
        self.selector = selectors.DefaultSelector()
        slots = [self._watch(_Slot(self.pool.start(worker_id))) for worker_id in range(workers)]
        next_id = workers
        scheduled: set[int] = set()
        try:
            while (queue or any(s.batch for s in slots) or self.models.busy) and self.aborted is None:
                for slot in slots:
                    if slot.ready and slot.batch is None and queue:
                        self._send(slot, queue.popleft(), scheduled)
                    # while more are left than there are workers, one more waits in the worker's
                    # pipe (the tail goes to whichever worker is free first)
                    if slot.batch is not None and slot.next is None and len(queue) > len(slots):
                        self._send(slot, queue.popleft(), scheduled, ahead=True)
                now = time.monotonic()
                busy = [s.deadline for s in slots if s.batch is not None]
                timeout = max(0.0, min(busy) - now) if busy else 1.0
                wait_s = min(timeout, 1.0, self.models.seconds_to_due())
                if self.pool.descriptors:
                    self.selector.select(wait_s)
                else:  # Ray actors: the pool waits on their answers
                    self.pool.wait([s.handle for s in slots], wait_s)
                for index, slot in enumerate(list(slots)):
                    replace = self._attend(slot, queue)
                    if replace:
                        self._unwatch(slot)
                        slots[index] = self._watch(_Slot(self.pool.start(next_id)))
                        next_id += 1
                    else:
                        self._rewatch(slot)
                    if self.aborted:
                        break
                self._flushed(self.models.finished(), queue)
                if self.aborted is None and self.models.due(idle=not any(s.batch for s in slots)):
                    self.models.start_flush()
                if not queue and len(scheduled) == self.total - self.carried and self.aborted is None:
                    self._check_percent()
        finally:
            for slot in slots:
                self._unwatch(slot)
                if self.aborted is None and slot.batch is None:
                    slot.handle.close(10)
                else:
                    slot.handle.kill()
                    if slot.batch is not None:  # stopped mid-try: what it registered goes
                        self.models.failed(slot.batch.index)
            self.selector.close()

    def _watch(self, slot: _Slot) -> _Slot:
        slot.watched = slot.handle.waitables()
        slot.fds = [w if isinstance(w, int) else w.fileno() for w in slot.watched]
        for fd in slot.fds:
            self.selector.register(fd, selectors.EVENT_READ)
        return slot

    def _rewatch(self, slot: _Slot) -> None:
        """A worker whose waitables changed (an R worker's listener, then its connection) is
        watched by what it has now; the objects are compared, since a closed one's descriptor
        number may come back for its successor."""
        now = slot.handle.waitables()
        if len(now) != len(slot.watched) or any(a is not b for a, b in zip(now, slot.watched)):
            self._unwatch(slot)
            self._watch(slot)

    def _unwatch(self, slot: _Slot) -> None:
        for fd in slot.fds:
            try:
                self.selector.unregister(fd)
            except (KeyError, ValueError):
                pass
        slot.fds = []

    def _send(self, slot: _Slot, batch: MiniBatch, scheduled: set[int], ahead: bool = False) -> None:
        scheduled.add(batch.index)
        self.rows[batch.index]["tries"] += 1
        if ahead:
            slot.next = batch
        else:
            slot.batch, slot.started = batch, time.monotonic()
            slot.deadline = slot.started + self.settings["run_invocation_timeout"]
        slot.handle.send(batch)

    def _attend(self, slot: _Slot, queue: collections.deque) -> bool:
        """Read the worker's messages and notice its death or timeout; True: replace it."""
        while True:
            message = slot.handle.receive()
            if message is None:
                break
            kind = message[0]
            if kind == "ready":
                slot.ready = True
            elif kind == "init_failed":
                self.aborted = f"init() of the entry script failed in worker {slot.handle.worker_id}:\n{message[1]}"
                return False
            elif kind == "started":
                self.rows[message[1]]["items"] = message[2]
            elif kind == "models":
                self.models.stage(message[1], message[2])
            elif kind == "done":
                _, index, count, text, duration = message
                if not self.models.done(index, (count, text, duration)):  # else: once its models are written
                    self._succeeded(index, count, text.encode("utf-8"), duration)
                slot.begin_next(self.settings["run_invocation_timeout"])
            elif kind == "failed":
                _, index, error, trace, duration = message
                self.models.failed(index)
                self._try_failed(index, error, trace, duration, queue)
                slot.begin_next(self.settings["run_invocation_timeout"])
        reason = slot.handle.exit_reason()
        if reason is not None:
            if not slot.ready:
                self.aborted = (f"worker {slot.handle.worker_id} ended before init() returned ({reason}); see the "
                                f"log above")
                return False
            slot.take_back(self.rows, queue)
            if slot.batch is not None:
                self.models.failed(slot.batch.index)
                self._try_failed(slot.batch.index, f"WorkerDied: the worker process ended while running this mini "
                                                   f"batch ({reason}); it was replaced", None,
                                 time.monotonic() - slot.started, queue)
                slot.batch = None
            slot.handle.kill()
            return self.aborted is None
        if slot.batch is not None and time.monotonic() > slot.deadline:
            timeout = self.settings["run_invocation_timeout"]
            slot.handle.kill()
            slot.take_back(self.rows, queue)
            self.models.failed(slot.batch.index)
            self._try_failed(slot.batch.index, f"TimeoutError: run() did not return within run_invocation_timeout="
                                               f"{timeout}s; its worker was killed and replaced", None,
                             time.monotonic() - slot.started, queue)
            slot.batch = None
            return self.aborted is None
        return False

    # -- outcomes ------------------------------------------------------------------------
    def _flushed(self, outcome: Any, queue: collections.deque | None) -> None:
        """A flush of registered models ended: its mini batches have succeeded. One the store
        refused is a failed try of each (``queue`` None: the step is ending, so they have
        failed)."""
        if outcome is None:
            return
        written, error = outcome
        for index, (ids, (count, text, duration)) in sorted(written.items()):
            if error is None:
                self.rows[index]["models"] = ids
                self._succeeded(index, count, text.encode("utf-8"), duration)
                continue
            message = f"ModelRegistrationError: the mini batch's models were not registered: {error}"
            if queue is not None:
                self._try_failed(index, message, None, duration, queue)
            else:
                self.rows[index]["tries"] = self.settings["run_max_try"]  # no try is left: the step ends
                self._try_failed(index, message, None, duration, collections.deque())

    def _succeeded(self, index: int, count: int, data: bytes, duration: float) -> None:
        row = self.rows[index]
        row.update(status="Succeeded", results=count, error=None, traceback=None)
        row["duration_s"] = round(row["duration_s"] + duration, 6)
        if self.append_file is not None:
            self._keep_result(index, data)
        items = row["items"] or 0
        if count < items:  # Azure ML: each returned element is one item that succeeded
            self.failed_items += items - count
            self._check_thresholds()

    def _keep_result(self, index: int, data: bytes) -> None:
        self.spool.seek(0, os.SEEK_END)
        self.spans[index] = (self.spool.tell(), len(data))
        self.spool.write(data)

    def _try_failed(self, index: int, error: str, trace: str | None, duration: float,
                    queue: collections.deque) -> None:
        row = self.rows[index]
        row.update(error=error, traceback=trace)
        row["duration_s"] = round(row["duration_s"] + duration, 6)
        self.log(f"mini batch {row['batch_id']}: try {row['tries']} of {self.settings['run_max_try']} failed: {error}")
        if row["tries"] < self.settings["run_max_try"]:
            queue.append(self.batches[index])
            return
        row["status"] = "Failed"
        self.failed_batches += 1
        self.failed_items += row["items"] if row["items"] is not None else 1
        self._check_thresholds()

    def _check_thresholds(self) -> None:
        settings = self.settings
        threshold = settings["error_threshold"]
        if threshold != -1 and self.failed_items > threshold:
            self.aborted = (f"error_threshold={threshold} exceeded: {self.failed_items} item(s) failed")
        allowed = settings["allowed_failed_count"]
        if self.aborted is None and allowed is not None and allowed != -1 and self.failed_batches > allowed:
            self.aborted = (f"allowed_failed_count={allowed} exceeded: {self.failed_batches} mini batch(es) failed")

    def _check_percent(self) -> None:
        """Once every mini batch has been handed out (Azure ML's rule)."""
        percent = self.settings["allowed_failed_percent"]
        if percent is not None and self.total and self.failed_batches * 100 / self.total > percent:
            self.aborted = (f"allowed_failed_percent={percent} exceeded: {self.failed_batches} of {self.total} "
                            f"mini batches failed ({self.failed_batches * 100 / self.total:.1f}%)")

    # -- the end -------------------------------------------------------------------------
    def _finish(self) -> None:
        from ...run import Run
        if self.aborted is None:
            self._check_thresholds()
            self._check_percent()
        rows = [self.rows[i] for i in sorted(self.rows)]
        if self.append_file is not None:
            with open(self.append_file, "wb") as sink:
                for index in sorted(self.rows):
                    if index in self.spans:
                        start, length = self.spans[index]
                        self.spool.seek(start)
                        self.rows[index]["result_span"] = [sink.tell(), length]
                        sink.write(self.spool.read(length))
        counts = collections.Counter(row["status"] for row in rows)
        summary = {"batches": self.total, "succeeded": counts["Succeeded"], "failed": counts["Failed"],
                   "not_run": counts["NotRun"], "reused": self.carried, "failed_items": self.failed_items,
                   "aborted": self.aborted}
        run = Run.get_context()
        document = {"version": 1, "run_id": run.id, "description": self.settings.get("description"), "summary": summary,
                    "output_folder": os.path.relpath(self.output_dir) + "/",
                    "append_row_file": os.path.relpath(self.append_file) if self.append_file else None,
                    "partitions": rows}
        with tempfile.TemporaryDirectory(prefix="runyard-parallel-") as tmp:
            path = Path(tmp) / "partitions.json"
            path.write_text(json.dumps(document, default=str), encoding="utf-8")
            run.upload_file(table.FILE, str(path))
        run.add_properties({table.UNFINISHED_PROPERTY: str(self.total - counts["Succeeded"])})
        if self.models is not None and self.models.written:
            self.log(f"{self.models.written} model(s) registered in bulk in {self.models.seconds:.2f} s")
        failed = [row["batch_id"] for row in rows if row["status"] == "Failed"]
        shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        self.log(f"summary: {counts['Succeeded']} of {self.total} mini batches succeeded"
                 + (f" ({summary['reused']} carried over)" if summary["reused"] else "")
                 + f", {counts['Failed']} failed" + (f" ({shown})" if failed else "")
                 + f", {counts['NotRun']} not run; {self.failed_items} failed item(s); "
                 f"details: run.get_partition_results()")
        if self.aborted is not None:
            raise StepFailed(self.aborted)

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] ParallelRunStep: {message}", flush=True)
