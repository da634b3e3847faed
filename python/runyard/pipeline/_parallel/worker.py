"""A ParallelRunStep's worker: import the entry script, call ``init()`` once, then ``run()``
each mini batch the coordinator sends until it sends None. ``EntryScriptRunner`` does the
work; ``main`` is a worker process of ``LocalProcessPool`` (messages through a pipe), and the
Ray pool's actors drive the same runner (``ray_pool``)."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

#: the entry script's logger (``EntryScript().logger``)
LOGGER_NAME = "runyard.entry_script"
OUTPUT_DIR_ENV = "RUNYARD_PARALLEL_OUTPUT_DIR"


class MiniBatchContext:
    """``run(mini_batch, mini_batch_context)``'s second argument."""

    def __init__(self, batch: Any):
        #: the partition's key values ({"store": "1"}), or {} for a mini batch of no partition
        self.partition_key_value = dict(batch.partition or {})
        #: the input (dataset input name) the mini batch comes from
        self.dataset = batch.input
        self.minibatch_index = batch.index

    def __repr__(self) -> str:
        return f"MiniBatchContext(partition_key_value={self.partition_key_value!r}, dataset={self.dataset!r})"


def main(connection: Any, settings: dict[str, Any], worker_id: int, arguments: list[str], output_dir: str) -> None:
    """A worker process of ``LocalProcessPool``: messages through ``connection``."""
    runner = EntryScriptRunner(settings, worker_id, arguments, output_dir)
    message = runner.start()
    connection.send(message)
    if message[0] != "ready":
        return
    while True:
        try:
            batch = connection.recv()
        except EOFError:  # the coordinator is gone (the step was canceled): nothing more to do
            return
        if batch is None:
            break
        message = runner.read(batch)
        connection.send(message)
        if message[0] == "started":
            for message in runner.run():
                connection.send(message)
    runner.shutdown()


class EntryScriptRunner:
    """What a worker does, whatever carries its messages (a pipe, Ray): import the entry script
    and call ``init()`` (``start``), read a mini batch (``read``: ``("started", index, items)``),
    call ``run()`` on it (``run``: the models it registered, ``("models", index, [...])``, if
    any, then ``("done", index, results, lines, seconds)``; or ``("failed", index, error,
    traceback, seconds)``), and ``shutdown()`` at the end."""

    def __init__(self, settings: dict[str, Any], worker_id: int, arguments: list[str], output_dir: str):
        self.settings = settings
        self.worker_id = worker_id
        script = self.script = Path(settings["entry_script"]).resolve()
        sys.argv = [str(script), *arguments]
        sys.path.insert(0, str(script.parent))
        os.environ[OUTPUT_DIR_ENV] = output_dir
        _set_up_logging(settings["logging_level"], worker_id)
        self.module: Any = None
        self.batch: Any = None
        self.mini_batch: Any = None
        self.started = 0.0

    def start(self) -> tuple[Any, ...]:
        try:
            spec = importlib.util.spec_from_file_location(self.script.stem, self.script)
            module = importlib.util.module_from_spec(spec)
            sys.modules[self.script.stem] = module
            spec.loader.exec_module(module)
            module.init()
        except BaseException:
            return ("init_failed", traceback.format_exc())
        finally:
            _flush_run()
        self.module = module
        self.takes_context = _takes_context(module.run)
        return ("ready",)

    def read(self, batch: Any, folder: str | None = None) -> tuple[Any, ...]:
        """``folder``: where the files of a mini batch that carries them are written."""
        from . import models
        from .batches import read_mini_batch
        self.started = time.monotonic()
        self.batch = batch
        models.start(batch.index)
        try:
            self.mini_batch = read_mini_batch(batch, folder)
        except BaseException as e:
            self.mini_batch = None
            return self._failed(e)
        return ("started", batch.index, len(self.mini_batch))

    def run(self) -> list[tuple[Any, ...]]:
        from . import models
        batch, mini_batch, self.mini_batch = self.batch, self.mini_batch, None
        try:
            run = self.module.run
            result = run(mini_batch, MiniBatchContext(batch)) if self.takes_context else run(mini_batch)
            count, text = _result_rows(result, self.settings["output_action"])
            registered = models.take()
            # the coordinator registers them once the mini batch is done
            return [*([("models", batch.index, registered)] if registered else []),
                    ("done", batch.index, count, text, time.monotonic() - self.started)]
        except BaseException as e:
            return [self._failed(e)]
        finally:
            _flush_run()

    def _failed(self, error: BaseException) -> tuple[Any, ...]:
        from . import models
        models.take()  # a failed try registers nothing
        _flush_run()
        return ("failed", self.batch.index, f"{type(error).__name__}: {error}", traceback.format_exc(),
                time.monotonic() - self.started)

    def shutdown(self) -> None:
        shutdown = getattr(self.module, "shutdown", None)
        if callable(shutdown):
            shutdown()
        _flush_run()


def _takes_context(run: Any) -> bool:
    try:
        parameters = list(inspect.signature(run).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def _result_rows(result: Any, output_action: str) -> tuple[int, str]:
    """How many items succeeded (one per element or row) and, for append_row, their lines."""
    if hasattr(result, "to_csv") and hasattr(result, "columns"):  # a pandas DataFrame
        text = result.to_csv(sep=" ", header=False, index=False) if output_action == "append_row" else ""
        return len(result), text
    if isinstance(result, (list, tuple)):
        text = "".join(f"{item}\n" for item in result) if output_action == "append_row" else ""
        return len(result), text
    raise TypeError(f"run() returned {type(result).__name__}; it must return a list or a pandas DataFrame, one "
                    f"element or row per item of the mini batch that succeeded")


def _flush_run() -> None:
    from ...run import Run
    if Run._context is not None:
        Run._context.flush()


def _set_up_logging(level: str, worker_id: int) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s worker {worker_id} %(levelname)s %(message)s"))
    logger.handlers[:] = [handler]
    logger.propagate = False
