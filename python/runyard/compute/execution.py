"""One job's execution, as the supervisor drives it: prepare, start, wait, stop, collect.

Targets whose jobs run under a runyard supervisor (local processes, Docker
containers) give the supervisor an ``Execution``; the supervisor owns the
run's status, the duration limit and cancellation, so each target only says
how to start, watch and stop its kind of process.
"""

from __future__ import annotations

import abc
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, TextIO

from ..artifacts import report_left_out
from ..folders import LeftOut

if TYPE_CHECKING:
    from . import JobSpec


class Execution(abc.ABC):
    def __init__(self, job: "JobSpec", work: Path, logs_dir: Path, workspace: Any):
        self.job = job
        self.work = work
        self.logs_dir = logs_dir
        self.workspace = workspace

    @abc.abstractmethod
    def prepare(self, log: TextIO) -> None:
        """Materialise the environment; raise EnvironmentBuildError when it cannot be."""

    @abc.abstractmethod
    def start(self, output: BinaryIO) -> int | None:
        """Start the job, its output going to ``output``; returns a pid worth recording, if any."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> int | None:
        """The exit code once the job ended (negative: killed by that signal), else None."""

    @abc.abstractmethod
    def stop(self, grace_s: float, output: BinaryIO) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``; return once the job is gone."""

    #: seconds between ticks once the job has run 2 s (20 a second before)
    tick_s: float = 0.5

    def tick(self) -> None:
        """Called every ``tick_s`` while the job runs (e.g. to relay its metrics)."""

    def failure_reason(self, code: int) -> str | None:
        """A cause the exit code alone does not tell (an out-of-memory kill, say)."""
        return None

    @abc.abstractmethod
    def collect(self) -> None:
        """Put the job's ./outputs and ./logs into the run's artifacts."""

    def cleanup(self) -> None:
        """Remove what the job left (folders, containers); must not raise."""

    def note(self, line: str) -> None:
        """Append ``line`` to the run's driver.log, where its user reads what happened."""
        with open(self.logs_dir / "driver.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")


def job_credentials(workspace: Any, run_id: str) -> dict[str, str]:
    """The variables that let a job reach its workspace as itself: on a served workspace with a
    token, a token of the job's own run (``RUNYARD_TOKEN``), issued now; the workspace's token
    never leaves the supervisor. None on a workspace folder."""
    if not getattr(workspace, "url", None) or not workspace.token:
        return {}
    return {"RUNYARD_TOKEN": workspace._store.issue_job_token(run_id)}


def send_spilled_metrics(store: Any, path: Path, note: Callable[[str], None] | None) -> None:
    """Send the metrics a job could not send before it ended (``metrics.spill``), once."""
    from ..metrics import send_spilled
    try:
        sent = send_spilled(path, store)
    except Exception as e:  # kept for a look by hand; the run's outcome stands
        if note is not None:
            note(f"runyard: the metrics the job left in {path} could not be sent: {type(e).__name__}: {e}")
        return
    if sent and note is not None:
        note(f"runyard: sent {sent} metric values the job could not send itself")


def collect_folder(artifacts: Any, run_id: str, work: Path, folder: str, log: Callable[[str], None] | None,
                   *, move: bool) -> None:
    """Put the job's ``work/folder`` (outputs, logs) into the run's files. A link in it to a
    file out of it, or the folder itself made a link, is left out with a line to ``log``."""
    source = work / folder
    if source.is_symlink():
        report_left_out([LeftOut(f"{folder}/", f"the job made the folder a link ({os.readlink(source)})")], log)
    elif source.is_dir() and any(source.iterdir()):
        artifacts.put_folder(run_id, folder, source, move=move, log=log)


def job_argv(job: "JobSpec", python: str, rscript: str = "Rscript") -> list[str]:
    """The command line of a job: a script with Python or Rscript, or a command."""
    if job.command:
        if isinstance(job.command, list):
            return [*job.command, *job.arguments]
        return ["/bin/sh", "-c", job.command + "".join(f" {shlex.quote(a)}" for a in job.arguments)]
    script = job.script or ""
    if script.lower().endswith(".r"):
        return [rscript, script, *job.arguments]
    return [python, script, *job.arguments]
