"""The run-history store contract: what every store implements, checked by one conformance suite.

``JobStore`` is what a job may do to its own run (log, tag, create and end child
runs, read its run); a store reachable only from inside a container (the spool)
implements just that. ``RunStore`` is the whole workspace: runs, experiments,
environments, compute targets, assets, lineage, schedule firings, and the
process bookkeeping of supervisors. ``SqlStore`` (SQLite, PostgreSQL) and
``HttpStore`` (a workspace server) implement it; ``tests/integration/
test_store_contract.py`` runs the same tests against each, so a method added to
one cannot be missing from the other.

Rules every implementation keeps (the SQL store enforces them, the server returns
its errors as 4xx):

- ids and names match ``runyard.ids``; an unknown run is ``NotFoundError``;
- status moves only along ``runyard.status.check_transition``;
- process fields (host, pids, start times) change only through ``set_run_process``;
- metric rows are checked by ``runyard.metrics.check_rows``; a batch sent with a
  ``batch_id`` is stored once, however often it is sent.
"""

from __future__ import annotations

import abc
import contextvars
import time
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

#: fields of a run that ``update_run`` may change (everything else has its own method)
UPDATABLE_RUN_FIELDS = frozenset({"display_name", "error"})
#: process bookkeeping, written by the run's supervisor through ``set_run_process``
PROCESS_FIELDS = ("host", "supervisor_pid", "supervisor_started", "job_pid", "job_started")


#: seconds a store call retries a store it cannot reach (the workspace server restarting)
ENV_RETRY_WINDOW = "RUNYARD_RETRY_WINDOW_S"
#: the window inside a job and its supervisor: long enough to ride out a server restart
JOB_RETRY_WINDOW_S = 120.0

_RETRY_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("runyard_retry_deadline",
                                                                              default=None)


@contextmanager
def retry_deadline(seconds: float) -> Iterator[None]:
    """Store calls made inside give up retrying an unreachable store after ``seconds`` (a
    process about to end: SIGTERM)."""
    token = _RETRY_DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _RETRY_DEADLINE.reset(token)


def current_retry_deadline() -> float | None:
    """The ``time.monotonic()`` after which no retry starts, if a caller set one."""
    return _RETRY_DEADLINE.get()


