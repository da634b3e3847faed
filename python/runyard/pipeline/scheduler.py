"""The scheduler: fires a workspace's active schedules (``runyard scheduler``, and a thread
of ``runyard server``).

Each ``tick()`` looks at every active schedule once:

- **Recurrence.** The newest slot at or before now (and not before the schedule was
  created or last enabled) is claimed in the store (``claim_firing``) and, if this
  scheduler got the claim, its pipeline is submitted. Only the newest slot is ever tried:
  slots missed while no scheduler ran are skipped, except the newest, which fires once,
  late, when a scheduler starts again. A slot already claimed (by an earlier tick, another
  scheduler, or this one before a restart) is never fired again.
- **Data change.** At most every ``polling_interval`` minutes the watched folder is
  compared with the manifest stored at the previous poll; each new or modified file is a
  slot (its path, size and mtime), claimed likewise; then the manifest is stored anew.

The claim comes before the submission; the firing row then gets the run id, or the error
that kept the pipeline from being submitted (a disabled published pipeline, a parameter
it no longer has). A scheduler killed between the two leaves the row without either, and
the slot is not fired again. A schedule whose stored spec does not fit a schedule's (one
stored before the store checked specs) is skipped, with one line in the log for each
version of it. All state is in the store; what a scheduler keeps in memory is when it last
polled each folder, so a restarted one polls at once, and which schedules it refused.

>>> Scheduler(ws).tick()  # doctest: +SKIP
[{'schedule_id': '5f1c...', 'name': 'nightly', 'slot': '2030-01-01T22:30:00+00:00', 'run_id': 'nightly_...', 'error': None}]
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigError
from ..store.asset_specs import check_stored
from . import _datawatch
from .recurrence import ScheduleRecurrence
from .schedule import ACTIVE, KIND, MANIFEST_KIND, SCHEDULE_TAG, SLOT_TAG, Schedule

if TYPE_CHECKING:
    from ..workspace import Workspace

#: seconds between ticks of ``runyard scheduler`` and of the server's scheduler
DEFAULT_POLL_S = 10.0


class Scheduler:
    """Fires the active schedules of ``workspace``; ``clock`` gives the time (POSIX seconds
    or an aware datetime), so tests can move it.

    >>> scheduler = Scheduler(ws)  # doctest: +SKIP
    >>> scheduler.run_forever(poll_s=10)  # until SIGTERM or SIGINT  # doctest: +SKIP
    """

    def __init__(self, workspace: "Workspace", clock: Callable[[], Any] = time.time,
                 log: Callable[[str], None] | None = None):
        self.workspace = workspace
        self.clock = clock
        self._log = log
        self._store = workspace._store
        self._polled: dict[str, float] = {}  # schedule id -> when its folder was last polled
        self._refused: dict[str, Any] = {}  # schedule id -> updated_at of the version refused
        self._stop = threading.Event()

    def log(self, message: str) -> None:
        if self._log is not None:
            self._log(message)
        else:
            print(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {message}", flush=True)

    # -- one pass ---------------------------------------------------------------------------
    def tick(self) -> list[dict[str, Any]]:
        """Fire what is due now; one record per slot this scheduler fired (``run_id`` or
        ``error`` set)."""
        now = self.clock()
        now = now.timestamp() if isinstance(now, datetime) else float(now)
        fired: list[dict[str, Any]] = []
        for row in self._store.list_assets(KIND, state=ACTIVE):
            try:
                check_stored(row)
            except ConfigError as e:  # said once per version of it: it cannot fire until it is stored again
                if self._refused.get(row["id"], ()) != row.get("updated_at"):
                    self._refused[row["id"]] = row.get("updated_at")
                    self.log(f"schedule skipped: {e}")
                continue
            try:
                if row["spec"]["recurrence"] is not None:
                    fired += self._tick_recurrence(row, now)
                else:
                    fired += self._tick_data(row, now)
            except Exception as e:  # one broken schedule must not stop the others
                self.log(f"schedule {row['name']!r} ({row['id']}): {type(e).__name__}: {e}")
        return fired

    def _tick_recurrence(self, row: dict[str, Any], now: float) -> list[dict[str, Any]]:
        spec = row["spec"]
        recurrence = ScheduleRecurrence.from_dict(spec["recurrence"])
        due = recurrence.previous_slot(now, created_at=spec["created_at"])
        if due is None or due.timestamp() < spec["active_since"]:
            return []
        slot = due.isoformat()
        if not self._store.claim_firing(row["id"], slot):
            return []
        late = now - due.timestamp()
        return [self._fire(row, [slot], dict(spec["pipeline_parameters"]),
                           note=f" ({late:.0f} s late)" if late >= 60 else "")]

    def _tick_data(self, row: dict[str, Any], now: float) -> list[dict[str, Any]]:
        spec = row["spec"]
        last = self._polled.get(row["id"])
        if last is not None and now - last < spec["polling_interval"] * 60:
            return []
        self._polled[row["id"]] = now
        folder = Schedule(self.workspace, row).watched_folder
        current = _datawatch.scan(folder)
        manifest = self._store.get_asset_by_id(spec["manifest_id"]) if spec["manifest_id"] else None
        if manifest is None:  # lost: what is there now becomes the baseline
            self._store.register_asset(MANIFEST_KIND, row["id"], {"files": current})
            self.log(f"schedule {row['name']!r}: no stored manifest of {folder}; starting from its files now")
            return []
        before = check_stored(manifest)["spec"]["files"]
        claimed = []
        for path in _datawatch.changed(before, current):
            slot = _datawatch.slot(path, current[path])
            if self._store.claim_firing(row["id"], slot):
                claimed.append((path, slot))
        fired = []
        parameter = spec["data_path_parameter_name"]
        if parameter is not None:  # a run per changed file, its path in the parameter
            for path, slot in claimed:
                fired.append(self._fire(row, [slot], {**spec["pipeline_parameters"], parameter: str(folder / path)},
                                        note=f" for {path}"))
        elif claimed:  # one run for everything that changed since the last poll
            fired.append(self._fire(row, [slot for _, slot in claimed], dict(spec["pipeline_parameters"]),
                                    note=f" for {len(claimed)} changed file(s)"))
        if current != before:
            self._store.update_asset(manifest["id"], spec={"files": current})
        return fired

    def _fire(self, row: dict[str, Any], slots: list[str], parameters: dict[str, Any],
              note: str = "") -> dict[str, Any]:
        """Submit the schedule's pipeline for claimed ``slots``; record the run or the error."""
        schedule = Schedule(self.workspace, row)
        record: dict[str, Any] = {"schedule_id": row["id"], "name": row["name"], "slot": slots[0],
                                  "run_id": None, "error": None}
        try:
            options: dict[str, Any] = {"tags": {SCHEDULE_TAG: row["id"], SLOT_TAG: slots[0]}}
            if schedule.continue_on_step_failure is not None:
                options["continue_on_step_failure"] = schedule.continue_on_step_failure
            if schedule.pipeline_endpoint_id is not None:
                from .published import PipelineEndpoint
                endpoint = PipelineEndpoint.get(self.workspace, id=schedule.pipeline_endpoint_id)
                run = endpoint.submit(schedule.experiment_name, pipeline_parameters=parameters, **options)
            else:
                from .published import PublishedPipeline
                published = PublishedPipeline.get(self.workspace, schedule.pipeline_id)
                run = published.submit(self.workspace, schedule.experiment_name, pipeline_parameters=parameters,
                                       **options)
            record["run_id"] = run.id
            self.log(f"schedule {row['name']!r}: slot {slots[0]}{note}: submitted pipeline run {run.id}")
        except Exception as e:  # recorded with the firing; the schedule stays active
            record["error"] = f"{type(e).__name__}: {e}"
            self.log(f"schedule {row['name']!r}: slot {slots[0]}{note}: not submitted: {record['error']}")
        for slot in slots:
            self._store.end_firing(row["id"], slot, run_id=record["run_id"], error=record["error"])
        return record

    # -- running ----------------------------------------------------------------------------
    def run_forever(self, poll_s: float = DEFAULT_POLL_S, *, handle_signals: bool = True) -> None:
        """Tick every ``poll_s`` seconds until ``stop()``, SIGTERM or SIGINT (handled in the
        main thread only); a tick under way finishes first, so every claimed slot gets its
        run or its error."""
        restore = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                restore[signum] = signal.signal(signum, lambda *_: self.stop())
        self.log(f"scheduler of workspace {self.workspace.name!r} started: every {poll_s:g} s")
        try:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception as e:  # the store may be away for a while; try again next tick
                    self.log(f"tick failed: {type(e).__name__}: {e}")
                    traceback.print_exc(file=sys.stderr)
                self._stop.wait(poll_s)
        finally:
            for signum, handler in restore.items():
                signal.signal(signum, handler)
            self.log("scheduler stopped")

    def stop(self) -> None:
        self._stop.set()


