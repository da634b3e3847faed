"""``RayActorPool``: a ParallelRunStep's workers as Ray actors, for the Ray target.

The coordinator is the step's Ray job; ``ray.init()`` there joins the cluster with the job's
runtime environment (the snapshot as working directory, runyard's package, the run's
variables), which every actor inherits, so ``Run.get_context()`` in a worker is the step's
run, as on the local target. The pool reserves one placement-group bundle of
``process_count_per_node`` CPUs on each of ``node_count`` nodes (``STRICT_SPREAD``; default
count: the CPUs of the ``node_count``-th largest node) and starts one actor, of one CPU, per
worker there; a replacement goes where its predecessor was.

An actor may be on another machine than the coordinator's job folder, so nothing is read
from it by path:

- each actor works in a copy of the snapshot of its own, with the step's side inputs unpacked
  at the same paths as in the job folder (an argument naming one works unchanged);
- a mini batch travels with its data (``batches.packed``): a file batch's files as bytes,
  written into the actor's folder at the same relative paths for ``run()`` and removed after
  it; a partition's table files as bytes, read into the DataFrame there; a DataFrame of rows
  as it is;
- what a worker writes under ``outputs/`` (``EntryScript().output_dir`` is there; it starts
  empty) comes back to the same path of the job folder after each call, and its printed
  output and log lines
  come back with each answer and are written to the step's log (a killed actor's last lines
  stay in Ray's log of that worker).
"""

from __future__ import annotations

import collections
import io
import os
import shutil
import sys
import tarfile
import time
import traceback
from pathlib import Path
from typing import Any

from .batches import packed
from .pool import WorkerHandle, WorkerPool
from .worker import EntryScriptRunner

_OUTPUTS = "outputs"
_WAIT_NOTE_S = 10.0


