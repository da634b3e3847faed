"""The process that runs one job: ``python -m runyard.compute._supervisor WS RUN_ID``.

It moves the run Preparing -> Starting -> Running -> Finalizing -> a final
status, storing each step, and whatever happens it ends the run: an error of
its own becomes a Failed run with the reason, never a run left Running. How
the job itself starts, runs and stops is the target's ``Execution``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

from .. import status as st
from ..errors import ComputeError, EnvironmentBuildError
from . import JobSpec, _processes, get_target
from ._ranks import cancel_grace_s
from .execution import Execution
from .local import cancel_requested, claim_run, open_detached_run, release_run
from .log_shipping import LogShipper

_TAIL_LINES = 20


class _Supervisor:
    def __init__(self, workspace_path: str, run_id: str):
        self.workspace, row = open_detached_run(workspace_path, run_id)
        self.store = self.workspace._store
        self.run_id = run_id
        self.job = JobSpec.from_dict(json.loads(row["definition"]))
        self.logs_dir = self.workspace._artifacts.run_dir(run_id) / "logs"
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.execution: Execution | None = None
        self.started = False
        self.cancel_requested = False
        self.grace_s = cancel_grace_s()
        self.shipper = LogShipper(self.workspace, run_id, self.logs_dir)

    def on_sigterm(self, _signum, _frame) -> None:
        self.cancel_requested = True
        if self.execution is not None and not self.started:
            self.execution.stop(0, None)  # stops an environment build in progress

    def canceled(self) -> bool:
        self.cancel_requested = self.cancel_requested or cancel_requested(self.workspace, self.run_id)
        return self.cancel_requested

    # -- the life of a run ---------------------------------------------------
    def main(self) -> None:
        claim_run(self.workspace, self.run_id, self.on_sigterm)
        self.shipper.start()  # a served run's logs, live (the environment build's too)
        try:
            self._run()
        except BaseException as e:  # the run must end, whatever went wrong here
            traceback.print_exc()
            self._finish(st.FAILED, error=f"runyard supervisor error: {type(e).__name__}: {e}")
        finally:
            self.shipper.stop()
            if self.execution is not None:
                self.execution.cleanup()
            release_run(self.run_id)

    def _run(self) -> None:
        if self.canceled():
            return self._finish(st.CANCELED)
        target = get_target(self.workspace, self.job.target)
        self.execution = target.execution(self.job, self.workspace.work_dir / self.run_id, self.logs_dir)
        self.store.set_status(self.run_id, st.PREPARING)
        try:
            with open(self.logs_dir / "environment_build.log", "a") as build_log:
                self.execution.prepare(build_log)
        except EnvironmentBuildError as e:
            self._upload_logs()
            if self.canceled():
                return self._finish(st.CANCELED)
            return self._finish(st.FAILED, error=f"environment build failed: {e} "
                                                 f"(full log: logs/environment_build.log)")
        except ComputeError as e:  # the target cannot run this job (no GPU, say)
            self._upload_logs()
            return self._finish(st.FAILED, error=f"could not prepare the run on {self.job.target!r}: {e}")
        if self.canceled():
            return self._finish(st.CANCELED)
        self.store.set_status(self.run_id, st.STARTING)
        with open(self.logs_dir / "driver.log", "ab", buffering=0) as output:
            try:
                pid = self.execution.start(output)
            except ComputeError as e:
                output.write(f"runyard: {e}\n".encode())
                self._collect()
                return self._finish(st.FAILED, error=str(e))
            self.started = True
            if pid:
                self.store.set_run_process(self.run_id, host=socket.gethostname(), job_pid=pid,
                                           job_started=_processes.start_time(pid))
            self.store.set_status(self.run_id, st.RUNNING)
            outcome = self._wait(output)
        self._collect()
        self._finish(*outcome)

    def _wait(self, output) -> tuple[str, int | None, str | None]:
        assert self.execution is not None
        deadline = None
        if self.job.max_run_duration_seconds:
            deadline = time.monotonic() + self.job.max_run_duration_seconds
        stop_reason = None
        started = time.monotonic()
        while True:
            code = self.execution.wait(0.05 if time.monotonic() - started < 2 else self.execution.tick_s)
            self.execution.tick()
            if code is not None:
                break
            if deadline and time.monotonic() > deadline:
                stop_reason = (f"the run exceeded max_run_duration_seconds="
                               f"{self.job.max_run_duration_seconds} and was stopped")
                output.write(f"\nrunyard: {stop_reason}: SIGTERM, SIGKILL after {self.grace_s:g} s\n".encode())
            elif self.canceled():
                stop_reason = "canceled"
                output.write(f"\nrunyard: cancel requested: SIGTERM, SIGKILL after {self.grace_s:g} s\n".encode())
            if stop_reason:
                self.execution.stop(self.grace_s, output)
                code = self.execution.wait(5)
                break
        self.execution.tick()
        if stop_reason == "canceled":
            return st.CANCELED, code, None
        if stop_reason:
            return st.FAILED, code, stop_reason
        if code == 0:
            row = self.store.get_run(self.run_id)
            if row and row["error"]:
                return st.FAILED, code, row["error"]
            return st.COMPLETED, code, None
        return st.FAILED, code, self._failure_message(code)

    def _failure_message(self, code: int | None) -> str:
        assert self.execution is not None
        reason = self.execution.failure_reason(code) if code is not None else None
        if reason:
            head = reason
        elif code is None:
            head = "the job's exit code is unknown"
        elif code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            head = f"the process was killed by {name} ({-code})"
        else:
            head = f"the process exited with code {code}"
        tail = _tail(self.logs_dir / "driver.log", _TAIL_LINES)
        raised = _raised(tail)
        if raised:  # the script's exception first: "ModuleNotFoundError: No module named 'torch'"
            head = f"{raised} ({head})"
        return head + (f". Last lines of logs/driver.log:\n{tail}" if tail else "")

    def _collect(self) -> None:
        self.store.set_status(self.run_id, st.FINALIZING)
        assert self.execution is not None
        try:
            self.execution.collect()
        except Exception as e:  # keep the run's own outcome; say what was not kept
            traceback.print_exc()
            with open(self.logs_dir / "driver.log", "ab") as output:
                output.write(f"\nrunyard: could not collect outputs and logs: {e}\n".encode())
        self._upload_logs()

    def _upload_logs(self) -> None:
        """A served workspace gets the logs this machine wrote (driver, build, ranks), whole:
        the copy the live sending made is replaced by the final one."""
        if not self.workspace.url:
            return
        self.shipper.stop()
        try:
            self.workspace._artifacts.put_folder(self.run_id, "logs", self.logs_dir)
        except Exception:  # the run's outcome still gets recorded
            traceback.print_exc()

    def _finish(self, status: str, exit_code: int | None = None, error: str | None = None) -> None:
        fields = {"exit_code": exit_code} if exit_code is not None else {}
        if error:
            fields["error"] = error
        self.store.set_status(self.run_id, status, **fields)
        self.store.end_active_children(self.run_id, status)


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b(?::.*)?$")


def _raised(tail: str) -> str | None:
    """The exception a Python traceback (or R's ``Error``) in the log's tail ended with."""
    lines = tail.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].strip()
        if line.startswith("Traceback (most recent call last)"):
            break
        if _EXCEPTION_LINE.match(line) and any(l.startswith("Traceback") for l in lines[:index]):
            return line[:300]
    for line in reversed(lines):  # R: "Error in f(x) : message" / "Error: message"
        if line.startswith(("Error in ", "Error: ")):
            return line.strip()[:300]
    return None


def _tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 8192))
        text = fh.read().decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


if __name__ == "__main__":
    _Supervisor(sys.argv[1], sys.argv[2]).main()
