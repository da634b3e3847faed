"""Where a ParallelRunStep's workers run: a pool that starts workers, hands back a handle for
each and waits on them.

The coordinator speaks to workers only through ``WorkerHandle`` (send a mini batch, read
messages, notice death, kill) and ``WorkerPool``, so the pool is the one thing a target
changes: ``LocalProcessPool`` starts processes next to the coordinator (the local target's
machine, or the run's container on Docker); ``RayActorPool`` (``ray_pool``) starts Ray actors
on ``node_count`` nodes of the cluster; ``RProcessPool`` (``r_workers``) runs R entry scripts.
A pool whose workers have file descriptors (``descriptors``) lets the coordinator watch them
in one selector for the whole step; another one waits in ``wait``.
"""

from __future__ import annotations

import abc
import math
import multiprocessing
import multiprocessing.forkserver
import os
import select
from multiprocessing.connection import wait
from typing import Any

from . import worker


class WorkerHandle(abc.ABC):
    """One worker process: it sends ``("ready",)`` once ``init()`` has run, then for each mini
    batch ``("started", index, items)`` and ``("done", ...)`` or ``("failed", ...)``."""

    worker_id: int

    @abc.abstractmethod
    def send(self, message: Any) -> None:
        """A mini batch to run, or None: no more work."""

    def waitables(self) -> list[Any]:
        """What the coordinator's selector watches for this worker (messages, death): file
        descriptors, or objects with a ``fileno()``. They may change (an R worker's listener,
        then its connection): the coordinator asks again after each look at the worker. None (an
        empty list) for a worker of a pool without ``descriptors``."""
        return []

    @abc.abstractmethod
    def receive(self) -> Any | None:
        """The next message, or None when there is none now."""

    @abc.abstractmethod
    def exit_reason(self) -> str | None:
        """None while the worker lives; else how it ended ("killed by signal 9")."""

    @abc.abstractmethod
    def kill(self) -> None:
        """End the worker now."""

    @abc.abstractmethod
    def close(self, timeout: float) -> None:
        """Let an idle worker end (``shutdown()``), killing it after ``timeout`` seconds."""


class WorkerPool(abc.ABC):
    #: its workers' ``waitables()`` are file descriptors the coordinator may watch itself
    descriptors = True

    @abc.abstractmethod
    def capacity(self) -> int:
        """How many workers run at once at most (``node_count`` x ``process_count_per_node``)."""

    @abc.abstractmethod
    def start(self, worker_id: int) -> WorkerHandle:
        """Start one worker (it imports the entry script and calls ``init()``)."""

    def wait(self, handles: list[WorkerHandle], timeout: float) -> None:
        """Return once one of ``handles`` has a message or has ended, or after ``timeout`` seconds."""
        wait([w for h in handles for w in h.waitables()], timeout=timeout)

    def close(self) -> None:
        """Give back what the pool holds beyond its workers (called once, at the end)."""


def available_cpus() -> int:
    """The CPUs this process may use: its affinity, bounded by a cgroup's CPU quota (a Docker
    container's ``cpus`` limit)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:  # cgroup v2: "max 100000" or "150000 100000"
            quota, period = fh.read().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


class LocalProcessPool(WorkerPool):
    """Worker processes forked from a fork server that has runyard (and pandas) imported, so a
    worker, or its replacement, starts in milliseconds and shares no state with the
    coordinator. Default size: the CPUs this process may use."""

    def __init__(self, settings: dict[str, Any], arguments: list[str], output_dir: str):
        self.context = multiprocessing.get_context("forkserver")
        # pandas and pyarrow too, when they are there (a worker reads tabular mini batches with
        # them): imported once, not by each worker (the fork server passes over a missing one)
        self.context.set_forkserver_preload(["runyard.pipeline._parallel.worker", "runyard.run", "pandas",
                                             "pyarrow.parquet"])
        # started now, it imports those while the coordinator plans the mini batches
        multiprocessing.forkserver.ensure_running()
        self.settings = settings
        self.arguments = arguments
        self.output_dir = output_dir

    def capacity(self) -> int:
        return self.settings["process_count_per_node"] or available_cpus()

    def start(self, worker_id: int) -> WorkerHandle:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=worker.main, name=f"runyard-worker-{worker_id}", daemon=True,
                                       args=(theirs, self.settings, worker_id, self.arguments, self.output_dir))
        process.start()
        theirs.close()
        return _LocalWorker(worker_id, process, ours)


class _LocalWorker(WorkerHandle):
    def __init__(self, worker_id: int, process: Any, connection: Any):
        self.worker_id = worker_id
        self.process = process
        self.connection = connection
        # whether a message waits, in a microsecond (Connection.poll builds a selector each time)
        self._poller = select.poll()
        self._poller.register(connection.fileno(), select.POLLIN)

    def send(self, message: Any) -> None:
        self.connection.send(message)

    def waitables(self) -> list[Any]:
        return [self.connection, self.process.sentinel]

    def receive(self) -> Any | None:
        try:
            if self._poller.poll(0):
                return self.connection.recv()
        except (EOFError, OSError):
            return None
        return None

    def exit_reason(self) -> str | None:
        code = self.process.exitcode
        if code is None:
            return None
        return f"killed by signal {-code}" if code < 0 else f"exited with code {code}"

    def kill(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(5)
        self.connection.close()

    def close(self, timeout: float) -> None:
        try:
            self.connection.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout)
        self.kill()