class RayActorPool(WorkerPool):
    """``node_count`` x ``process_count_per_node`` actors (see the module)."""

    descriptors = False  # an actor's messages come as Ray object refs: ``wait`` watches them

    def __init__(self, settings: dict[str, Any], arguments: list[str], output_dir: str, side_inputs: list[str]):
        self.settings = settings
        self.arguments = arguments
        self.node_count = int(settings.get("node_count") or 1)
        here = Path.cwd()
        output = Path(output_dir).absolute()
        # where an actor's files come back to: the job folder's outputs/, or the step's output elsewhere
        self.home_root = here / _OUTPUTS if _inside(output, here / _OUTPUTS) else output
        self.output_below = output.relative_to(self.home_root).as_posix() if output != self.home_root else ""
        self.side_inputs = side_inputs
        self.per_node: int | None = None
        self.group: Any = None
        self.side_archive: Any = None
        self.on_bundle: list[int] = []
        self.actor_class: Any = None

    # -- the cluster -------------------------------------------------------------------------
    def _connect(self) -> Any:
        import ray
        if not ray.is_initialized():
            # a Ray job's process: RAY_ADDRESS names its cluster; the actors' output comes back
            # with their answers (see _WorkerActor), not through Ray's log forwarding
            ray.init(address=os.environ.get("RAY_ADDRESS") or "auto", log_to_driver=False)
        return ray

    def capacity(self) -> int:
        if self.per_node is None:
            ray = self._connect()
            self.per_node = self.settings["process_count_per_node"] or _node_cpus(ray, self.node_count)
        return self.node_count * self.per_node

    def _reserve(self) -> None:
        from ray.exceptions import GetTimeoutError
        from ray.util.placement_group import placement_group
        ray = self._connect()
        bundles = [{"CPU": float(self.capacity() // self.node_count)}] * self.node_count
        self.group = placement_group(bundles, strategy="STRICT_SPREAD" if self.node_count > 1 else "STRICT_PACK")
        waited = 0.0
        while True:
            try:
                ray.get(self.group.ready(), timeout=_WAIT_NOTE_S)
                break
            except GetTimeoutError:
                waited += _WAIT_NOTE_S
                nodes = [n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"]]
                print(f"ParallelRunStep: waiting for {self.node_count} node(s) with {bundles[0]['CPU']:g} free CPU(s) "
                      f"each ({waited:g} s; the cluster's nodes have {', '.join(f'{c:g}' for c in nodes)} CPUs; "
                      f"lower node_count or process_count_per_node if it never has them)", flush=True)
        self.on_bundle = [0] * self.node_count
        self.side_archive = ray.put(_archive(self.side_inputs))

    # -- workers -------------------------------------------------------------------------------
    def start(self, worker_id: int) -> WorkerHandle:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
        if self.group is None:
            self._reserve()
        ray = self._connect()
        bundle = min(range(self.node_count), key=lambda b: self.on_bundle[b])
        self.on_bundle[bundle] += 1
        if self.actor_class is None:
            self.actor_class = ray.remote(_WorkerActor)
        actor = self.actor_class.options(
            num_cpus=1, max_restarts=0, max_task_retries=0, name=None,
            scheduling_strategy=PlacementGroupSchedulingStrategy(self.group, placement_group_bundle_index=bundle),
        ).remote(self.settings, worker_id, self.arguments, self.output_below, self.side_archive)
        return _RayWorker(self, worker_id, actor, bundle)

    def wait(self, handles: list[WorkerHandle], timeout: float) -> None:
        refs = [h.pending[0] for h in handles if h.pending and h.reason is None]
        if refs:
            self._connect().wait(refs, num_returns=1, timeout=timeout)
        else:
            time.sleep(min(timeout, 0.05))

    def close(self) -> None:
        import ray
        if not ray.is_initialized():
            return
        if self.group is not None:
            from ray.util.placement_group import remove_placement_group
            try:
                remove_placement_group(self.group)
            except Exception:  # noqa: BLE001 - the job's end removes it anyway
                pass
        ray.shutdown()

    def _came_back(self, reply: dict[str, Any]) -> None:
        """An actor's printed output to the step's log, its files into the job folder."""
        if reply["output"]:
            sys.stdout.write(reply["output"])
            sys.stdout.flush()
        for relative, data in reply["files"]:
            target = self.home_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")
            partial.write_bytes(data)
            os.replace(partial, target)


class _RayWorker(WorkerHandle):
    """The coordinator's side of one actor: the calls it has not answered yet, in order."""

    def __init__(self, pool: RayActorPool, worker_id: int, actor: Any, bundle: int):
        self.pool = pool
        self.worker_id = worker_id
        self.actor = actor
        self.bundle = bundle
        self.pending: collections.deque = collections.deque([actor.start.remote()])
        self.inbox: collections.deque = collections.deque()
        self.reason: str | None = None
        self.ended = False

    def send(self, message: Any) -> None:
        # two calls, so that the coordinator knows a mini batch's items before run() may die
        self.pending.append(self.actor.read.remote(packed(message)))
        self.pending.append(self.actor.run.remote())

    def receive(self) -> Any | None:
        self._collect()
        return self.inbox.popleft() if self.inbox else None

    def _collect(self) -> None:
        import ray
        from ray.exceptions import RayActorError
        while self.pending and self.reason is None:
            ready, _ = ray.wait([self.pending[0]], timeout=0)
            if not ready:
                return
            ref = self.pending.popleft()
            try:
                reply = ray.get(ref)
            except RayActorError as e:
                self.reason = f"its Ray actor died: {_first_line(e)}"
            except Exception as e:  # noqa: BLE001 - the call could not be made: the worker is of no use
                self.reason = f"a call to its Ray actor failed: {type(e).__name__}: {_first_line(e)}"
            else:
                self.pool._came_back(reply)
                self.inbox.extend(reply["messages"])
        if self.reason is not None:
            self.pending.clear()

    def exit_reason(self) -> str | None:
        return self.reason

    def kill(self) -> None:
        import ray
        if not self.ended:
            self.ended = True
            self.pool.on_bundle[self.bundle] -= 1
            self.pending.clear()
            try:
                ray.kill(self.actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self.reason is None:
            self.reason = "killed"

    def close(self, timeout: float) -> None:
        import ray
        if self.reason is None and not self.ended:
            try:
                self.pool._came_back(ray.get(self.actor.stop.remote(), timeout=timeout))
            except Exception:  # noqa: BLE001 - it is killed below either way
                pass
        self.kill()


class _WorkerActor:
    """One worker on a node (see the module): an ``EntryScriptRunner`` in a folder of its own,
    answering each call with its messages, its output and the files it wrote."""

    def __init__(self, settings: dict[str, Any], worker_id: int, arguments: list[str], output_below: str,
                 side_archive: bytes):
        # a failure here is answered by start() as init()'s would be: an exception raised in an
        # actor's constructor reaches the coordinator only as Ray's "could not deserialize"
        self.captured: list[str] = []
        self.sent: dict[str, tuple[int, int]] = {}
        self.setup_error: str | None = None
        try:
            from ...compute._ray_job import private_copy
            self.work = private_copy(os.getcwd(), f"{os.environ.get('RUNYARD_RUN_ID', 'run')}-worker{worker_id}")
            os.chdir(self.work)
            with tarfile.open(fileobj=io.BytesIO(side_archive)) as tar:
                if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
                    tar.extractall(self.work, filter="data")
                else:  # the coordinator made the archive of its own folder's paths
                    tar.extractall(self.work)
            self.outputs = self.work / _OUTPUTS
            (self.outputs / output_below).mkdir(parents=True, exist_ok=True)
            sys.stdout = _Tee(sys.stdout, self.captured)
            sys.stderr = _Tee(sys.stderr, self.captured)
            self.runner = EntryScriptRunner(settings, worker_id, arguments, str(self.outputs / output_below))
        except Exception:  # noqa: BLE001 - answered by start()
            self.setup_error = "the worker's Ray actor could not be set up:\n" + traceback.format_exc()
        self.read_ok = False

    def start(self) -> dict[str, Any]:
        if self.setup_error is not None:
            return {"messages": [("init_failed", self.setup_error)], "output": "", "files": []}
        return self._reply([self.runner.start()])

    def read(self, batch: Any) -> dict[str, Any]:
        message = self.runner.read(batch, str(self.work))
        self.read_ok = message[0] == "started"
        return self._reply([message])

    def run(self) -> dict[str, Any]:
        if not self.read_ok:  # the mini batch could not be read: its failure is already answered
            return self._reply([])
        self.read_ok = False
        batch = self.runner.batch
        try:
            return self._reply(self.runner.run())
        finally:
            for _, relative, _ in batch.contents if batch.kind == "files" and batch.contents else []:
                try:
                    (self.work / relative).unlink()
                except OSError:
                    pass

    def stop(self) -> dict[str, Any]:
        """``shutdown()``, and this actor's folder goes (a killed actor's stays in the node's
        temporary folder)."""
        if self.setup_error is not None:
            reply = {"messages": [], "output": "", "files": []}
        else:
            self.runner.shutdown()
            reply = self._reply([])
        work = getattr(self, "work", None)
        if work is not None:
            os.chdir(work.parent)
            shutil.rmtree(work, ignore_errors=True)
        return reply

    def _reply(self, messages: list[Any]) -> dict[str, Any]:
        sys.stdout.flush()
        sys.stderr.flush()
        output, self.captured[:] = "".join(self.captured), []
        files = []
        for path in sorted(self.outputs.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            stat = path.stat()
            relative = path.relative_to(self.outputs).as_posix()
            if self.sent.get(relative) != (stat.st_mtime_ns, stat.st_size):
                self.sent[relative] = (stat.st_mtime_ns, stat.st_size)
                files.append((relative, path.read_bytes()))
        return {"messages": messages, "output": output, "files": files}


class _Tee(io.TextIOBase):
    """A stream that writes to ``stream`` (Ray's log of the worker) and keeps the text."""

    def __init__(self, stream: Any, kept: list[str]):
        self.stream = stream
        self.kept = kept

    def write(self, text: str) -> int:
        self.kept.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "errors", None)


def _node_cpus(ray: Any, node_count: int) -> int:
    """The most CPUs ``node_count`` nodes of the cluster each have."""
    cpus = sorted((int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]), reverse=True)
    if not cpus:
        return 1
    return max(1, cpus[node_count - 1] if len(cpus) >= node_count else cpus[-1])


def _archive(paths: list[str]) -> bytes:
    """The side inputs inside the job folder, as a tar of their paths relative to it (the files
    links point to, not the links)."""
    here = Path.cwd()
    buffer = io.BytesIO()
    # dereference: a side input in the job folder is a link to the datastore, which the
    # actor's node may not have
    with tarfile.open(fileobj=buffer, mode="w", dereference=True) as tar:
        for path in paths:
            full = Path(path).absolute()
            if full.exists() and _inside(full, here):
                tar.add(full, arcname=full.relative_to(here).as_posix())
    return buffer.getvalue()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
