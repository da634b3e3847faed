"""The process that runs one local job: ``python -m runyard.compute._supervisor WS RUN_ID``.

It moves the run Preparing -> Starting -> Running -> Finalizing -> a final
status, storing each step, and whatever happens it ends the run: an error of
its own becomes a Failed run with the reason, never a run left Running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .. import status as st
from ..errors import EnvironmentBuildError
from ..run import ENV_RUN_ID, ENV_TRACKING_URI
from ..workspace import Workspace
from . import JobSpec
from .local import process_start_time
from .local_env import materialise_spec, stop_build

_TAIL_LINES = 20


class _Supervisor:
    def __init__(self, workspace_path: str, run_id: str):
        self.workspace = Workspace(workspace_path, _check_lost_runs=False)
        self.store = self.workspace._store
        self.run_id = run_id
        row = self.store.get_run(run_id)
        if row is None:
            raise SystemExit(f"no run {run_id} in {workspace_path}")
        self.job = JobSpec.from_dict(json.loads(row["definition"]))
        self.run_dir = self.workspace._artifacts.run_dir(run_id)
        self.logs_dir = self.run_dir / "logs"
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.work = self.workspace.work_dir / run_id
        self.proc: subprocess.Popen | None = None
        self.cancel_requested = False
        self.grace_s = float(os.environ.get("RUNYARD_CANCEL_GRACE_SECONDS", "10"))

    def on_sigterm(self, _signum, _frame) -> None:
        self.cancel_requested = True
        if self.proc is None:
            stop_build()

    def canceled(self) -> bool:
        if not self.cancel_requested:
            row = self.store.get_run(self.run_id)
            self.cancel_requested = row is not None and row["status"] == st.CANCEL_REQUESTED
        return self.cancel_requested

    # -- the life of a run ---------------------------------------------------
    def main(self) -> None:
        pid = os.getpid()
        self.store.update_run(self.run_id, supervisor_pid=pid, supervisor_started=process_start_time(pid))
        signal.signal(signal.SIGTERM, self.on_sigterm)
        try:
            self._run()
        except BaseException as e:  # the run must end, whatever went wrong here
            traceback.print_exc()
            self._finish(st.FAILED, error=f"runyard supervisor error: {type(e).__name__}: {e}")
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    def _run(self) -> None:
        if self.canceled():
            return self._finish(st.CANCELED)
        self.store.set_status(self.run_id, st.PREPARING)
        spec = self.job.environment
        try:
            with open(self.logs_dir / "environment_build.log", "a") as build_log:
                prepared = materialise_spec(spec, self.job.environment_hash, build_log,
                                            submitting_python=self.job.submitting_python)
        except EnvironmentBuildError as e:
            if self.canceled():
                return self._finish(st.CANCELED)
            return self._finish(st.FAILED, error=f"environment build failed: {e} "
                                                 f"(full log: logs/environment_build.log)")
        if self.canceled():
            return self._finish(st.CANCELED)
        self.store.set_status(self.run_id, st.STARTING)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        from .. import snapshot
        snapshot.extract(self.job.snapshot_path, self.work)
        (self.work / "outputs").mkdir(exist_ok=True)
        (self.work / "logs").mkdir(exist_ok=True)
        argv = self._argv(prepared.python, spec)
        env = self._process_env(prepared, spec)
        outcome = self._execute(argv, env)
        self.store.set_status(self.run_id, st.FINALIZING)
        self._collect_files()
        self._finish(*outcome)

    def _argv(self, python: str, spec: dict) -> list[str]:
        job = self.job
        if job.command:
            if isinstance(job.command, list):
                return [*job.command, *job.arguments]
            return ["/bin/sh", "-c", job.command + "".join(f" {_quote(a)}" for a in job.arguments)]
        script = job.script or ""
        if script.lower().endswith(".r"):
            rscript = (spec.get("r") or {}).get("rscript_path") or "Rscript"
            return [rscript, script, *job.arguments]
        return [python, script, *job.arguments]

    def _process_env(self, prepared, spec: dict) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.update(spec.get("environment_variables") or {})
        env.update(self.job.environment_variables)
        env.update(prepared.env_vars)
        if prepared.path_prefix:
            env["PATH"] = os.pathsep.join([*prepared.path_prefix, env.get("PATH", "")])
        env.update({
            ENV_RUN_ID: self.run_id,
            ENV_TRACKING_URI: str(self.workspace.path),
            "RUNYARD_EXPERIMENT_NAME": self.job.experiment,
            "RUNYARD_OUTPUTS_DIR": str(self.work / "outputs"),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def _execute(self, argv: list[str], env: dict[str, str]) -> tuple[str, int | None, str | None]:
        deadline = None
        if self.job.max_run_duration_seconds:
            deadline = time.monotonic() + self.job.max_run_duration_seconds
        with open(self.logs_dir / "driver.log", "ab", buffering=0) as log:
            try:
                self.proc = subprocess.Popen(argv, cwd=self.work, env=env, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                log.write(f"runyard: could not start {argv[0]}: {e}\n".encode())
                return st.FAILED, None, f"could not start {argv[0]!r}: {e}"
            self.store.update_run(self.run_id, job_pid=self.proc.pid,
                                  job_started=process_start_time(self.proc.pid))
            self.store.set_status(self.run_id, st.RUNNING)
            stop_reason = None
            while True:
                try:
                    self.proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if deadline and time.monotonic() > deadline:
                    stop_reason = (f"the run exceeded max_run_duration_seconds="
                                   f"{self.job.max_run_duration_seconds} and was stopped")
                    self._stop(log, stop_reason)
                    break
                if self.canceled():
                    stop_reason = "canceled"
                    self._stop(log, "cancel requested")
                    break
        code = self.proc.returncode
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

    def _stop(self, log, why: str) -> None:
        assert self.proc is not None
        log.write(f"\nrunyard: {why}: sending SIGTERM, SIGKILL after {self.grace_s:g} s\n".encode())
        _signal_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=self.grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        _signal_group(self.proc.pid, signal.SIGKILL)  # anything the script left behind

    def _failure_message(self, code: int) -> str:
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            head = f"the process was killed by {name} ({-code})"
        else:
            head = f"the process exited with code {code}"
        tail = _tail(self.logs_dir / "driver.log", _TAIL_LINES)
        return head + (f". Last lines of logs/driver.log:\n{tail}" if tail else "")

    def _collect_files(self) -> None:
        artifacts = self.workspace._artifacts
        for folder in ("outputs", "logs"):
            source = self.work / folder
            if source.is_dir() and any(source.iterdir()):
                artifacts.put_folder(self.run_id, folder, source, move=True)

    def _finish(self, status: str, exit_code: int | None = None, error: str | None = None) -> None:
        fields = {"exit_code": exit_code} if exit_code is not None else {}
        if error:
            fields["error"] = error
        self.store.set_status(self.run_id, status, **fields)
        self.store.end_active_children(self.run_id, status)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def _tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 8192))
        text = fh.read().decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _quote(arg: str) -> str:
    import shlex
    return shlex.quote(arg)


if __name__ == "__main__":
    _Supervisor(sys.argv[1], sys.argv[2]).main()