class SchedulerThread(threading.Thread):
    """A scheduler in a daemon thread, for a process that does something else (the server).
    It waits for ``ready()`` before opening its workspace with ``open_workspace()``.

    >>> thread = SchedulerThread(lambda: Workspace.get(url), poll_s=10)  # doctest: +SKIP
    >>> thread.start(); ...; thread.stop()  # doctest: +SKIP
    """

    def __init__(self, open_workspace: Callable[[], "Workspace"], poll_s: float = DEFAULT_POLL_S, *,
                 ready: Callable[[], bool] = lambda: True, log: Callable[[str], None] | None = None):
        super().__init__(name="runyard-scheduler", daemon=True)
        self._open_workspace = open_workspace
        self._poll_s = poll_s
        self._ready = ready
        self._log = log or (lambda message: print(f"scheduler: {message}", file=sys.stderr, flush=True))
        self._stopped = threading.Event()
        self.scheduler: Scheduler | None = None

    def run(self) -> None:
        while not self._ready():
            if self._stopped.wait(0.1):
                return
        try:
            workspace = self._open_workspace()
        except Exception as e:
            self._log(f"not started: cannot open the workspace: {type(e).__name__}: {e}")
            return
        self.scheduler = Scheduler(workspace, log=self._log)
        self.scheduler._stop = self._stopped
        self.scheduler.run_forever(self._poll_s, handle_signals=False)

    def stop(self, timeout: float = 60.0) -> None:
        self._stopped.set()
        self.join(timeout)