class JobStore(abc.ABC):
    """What a job does to its own run and the runs it creates under it."""

    # -- runs
    @abc.abstractmethod
    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run's row, or None."""

    @abc.abstractmethod
    def create_run(self, row: dict[str, Any], tags: dict[str, Any] | None = None,
                   properties: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record a new run; the stored row (``run_number`` and ``created_at`` set by the store)."""

    @abc.abstractmethod
    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change ``UPDATABLE_RUN_FIELDS`` of a run."""

    @abc.abstractmethod
    def set_status(self, run_id: str, status: str, *, allow_from_terminal: bool = False,
                   error: str | None = None, exit_code: int | None = None) -> bool:
        """Move a run to ``status``; False (nothing changed) if it already ended."""

    @abc.abstractmethod
    def end_active_children(self, run_id: str, status: str) -> None:
        """End the run's active descendants with ``status``."""

    @abc.abstractmethod
    def list_runs(self, *, experiment: str | None = None, parent_id: str | None = None,
                  top_level_only: bool = False, status: str | Iterable[str] | None = None,
                  tags: dict[str, Any] | None = None, run_type: str | None = None,
                  host: str | None = None, limit: int | None = None,
                  properties: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Runs, newest first, filtered."""

    @abc.abstractmethod
    def status_events(self, run_id: str) -> list[dict[str, Any]]:
        """Each status the run had, with its time, in order."""

    # -- metrics
    @abc.abstractmethod
    def log_metrics(self, rows: list[dict[str, Any]], *, batch_id: str | None = None) -> None:
        """Store metric rows in one transaction; a ``batch_id`` seen before is not stored again."""

    @abc.abstractmethod
    def get_metric_rows(self, run_ids: list[str], name: str | None = None) -> list[dict[str, Any]]:
        """Metric rows of these runs in logging order."""

    # -- tags and properties
    @abc.abstractmethod
    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None: ...

    @abc.abstractmethod
    def get_tags(self, run_id: str) -> dict[str, str | None]: ...

    @abc.abstractmethod
    def add_properties(self, run_id: str, props: dict[str, Any]) -> None:
        """Write-once key/values: a key set again to another value is a ``ConfigError``."""

    @abc.abstractmethod
    def get_properties(self, run_id: str) -> dict[str, str | None]: ...


class RunStore(JobStore):
    """A workspace's whole run history."""

    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    # -- experiments
    @abc.abstractmethod
    def ensure_experiment(self, name: str) -> None: ...

    @abc.abstractmethod
    def list_experiments(self) -> list[str]: ...

    @abc.abstractmethod
    def metric_series(self, run_ids: list[str], name: str, *, points: int = 1000, start: int = 0,
                      end: int | None = None) -> list[dict[str, Any]]:
        """Per run, a scalar metric's points ``start`` to ``end`` (``store.metric_series``): all
        of them when they are at most ``points``, else each bucket's lowest and highest."""

    @abc.abstractmethod
    def metric_names(self, run_id: str) -> list[dict[str, Any]]:
        """What the run logged, one entry per name and kind in the order first logged (then by name):
        ``{"name", "kind", "count" (rows), "latest" (a scalar's last value, else None)}``."""

    @abc.abstractmethod
    def query_runs(self, query: Any = None, **fields: Any) -> dict[str, Any]:
        """A page of runs (``store.query``: a ``RunQuery``, or its fields): ``{"total": the runs
        the filters match, "runs": the page's rows, "metrics": run_id -> {column: latest value},
        "tags" and "properties": run_id -> {key: value}}``."""

    # -- supervisors: process bookkeeping and job credentials
    @abc.abstractmethod
    def set_run_process(self, run_id: str, *, host: str, supervisor_pid: int | None = None,
                        supervisor_started: float | None = None, job_pid: int | None = None,
                        job_started: float | None = None) -> None:
        """Record which process of which machine supervises (or is) the run's job; given
        fields only."""

    @abc.abstractmethod
    def issue_job_token(self, run_id: str) -> str:
        """A new credential for the job of an active run: it writes only that run and the runs
        under it, reads what the run needs, and stops working when the run ends."""

    # -- environments
    @abc.abstractmethod
    def register_environment(self, name: str, env_hash: str, spec: dict[str, Any]) -> int: ...

    @abc.abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def list_environments(self) -> list[dict[str, Any]]: ...

    # -- compute targets
    @abc.abstractmethod
    def save_compute_target(self, name: str, kind: str, config: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def delete_compute_target(self, name: str) -> bool: ...

    @abc.abstractmethod
    def list_compute_targets(self) -> list[dict[str, Any]]: ...

    # -- assets: datasets, datastores, models, published pipelines, endpoints, schedules
    @abc.abstractmethod
    def register_asset(self, kind: str, name: str, spec: dict[str, Any], *, content_hash: str | None = None,
                       create_new_version: bool = True, run_id: str | None = None,
                       asset_id: str | None = None, state: str = "active") -> dict[str, Any]: ...

    @abc.abstractmethod
    def register_assets(self, kind: str, assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Register many active versions at once (a ParallelRunStep's models): each item
        ``{"name", "spec", "content_hash" (optional), "run_id" (optional)}`` is registered as
        ``register_asset`` would (a content hash its name already has returns that version),
        and an item with a ``run_id`` is recorded as that run's ``output`` (lineage). The rows,
        in the items' order. Every item is checked before any is written; a store writes a
        request's items in one transaction (all or none)."""

    @abc.abstractmethod
    def get_asset(self, kind: str, name: str, version: int | None = None) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def get_asset_by_id(self, asset_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def list_assets(self, kind: str, name: str | None = None, *, state: str | None = None,
                    latest_only: bool = False) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def update_asset(self, asset_id: str, *, spec: dict[str, Any] | None = None,
                     state: str | None = None) -> dict[str, Any]: ...

    @abc.abstractmethod
    def record_lineage(self, run_id: str, role: str, kind: str, name: str, version: int,
                       label: str | None = None) -> None: ...

    @abc.abstractmethod
    def list_lineage(self, *, run_id: str | None = None, kind: str | None = None, name: str | None = None,
                     version: int | None = None, role: str | None = None) -> list[dict[str, Any]]: ...

    # -- schedule firings
    @abc.abstractmethod
    def claim_firing(self, schedule_id: str, slot: str) -> bool: ...

    @abc.abstractmethod
    def end_firing(self, schedule_id: str, slot: str, *, run_id: str | None = None,
                   error: str | None = None) -> None: ...

    @abc.abstractmethod
    def list_firings(self, schedule_id: str) -> list[dict[str, Any]]: ...
