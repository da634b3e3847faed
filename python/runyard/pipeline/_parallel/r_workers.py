"""R entry scripts of a ParallelRunStep: an ``Rscript`` per worker, kept up between mini batches.

An entry script ending in ``.R`` defines ``init <- function() ...`` and ``run <- function(mini_batch,
mini_batch_context) ...`` (or ``run(mini_batch)``). ``RProcessPool`` starts each worker as
``Rscript r_worker.R`` (the R half of this module, beside it), which sources the script, calls
``init()`` once, then runs each mini batch it is sent until it is told to stop. The coordinator
sees the same ``WorkerHandle`` as for Python workers, so timeouts, retries, thresholds and the
partition table are the same.

The two talk over a TCP socket on 127.0.0.1 (base R has no Unix sockets; stdout and stderr stay
the step's log): each worker listens on a port of its own, the R process connects and first
sends the token it was given, so nothing else on the machine can speak for it. Messages are one
JSON object per line. To R: ``{"index", "input", "partition", "files"}`` for file paths or
``{"index", "input", "partition", "names", "types", "levels", "rows", "data", "packed"}`` for a
table (columns typed ``integer``, ``double``, ``logical``, ``character``, ``factor`` or
``datetime``; the numbers in ``packed`` name the columns sent as base64 of their little-endian
values, the others are JSON arrays),
``{"index", "error", "traceback"}`` for a mini batch whose data could not be read (the worker
reports the failed try) and ``{"stop": true}``. A thread per worker reads and sends its next mini
batch, so the coordinator goes on attending to the others meanwhile. From R: ``ready``,
``init_failed``, ``started``, ``models``, ``done`` and ``failed``, which become the tuples
``worker.main`` sends. ``models`` (``{"index", "models": [{"model_name", "model_path", ...}]}``,
what ``entry_script()$register_model()`` gathered while ``run()`` ran, sent ahead of its
``done``) names copies the worker made of the models' files; the coordinator prepares them
as a Python worker's ``EntryScript().register_model`` does (``models.prepare``: checked, the
files uploaded into the step run's files) and removes the copies. A registration it refuses
makes the mini batch's ``done`` a failed try, with the reason.

``check_entry_script`` parses the script with R when the config is made: it must assign
functions to ``init`` and ``run`` at its top level.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from .batches import MiniBatch, read_mini_batch
from .pool import WorkerHandle, WorkerPool, available_cpus
from .worker import OUTPUT_DIR_ENV

WORKER_SCRIPT = Path(__file__).with_name("r_worker.R")
#: what the R worker reads besides its command line (the entry script's arguments)
PORT_ENV = "RUNYARD_PARALLEL_PORT"
TOKEN_ENV = "RUNYARD_PARALLEL_TOKEN"
SCRIPT_ENV = "RUNYARD_PARALLEL_ENTRY_SCRIPT"
WORKER_ID_ENV = "RUNYARD_PARALLEL_WORKER_ID"
LOGGING_LEVEL_ENV = "RUNYARD_PARALLEL_LOGGING_LEVEL"
OUTPUT_ACTION_ENV = "RUNYARD_PARALLEL_OUTPUT_ACTION"


def is_r_script(entry_script: str) -> bool:
    return entry_script.lower().endswith(".r")


def find_rscript(rscript_path: str | None) -> str | None:
    return shutil.which(rscript_path or "Rscript")


# -- the check when the config is made ---------------------------------------------------------
_PARSE_CHECK = r"""
file <- commandArgs(trailingOnly = TRUE)[[1]]
exprs <- tryCatch(parse(file, keep.source = FALSE), error = function(e) {
  cat("SYNTAX\n", conditionMessage(e), "\n", sep = "")
  quit(status = 0)
})
found <- list()
for (e in exprs) {
  if (is.call(e) && length(e) == 3 && as.character(e[[1]]) %in% c("<-", "=", "<<-")) {
    target <- e[[2]]; value <- e[[3]]
  } else if (is.call(e) && length(e) == 3 && as.character(e[[1]]) == "->") {
    target <- e[[3]]; value <- e[[2]]
  } else next
  if (is.symbol(target) && as.character(target) %in% c("init", "run") && is.call(value) &&
      identical(value[[1]], as.name("function"))) {
    found[[as.character(target)]] <- list(formals = value[[2]])  # NULL for function()
  }
}
cat("FOUND", names(found), "\n")
if (!is.null(found$run)) {
  formals <- found$run$formals
  cat("RUN", length(formals), "..." %in% names(formals), "\n")
}
"""


def check_entry_script(path: Path, shown: str, rscript_path: str | None) -> None:
    """``shown`` (the entry script as the user named it) parses as R and defines ``init`` and
    ``run`` at its top level, ``run`` taking one or two arguments."""
    rscript = find_rscript(rscript_path)
    if rscript is None:
        raise ConfigError(f"ParallelRunConfig: entry_script {shown!r} is an R script, and "
                          f"{rscript_path or 'Rscript'!r} was not found: install R (Debian: apt-get install "
                          f"r-base-core) or set the environment's r.rscript_path")
    done = subprocess.run([rscript, "--vanilla", "-e", _PARSE_CHECK, str(path)], capture_output=True, text=True,
                          timeout=60)
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines:
        raise ConfigError(f"ParallelRunConfig: entry_script {shown!r} could not be read by {rscript}: "
                          f"{(done.stderr or done.stdout).strip()}")
    if lines[0] == "SYNTAX":
        raise ConfigError(f"ParallelRunConfig: entry_script {shown!r} is not valid R: {' '.join(lines[1:]).strip()}")
    found = next((line.split()[1:] for line in lines if line.startswith("FOUND")), [])
    missing = [name for name in ("init", "run") if name not in found]
    if missing:
        raise ConfigError(f"ParallelRunConfig: entry_script {shown!r} defines no "
                          f"{' and no '.join(f'{m}()' for m in missing)} at its top level; an R entry script "
                          f"assigns init <- function() ... (called once per worker process) and "
                          f"run <- function(mini_batch, mini_batch_context) ... (or run(mini_batch))")
    run = next((line.split()[1:] for line in lines if line.startswith("RUN")), None)
    if run is not None and run[1] != "TRUE" and int(run[0]) not in (1, 2):
        raise ConfigError(f"ParallelRunConfig: entry_script {shown!r}: run must take mini_batch, or mini_batch "
                          f"and mini_batch_context, as its arguments (it takes {run[0]})")


# -- the pool ------------------------------------------------------------------------------------
class RProcessPool(WorkerPool):
    """R worker processes on this machine, each started once and fed mini batches over a socket."""

    def __init__(self, settings: dict[str, Any], arguments: list[str], output_dir: str):
        self.settings = settings
        self.arguments = [str(a) for a in arguments]
        self.output_dir = output_dir
        rscript = find_rscript(settings.get("rscript_path"))
        if rscript is None:
            raise ConfigError(f"the entry script {settings['entry_script']!r} is an R script and "
                              f"{settings.get('rscript_path') or 'Rscript'!r} is not on this machine's PATH")
        self.rscript = rscript

    def capacity(self) -> int:
        return self.settings["process_count_per_node"] or available_cpus()

    def start(self, worker_id: int) -> WorkerHandle:
        from ...compute._processes import die_with_parent
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        token = secrets.token_hex(16)
        env = dict(os.environ)
        env.update({PORT_ENV: str(listener.getsockname()[1]), TOKEN_ENV: token,
                    SCRIPT_ENV: self.settings["entry_script"], WORKER_ID_ENV: str(worker_id),
                    LOGGING_LEVEL_ENV: self.settings["logging_level"],
                    OUTPUT_ACTION_ENV: self.settings["output_action"], OUTPUT_DIR_ENV: self.output_dir})
        # log_metric_to_run() in a worker reaches runyard through reticulate: this Python has it
        env.setdefault("RETICULATE_PYTHON", sys.executable)
        process = subprocess.Popen([self.rscript, "--no-save", "--no-restore", str(WORKER_SCRIPT), *self.arguments],
                                   env=env, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent(signal.SIGKILL))
        return _RWorker(worker_id, process, listener, token)


class _RWorker(WorkerHandle):
    def __init__(self, worker_id: int, process: subprocess.Popen, listener: socket.socket, token: str):
        self.worker_id = worker_id
        self.process = process
        self.listener: socket.socket | None = listener
        self.token = token
        self.connection: socket.socket | None = None
        self.buffer = b""
        self.messages: list[Any] = []
        self.pidfd = os.pidfd_open(process.pid) if hasattr(os, "pidfd_open") else None
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.sender: threading.Thread | None = None
        #: (index, error, traceback) of a mini batch whose models were refused, until its "done"
        self.refused: tuple[int, str, str] | None = None

    def send(self, message: Any) -> None:
        if self.connection is None:  # the coordinator sends only to a worker that said "ready"
            raise RuntimeError(f"R worker {self.worker_id} is not connected")
        if self.sender is None:
            self.sender = threading.Thread(target=self._send_loop, args=(self.connection,), daemon=True,
                                           name=f"runyard-r-worker-{self.worker_id}")
            self.sender.start()
        self.outbox.put(message)

    def _send_loop(self, connection: socket.socket) -> None:
        """Read and send each mini batch here, so the coordinator attends to the other workers
        meanwhile (reading a partition's files takes milliseconds, like its run())."""
        while True:
            message = self.outbox.get()
            if message is _CLOSED:
                return
            if message is None:
                data: dict[str, Any] = {"stop": True}
            else:
                try:
                    data = encode_batch(message)
                except Exception as e:  # data that cannot be read: the worker reports the failed try
                    data = {"index": message.index, "error": f"{type(e).__name__}: {e}",
                            "traceback": traceback.format_exc()}
            line = json.dumps(data, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"
            try:
                _send_all(connection, line)
            except (OSError, ValueError):  # ValueError: the socket was closed meanwhile
                return  # the worker died: exit_reason() says so on the coordinator's next look

    def waitables(self) -> list[Any]:
        return [w for w in (self.connection or self.listener, self.pidfd) if w is not None]

    def receive(self) -> Any | None:
        if not self.messages:
            self._read()
        return self.messages.pop(0) if self.messages else None

    def _read(self) -> None:
        if self.connection is None:
            self._accept()
            if self.connection is None:
                return
        while True:
            try:
                chunk = self.connection.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                chunk = b""
            if not chunk:
                break
            self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            message = json.loads(line)
            if message["kind"] == "models":
                models, self.refused = _prepared_models(message)
                if models is not None:
                    self.messages.append(models)
                continue
            translated = _translate(message)
            if translated[0] == "done" and self.refused is not None and self.refused[0] == translated[1]:
                translated = ("failed", *self.refused, translated[4])
            if translated[0] in ("done", "failed"):
                self.refused = None
            self.messages.append(translated)

    def _accept(self) -> None:
        """The worker's connection, once it has sent its token."""
        if self.listener is None:
            return
        try:
            connection, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        connection.settimeout(10)
        try:
            hello = b""
            while not hello.endswith(b"\n") and len(hello) < 256:
                part = connection.recv(1)
                if not part:
                    break
                hello += part
        except OSError:
            hello = b""
        if hello.strip() != self.token.encode():
            connection.close()  # not our worker
            return
        connection.setblocking(False)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small messages, no waiting
        self.connection = connection
        self.listener.close()
        self.listener = None

    def exit_reason(self) -> str | None:
        code = self.process.poll()
        if code is None:
            return None
        return f"killed by signal {-code}" if code < 0 else f"exited with code {code}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close()

    def close(self, timeout: float) -> None:
        if self.connection is None:  # still starting (the others did the work): nothing to end well
            self.kill()
            return
        self.send(None)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def _close(self) -> None:
        self.outbox.put(_CLOSED)
        for handle in (self.connection, self.listener):
            if handle is not None:
                handle.close()
        self.connection = self.listener = None
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


_CLOSED = object()


def _send_all(connection: socket.socket, data: bytes) -> None:
    """``sendall`` on a socket that does not block (the coordinator reads it without waiting)."""
    view = memoryview(data)
    while view:
        try:
            view = view[connection.send(view):]
        except (BlockingIOError, InterruptedError):
            select.select([], [connection], [], 1.0)


def _translate(message: dict[str, Any]) -> tuple[Any, ...]:
    """An R worker's message as the tuple a Python worker sends (``worker.main``)."""
    kind = message["kind"]
    if kind == "ready":
        return ("ready",)
    if kind == "init_failed":
        return ("init_failed", message["error"])
    if kind == "started":
        return ("started", message["index"], message["items"])
    if kind == "done":
        return ("done", message["index"], message["count"], message["text"], message["duration"])
    return ("failed", message["index"], message["error"], message["traceback"], message["duration"])


def _prepared_models(message: dict[str, Any]) -> tuple[tuple | None, tuple[int, str, str] | None]:
    """An R worker's registrations of one mini batch as a Python worker's ``("models", index,
    [...])``, or why they were refused; the copies the worker made are removed either way."""
    from ...run import Run
    from . import models
    index, items, taken = message["index"], [], set()
    entry: dict[str, Any] = {}
    try:
        run = Run.get_context()
        for entry in message["models"]:
            options = {key: entry.get(key) for key in ("tags", "properties", "description", "model_framework",
                                                       "model_framework_version")}
            options.update(datasets=None, sample_input_dataset=None, sample_output_dataset=None,
                           resource_configuration=None)
            item = models.prepare(run, index, taken, entry.get("model_name"), entry.get("model_path"),
                                  entry.get("partition"), options)
            taken.add(item["name"])
            items.append(item)
    except Exception as e:
        return None, (index, f"{type(e).__name__}: register_model(model_name = {entry.get('model_name')!r}): {e}",
                      traceback.format_exc())
    finally:
        for entry in message["models"]:
            if entry.get("staged"):
                shutil.rmtree(entry["staged"], ignore_errors=True)
    return ("models", index, items), None


# -- mini batches as R reads them -------------------------------------------------------------------
def encode_batch(batch: MiniBatch) -> dict[str, Any]:
    message: dict[str, Any] = {"index": batch.index, "input": batch.input, "partition": dict(batch.partition or {})}
    mini_batch = read_mini_batch(batch)
    if batch.kind == "files":
        message["files"] = mini_batch
        return message
    names, types, levels, data, packed = [], [], {}, {}, []
    for number, (name, column) in enumerate(mini_batch.items(), start=1):
        names.append(str(name))
        binary = _packed_column(column)
        if binary is not None:
            kind, values, column_levels = binary[0], binary[1], None
            packed.append(number)
        else:
            kind, values, column_levels = _column(column)
        types.append(kind)
        data[str(number)] = values
        if column_levels is not None:
            levels[str(number)] = column_levels
    message.update(names=names, types=types, levels=levels, rows=len(mini_batch), data=data, packed=packed)
    return message


def _packed_column(column: Any) -> tuple[str, str] | None:
    """A float column (NaN, missing in pandas, becomes NA in R; infinities stay), or an integer
    one without gaps that fits R's integers, as base64 of its little-endian values: R decodes
    it at once (``readBin``) where a JSON array of numbers costs it about half a millisecond per
    thousand values. Anything else: None (sent as JSON values by ``_column``)."""
    import numpy as np
    kind = column.dtype.kind
    if kind == "f":
        values = column.to_numpy(dtype="<f8")
        return "double", base64.b64encode(np.ascontiguousarray(values).tobytes()).decode("ascii")
    if kind in "iu" and not column.isna().any():
        values = column.to_numpy()
        if len(values) and (values.min() < -(2 ** 31 - 1) or values.max() > 2 ** 31 - 1):
            return None  # R's integers stop there (-2^31 is its NA): _column sends them as doubles
        return "integer", base64.b64encode(np.ascontiguousarray(values, dtype="<i4").tobytes()).decode("ascii")
    return None


def _column(column: Any) -> tuple[str, list[Any], list[str] | None]:
    """A pandas column as (R type, JSON values with None for missing, factor levels); float
    columns go packed (``_packed_column``)."""
    import pandas as pd
    missing = column.isna().to_numpy()
    gaps = bool(missing.any())

    def listed(values: Any) -> list[Any]:
        values = values.tolist() if hasattr(values, "tolist") else list(values)
        if gaps:
            values = [None if m else v for v, m in zip(values, missing.tolist())]
        return values

    if isinstance(column.dtype, pd.CategoricalDtype):
        return "factor", listed(column.astype(str)), [str(v) for v in column.cat.categories]
    kind = column.dtype.kind
    if kind == "b":
        return "logical", listed(column.to_numpy(dtype=object)), None
    if kind in "iu":
        values = listed(column.to_numpy(dtype=object) if gaps else column.to_numpy())
        present = column[~missing] if gaps else column
        small = not len(present) or (int(present.min()) >= -(2 ** 31 - 1) and int(present.max()) <= 2 ** 31 - 1)
        return ("integer" if small else "double"), values, None
    if kind == "M":
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        seconds = (column - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
        return "datetime", listed(seconds.to_numpy(dtype=float)), None
    values = listed(column.to_numpy(dtype=object))
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "logical", values, None
    return "character", [v if v is None or isinstance(v, str) else str(v) for v in values], None
