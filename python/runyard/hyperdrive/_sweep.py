"""The machinery of a detached parent run that runs trials as child runs.

A ``SweepDriver`` runs in the process ``start_detached`` started for the
parent run (it outlives the submitting session). It asks its subclass for the
next trial, starts it as a child run, at most ``concurrency`` at a time, and
watches each running trial's stream of the primary metric: every new value is
one interval, and the policy decides at once (a poll every 0.1 s) whether the
trial stops; a stopped trial is canceled and carries the reason in its
``stopped_by`` property. ``cancel()``, ``max_duration_minutes`` and errors of
the driver stop the running trials; whatever happens the parent run ends.

HyperDrive subclasses it (``runyard.hyperdrive._driver``) with sampling;
AutoML does with its search. A subclass gives ``next_trial`` (values to try,
or None when there are no more), ``start_trial`` (submit one as a child run)
and may override ``trial_ended``.
"""

from __future__ import annotations

import abc
import json
import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from .. import status as st
from ..errors import ConfigError
from ..compute.local import cancel_requested, claim_run, keep_driver_log, open_detached_run, release_run
from ..compute.log_shipping import LogShipper
from .policies import EarlyTerminationPolicy

_POLL_S = 0.1
_CHECK_LOST_EVERY_S = 2.0
_CANCEL_WAIT_S = 120.0
#: the property of a trial a policy stopped, and of one the sweep's end stopped
STOPPED_BY = "stopped_by"
#: the property (and tag) with a trial's values, as JSON
HYPERPARAMETERS = "hyperparameters"
#: the property with a trial's number in its sweep
TRIAL_INDEX = "hyperdrive.trial_index"


@dataclass
class Trial:
    """One child run of the sweep, as the driver follows it."""

    index: int
    values: dict[str, Any]
    run_id: str
    trace: list[float] = field(default_factory=list)
    status: str = st.QUEUED
    #: why the driver is stopping it (kept as its ``stopped_by`` once it ends Canceled)
    stop_reason: str | None = None
    error: str | None = None

    def best(self, maximize: bool) -> float | None:
        return (max if maximize else min)(self.trace) if self.trace else None


