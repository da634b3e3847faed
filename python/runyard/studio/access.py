"""Who is calling the workspace server, and what they may touch.

Two kinds of caller send a bearer token:

- a **user** (the workspace token, ``runyard server --token``): everything;
- a **job** (a token its supervisor asked for when the run started,
  ``POST /runs/{id}/job-token``): it writes only its own run and the runs under
  it (metrics, tags, properties, files, child runs; its own status stays with its
  supervisor), and reads its run, the runs under and above it, what its run's
  definition names as inputs (other runs' outputs, dataset versions), its
  snapshot, and registered assets it asks for by name or id. It registers models
  only as its run's. The token stops working when the run ends.

A server started without a token has only users (it listens on loopback only).
Each rule refuses with ``Forbidden`` (HTTP 403), saying what the token may do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import PermissionDeniedError as Forbidden
from ..store.sql import SqlStore


@dataclass
class Caller:
    """A request's caller: a user (``job_run`` None) or the job of run ``job_run``."""

    job_run: str | None = None
    _store: SqlStore | None = field(default=None, repr=False)
    _definition: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def is_user(self) -> bool:
        return self.job_run is None

    # -- the rules ---------------------------------------------------------------------
    def user_only(self, what: str) -> None:
        if not self.is_user:
            raise Forbidden(f"{what} needs the workspace's token; a job's token writes only its own run "
                            f"({self.job_run}) and the runs under it")

    def writes(self, run_id: str, what: str = "this write") -> None:
        """The caller may write ``run_id``: a user, or the job of that run or of one above it."""
        if self.is_user or self._in_tree(run_id):
            return
        raise Forbidden(f"{what}: run {run_id!r} is not run {self.job_run} or a run under it, the only runs "
                        f"this job's token writes")

    def sets_status_of(self, run_id: str) -> None:
        """A job ends the runs it created (child runs); its own run's status is its supervisor's."""
        if self.is_user:
            return
        if run_id == self.job_run:
            raise Forbidden(f"the status of run {run_id} is set by its supervisor; a job reports an error "
                            f"with run.fail() (PATCH /runs/{{id}} with 'error') and ends by exiting")
        self.writes(run_id, "setting a status")

    def reads_run(self, run_id: str) -> None:
        """Its own tree, the runs above it (a pipeline step reads its pipeline run), and the
        runs its definition reads from."""
        if self.is_user or self._in_tree(run_id) or run_id in self._ancestors() or run_id in self._input_runs():
            return
        raise Forbidden(f"run {run_id!r} is not among what run {self.job_run} reads (its own runs, the runs "
                        f"above it and the inputs its definition names)")

    def reads_snapshot(self, snapshot_hash: str) -> None:
        if self.is_user or snapshot_hash == self._run_row().get("snapshot_hash"):
            return
        raise Forbidden(f"snapshot {snapshot_hash} is not the source of run {self.job_run}")

    def lists_assets(self, name: str | None) -> None:
        """A job finds assets by name, never by listing a whole kind."""
        if self.is_user or name is not None:
            return
        raise Forbidden("listing every asset of a kind needs the workspace's token; a job asks for the assets "
                        "it uses by name (Dataset.get_by_name, Model(ws, name))")

    def registers_asset(self, kind: str, run_id: str | None) -> None:
        if self.is_user:
            return
        if kind != "model" or run_id is None:
            raise Forbidden(f"registering a {kind} needs the workspace's token; a job registers models of its "
                            f"own run (run.register_model, Model.register inside the job)")
        self.writes(run_id, "registering a model")

    def changes_asset(self, row: dict[str, Any]) -> None:
        """A job changes only model versions its run registered (finishing their upload)."""
        if self.is_user:
            return
        if row["kind"] == "model" and row.get("run_id") and self._in_tree(row["run_id"]):
            return
        raise Forbidden(f"{row['kind']} {row['name']!r} version {row['version']} was not registered by run "
                        f"{self.job_run}: changing it needs the workspace's token")

    def writes_files_of_asset(self, row: dict[str, Any]) -> None:
        self.changes_asset(row)
        if not self.is_user and row.get("state") != "uploading":
            raise Forbidden(f"the files of {row['kind']} {row['name']!r} version {row['version']} are written once, "
                            f"while it is registered")

    # -- what the job's run is --------------------------------------------------------
    def _run_row(self) -> dict[str, Any]:
        assert self._store is not None and self.job_run is not None
        return self._store.get_run(self.job_run) or {}

    def _in_tree(self, run_id: str) -> bool:
        assert self._store is not None
        return run_id == self.job_run or self.job_run in self._store.ancestors(run_id)

    def _ancestors(self) -> list[str]:
        assert self._store is not None and self.job_run is not None
        return self._store.ancestors(self.job_run)

    def _input_runs(self) -> set[str]:
        definition = self._job_definition()
        runs = {entry.get("run_id") for entry in definition.get("inputs") or [] if isinstance(entry, dict)}
        resume = definition.get("resume_from")
        if isinstance(resume, dict):
            runs.add(resume.get("run_id"))
        return {r for r in runs if isinstance(r, str)}

    def _job_definition(self) -> dict[str, Any]:
        if self._definition is None:
            text = self._run_row().get("definition")
            try:
                self._definition = json.loads(text) if text else {}
            except ValueError:
                self._definition = {}
        return self._definition