class SweepDriver(abc.ABC):
    """A parent run's driver: trials as child runs, a policy on their metric streams."""

    #: the parent run's logs/ file with the driver's output
    driver_log = "hyperdrive.log"
    #: what the log and the errors call a child, and the parent run
    trial_word, run_word = "trial", "sweep"
    #: why the children still running at the deadline are stopped (their ``stopped_by``)
    timeout_reason = "the sweep reached its max_duration_minutes"

    def __init__(self, workspace_path: str, run_id: str):
        from ..experiment import Experiment
        self.workspace, row = open_detached_run(workspace_path, run_id)
        self.store = self.workspace._store
        self.run_id = run_id
        self.experiment = Experiment(self.workspace, row["experiment"])
        self.definition = json.loads(row["definition"])
        self.metric = self.definition["primary_metric_name"]
        self.maximize = self.definition["goal"] == "MAXIMIZE"
        self.policy = EarlyTerminationPolicy.from_json(self.definition.get("policy"))
        self.concurrency = int(self.definition["max_concurrent_runs"])
        self.max_trials = int(self.definition["max_total_runs"])
        self.trials: list[Trial] = []
        self.running: dict[str, Trial] = {}
        self.exhausted = False
        self.cancel_asked = False
        self.started_at = time.monotonic()
        self.deadline = self.started_at + 60 * float(self.definition["max_duration_minutes"])
        self.next_lost_check = self.started_at + _CHECK_LOST_EVERY_S

    # -- what a subclass gives ---------------------------------------------------------
    def setup(self) -> None:
        """Read what the trials need (called once the run is claimed; an error fails the run)."""

    @abc.abstractmethod
    def next_trial(self) -> tuple[dict[str, Any], Any] | None:
        """(values, what ``start_trial`` needs) of the next trial, or None when none is left."""

    @abc.abstractmethod
    def start_trial(self, index: int, values: dict[str, Any], extra: Any) -> str:
        """Submit trial ``index`` as a child run of this run; its run id."""

    def trial_ended(self, trial: Trial) -> None:
        """``trial`` reached a final status (its trace is complete)."""

    def submit_job_trial(self, job: dict[str, Any], command: Any, arguments: list[Any], *, tags: dict[str, Any],
                         display_name: str, properties: dict[str, Any], resume_from: Any = None) -> str:
        """Submit a trial of ``job`` (a ``trial_job`` definition) with these command and
        arguments as a child run of this run; its run id."""
        from ..environment import Environment
        from ..job import submit_job
        return submit_job(
            self.experiment, source_directory=None, snapshot_hash=job["snapshot_hash"], script=job["script"],
            command=command, arguments=arguments,
            environment=Environment(**job["environment"]) if job["environment"] else None,
            compute_target=job["target"], environment_variables=job["environment_variables"],
            max_run_duration_seconds=job["max_run_duration_seconds"], tags=tags, display_name=display_name,
            properties=properties, parent_id=self.run_id, distributed=job["distributed"],
            max_retries=job["max_retries"], resources=job["resources"], inputs=job["inputs"],
            output_folders=job.get("output_folders", []), resume_from=resume_from, notes=job.get("notes")).id

    def past_deadline_wait(self) -> bool:
        """Past the deadline: whether to let the running trials go on a little longer (no new
        trial starts meanwhile)."""
        return False

    # -- the loop ---------------------------------------------------------------------
    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def on_sigterm(self, _signum: int, _frame: Any) -> None:
        self.cancel_asked = True

    def canceled(self) -> bool:
        self.cancel_asked = self.cancel_asked or cancel_requested(self.workspace, self.run_id)
        return self.cancel_asked

    def main(self) -> None:
        claim_run(self.workspace, self.run_id, self.on_sigterm)
        logs = self.workspace._artifacts.run_dir(self.run_id) / "logs"
        shipper = LogShipper(self.workspace, self.run_id, logs).start()  # live on a served workspace
        try:
            self.setup()
            self.store.set_status(self.run_id, st.RUNNING)
            self.run()
        except BaseException as e:  # the parent run must end, whatever went wrong here
            traceback.print_exc()
            self.stop_running(f"the {self.run_word}'s driver failed")
            self.store.set_status(self.run_id, st.FAILED, error=f"runyard sweep driver error: {type(e).__name__}: {e}")
        finally:
            shipper.stop()
            keep_driver_log(self.workspace, self.run_id, self.driver_log)
            release_run(self.run_id)

    def run(self) -> None:
        while True:
            if self.canceled():
                return self.end_canceled()
            if time.monotonic() >= self.deadline and not self.past_deadline_wait():
                self.log(f"max_duration_minutes ({self.definition['max_duration_minutes']}) reached: stopping "
                         f"{len(self.running)} running {self.trial_word}(s)")
                self.stop_running(self.timeout_reason)
                return self.finish(timed_out=True)
            self.poll()
            self.start_trials()
            if not self.running and (self.exhausted or len(self.trials) >= self.max_trials):
                return self.finish()
            time.sleep(_POLL_S)

    def start_trials(self) -> None:
        while (not self.exhausted and len(self.running) < self.concurrency and len(self.trials) < self.max_trials
               and time.monotonic() < self.deadline and not self.canceled()):
            if self.should_give_up():
                self.exhausted = True
                return
            proposed = self.next_trial()
            if proposed is None:
                self.exhausted = True
                self.log(f"no more values to try after {len(self.trials)} {self.trial_word}(s)")
                return
            values, extra = proposed
            index = len(self.trials)
            try:
                run_id = self.start_trial(index, values, extra)
            except Exception as e:  # this trial could not start (its target went away...): it failed
                traceback.print_exc()
                run_id = self.record_not_started(index, values, f"could not start: {type(e).__name__}: {e}")
                trial = Trial(index, values, run_id, status=st.FAILED, error=f"could not start: {e}")
                self.trials.append(trial)
                self.log(f"{self.trial_word} {index}: could not start: {e}")
                self.trial_ended(trial)
                continue
            trial = Trial(index, values, run_id)
            self.trials.append(trial)
            self.running[run_id] = trial
            self.log(f"{self.trial_word} {index} ({run_id}): {_show_values(values)}")

    def should_give_up(self) -> bool:
        """Trials keep failing and none has succeeded: the script or the target is broken, so
        the sweep stops proposing (it ends Failed with the first error)."""
        failed = [t for t in self.trials if t.status == st.FAILED]
        limit = max(5, 2 * self.concurrency)
        if len(failed) >= limit and not any(t.status == st.COMPLETED for t in self.trials):
            self.log(f"the first {len(failed)} trials failed and none completed: no more trials are started")
            return True
        return False

    def poll(self) -> None:
        if not self.running:
            return
        check_lost = time.monotonic() >= self.next_lost_check
        if check_lost:
            self.next_lost_check = time.monotonic() + _CHECK_LOST_EVERY_S
        rows = {run_id: self.store.get_run(run_id) for run_id in self.running}
        self.read_traces([row for row in rows.values() if row is not None])
        for run_id, trial in list(self.running.items()):
            row = rows[run_id]
            if row is not None and row["status"] not in st.TERMINAL and check_lost:
                self.check_lost(row)
                row = self.store.get_run(run_id)
            if row is None or row["status"] in st.TERMINAL:
                if row is not None:
                    self.read_traces([row])  # values logged just before the end
                trial.status = row["status"] if row else st.FAILED
                trial.error = row["error"] if row else "the trial's run was deleted"
                del self.running[run_id]
                self.record_stop(trial)
                best = trial.best(self.maximize)
                self.log(f"{self.trial_word} {trial.index} ({run_id}): {trial.status}, {self.metric} "
                         f"{'not logged' if best is None else _show(best)}"
                         + (f": {_first_line(trial.error)}" if trial.error and trial.status == st.FAILED else ""))
                self.trial_ended(trial)

    def check_lost(self, row: dict[str, Any]) -> None:
        """A trial whose supervisor vanished ends Failed (its target's check); a trial whose
        target is no longer attached is left to its own supervisor."""
        from ..run import Run
        try:
            target = Run._from_row(self.workspace, row)._target()
        except ConfigError:
            return
        target.check(row["run_id"])

    def read_traces(self, rows: list[dict[str, Any]]) -> None:
        """New values of the primary metric of the running trials of ``rows``, each judged by the policy."""
        seen = logged_values(self.store, rows, self.metric)
        traces = {t.run_id: t.trace for t in self.trials}
        for row in rows:
            trial = self.running[row["run_id"]]
            for value in seen.get(trial.run_id, [])[len(trial.trace):]:
                trial.trace.append(value)
                if trial.stop_reason is None and row["status"] not in st.TERMINAL \
                        and self.policy.applies_at(len(trial.trace)):
                    reason = self.policy.stop_reason(trial.run_id, traces, len(trial.trace), maximize=self.maximize)
                    if reason:
                        self.stop_trial(trial, reason)

    def stop_trial(self, trial: Trial, reason: str) -> None:
        trial.stop_reason = reason
        self.log(f"{self.trial_word} {trial.index} ({trial.run_id}): stopping: {reason}")
        try:
            from ..run import Run
            Run._from_id(self.workspace, trial.run_id).cancel()
        except Exception:  # it ended meanwhile, or its target is gone: it ends either way
            traceback.print_exc()

    def record_stop(self, trial: Trial) -> None:
        """An ended trial the driver was stopping: ``stopped_by`` says why, if the stop is what
        ended it (a trial may finish before the cancel reaches it)."""
        if trial.stop_reason is None:
            return
        if trial.status != st.CANCELED:
            self.log(f"{self.trial_word} {trial.index} ({trial.run_id}) ended {trial.status} before the stop "
                     f"reached it")
            return
        try:
            self.store.add_properties(trial.run_id, {STOPPED_BY: trial.stop_reason})
        except Exception:  # the trial's record stays as it is; the sweep goes on
            traceback.print_exc()

    def stop_running(self, reason: str) -> None:
        for trial in list(self.running.values()):
            if trial.stop_reason is None:
                self.stop_trial(trial, reason)

    def record_not_started(self, index: int, values: dict[str, Any], reason: str) -> str:
        from ..run import new_run_id
        now = time.time()
        row = self.store.create_run({
            "run_id": new_run_id(self.experiment.name), "experiment": self.experiment.name,
            "parent_id": self.run_id, "display_name": trial_name(self.run_id, index), "run_type": "script",
            "status": st.FAILED, "end_time": now, "error": reason,
        }, tags={HYPERPARAMETERS: json.dumps(values)},
            properties={HYPERPARAMETERS: json.dumps(values), TRIAL_INDEX: str(index)})
        return row["run_id"]

    # -- the end ----------------------------------------------------------------------
    def wait_for_running(self) -> None:
        deadline = time.monotonic() + _CANCEL_WAIT_S
        while self.running and time.monotonic() < deadline:
            self.poll()
            time.sleep(_POLL_S)

    def end_canceled(self) -> None:
        self.log(f"cancel requested: stopping {len(self.running)} running {self.trial_word}(s)")
        self.stop_running(f"the {self.run_word} was canceled")
        self.wait_for_running()
        self.store.set_status(self.run_id, st.CANCELED)
        self.log(f"{self.run_word} Canceled")

    def finish(self, timed_out: bool = False) -> None:
        self.wait_for_running()
        done = [t for t in self.trials if t.status == st.COMPLETED]
        failed = [t for t in self.trials if t.status == st.FAILED]
        # a trial the driver stopped (the budget's end, a cancel) may end before its first log line
        no_metric = [t for t in self.trials if not t.trace and (
            t.status == st.COMPLETED or (t.status == st.CANCELED and t.stop_reason is None))]
        notes = []
        if no_metric:
            notes.append(f"{len(no_metric)} of {len(self.trials)} {self.trial_word}(s) never logged the primary metric "
                         f"{self.metric!r} ({self.trial_word}s {', '.join(str(t.index) for t in no_metric[:10])}"
                         f"{', ...' if len(no_metric) > 10 else ''}); check the name the script logs with run.log")
        if failed:
            notes.append(f"{len(failed)} {self.trial_word}(s) failed")
        if timed_out:
            notes.append(f"stopped after max_duration_minutes={self.definition['max_duration_minutes']}")
        if notes:
            self.store.add_properties(self.run_id, {"warnings": json.dumps(notes)})
            for note in notes:
                self.log(f"note: {note}")
        if self.trials and len(failed) == len(self.trials):
            first = failed[0]
            error = (f"all {len(failed)} {self.trial_word}(s) failed; the first, {self.trial_word} {first.index} "
                     f"({first.run_id}): "
                     f"{first.error or 'no error recorded'}")
            # the log's last line first: whoever follows the log stops reading once the run has ended
            self.log(f"{self.run_word} Failed: {_first_line(error)}")
            self.store.set_status(self.run_id, st.FAILED, error=error)
            return
        best = self.best_trial()
        self.log(f"{self.run_word} Completed: {len(self.trials)} {self.trial_word}(s), {len(done)} completed"
                 + (f"; best: trial {best.index} ({best.run_id}) {self.metric} {_show(best.best(self.maximize))}"
                    if best else ""))
        self.store.set_status(self.run_id, st.COMPLETED)

    def best_trial(self) -> Trial | None:
        scored = [t for t in self.trials if t.trace]
        if not scored:
            return None
        return (max if self.maximize else min)(scored, key=lambda t: t.best(self.maximize))


def logged_values(store: Any, rows: list[dict[str, Any]], metric: str) -> dict[str, list[float]]:
    """Trial run id -> the finite values of ``metric`` it logged, in order (a pipeline trial's
    are those its steps logged too)."""
    owner = {r["run_id"]: r["run_id"] for r in rows}
    for row in rows:
        if row["run_type"] == "pipeline":
            owner.update({step["run_id"]: row["run_id"] for step in store.list_runs(parent_id=row["run_id"])})
    values: dict[str, list[float]] = {}
    for found in store.get_metric_rows(list(owner), name=metric):
        if found["value_num"] is not None and math.isfinite(found["value_num"]) \
                and found["kind"] in ("scalar", "list"):
            values.setdefault(owner[found["run_id"]], []).append(float(found["value_num"]))
    return values


def trial_name(sweep_run_id: str, index: int) -> str:
    """A trial's display name: Azure's ``<sweep>_<n>``."""
    return f"{sweep_run_id}_{index}"


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _show_values(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_show(v) if isinstance(v, float) else v}" for k, v in values.items())


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""
