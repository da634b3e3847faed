"""The workspace server: an ASGI app serving one workspace's run history and run files.

Everything the driver side (``Workspace.get("http://...")``) and the job side
(``RUNYARD_TRACKING_URI=http://...``) need lives under ``/api/v1``; the OpenAPI
schema is at ``/openapi.json``. Behind it: a ``SqlStore`` (any SQLAlchemy URL;
migrations run at start) and an ``ArtifactStore`` folder.

Every route takes and returns the typed bodies of ``api_models``: a client sets
only the fields a model names; a bad request is a 4xx naming the field, never a
500. Who may do what is ``access``; the token and the body bound are ``guard``.
A write sent with an ``Idempotency-Key`` header is applied once: the key is
stored in the same transaction, and a repeat returns the first answer. Keys are
forgotten after ``IDEMPOTENCY_TTL_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import ConfigError, ConflictError, NotFoundError, RunyardError, missing_dependency

import sqlalchemy as sa

try:
    from fastapi import Depends, FastAPI, Header, Path as PathParam, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.concurrency import run_in_threadpool
except ModuleNotFoundError as e:  # pragma: no cover - depends on the installed extras
    raise missing_dependency(e.name or "fastapi", "server") from e

from .. import ids
from .. import status as st
from ..artifacts import ArtifactStore, check_file_name
from ..store.sql import SqlStore
from . import api_models as m
from . import logs
from . import partitions as part
from .access import Caller, Forbidden
from .guard import (API, CALLER, HEAD_TIMEOUT_S, KEEP_ALIVE_S, MAX_FILE_BYTES, Guard, check_token,
                    current_request, head_timeout_protocol)

#: how long a write's Idempotency-Key is remembered: far longer than any client retries
IDEMPOTENCY_TTL_S = 24 * 3600
PRUNE_EVERY_S = 3600
_log = logging.getLogger("runyard.server")

IdPath = PathParam(pattern=ids.ID_PATTERN, description="a run id")
HolderPath = PathParam(pattern=ids.ID_PATTERN, description="a run id, or the id of a registered model version")
Sha256Path = PathParam(pattern=ids.SHA256_PATTERN, description="a snapshot's sha256 content hash")
FileName = Query(alias="name", min_length=1, max_length=4096, pattern=r"^[^\x00]*$",
                 description="path of the file inside the run")
#: the studio's built UI (sources in web/, built by scripts/build_ui.py), served at /
UI_DIR = Path(__file__).resolve().parent / "ui"
_BINARY_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


def caller_of(request: Request) -> Caller:
    return request.scope["state"][CALLER]


def create_app(store_url: str, artifacts_dir: str | Path, *, token: str | None = None,
               name: str = "workspace", own_url: str | None = None, designer_dir: str | Path | None = None,
               snapshots_dir: str | Path | None = None) -> Any:
    """The ASGI app of one workspace (migrations run now). ``serve`` runs it with uvicorn.

    ``own_url`` is where this server answers on this machine: the pipelines it starts
    (published pipelines submitted over REST) reach the workspace there. ``designer_dir``
    holds the designer's pipelines (default: ``designer/`` in the artifacts folder);
    ``snapshots_dir`` the runs' source snapshots (default: ``snapshots/`` there; a workspace
    folder served as it is keeps them in its own ``snapshots/``, where its local runs put them).

    >>> app = create_app("sqlite:////tmp/ws.db", "/tmp/ws-artifacts")  # doctest: +SKIP
    """
    check_token(token)
    store = SqlStore(store_url)
    artifacts = ArtifactStore(Path(artifacts_dir))
    incoming = Path(artifacts_dir) / ".incoming"  # uploads stream here before they are checked

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        async def prune_forever() -> None:
            while True:
                try:
                    await run_in_threadpool(store.prune_applied_requests, IDEMPOTENCY_TTL_S)
                except Exception:  # a busy database: next time
                    _log.exception("pruning idempotency keys failed")
                await asyncio.sleep(PRUNE_EVERY_S)

        task = asyncio.get_running_loop().create_task(prune_forever())
        try:
            yield
        finally:
            task.cancel()

    app = FastAPI(title="runyard workspace", version="1", openapi_url="/openapi.json", lifespan=lifespan)
    app.state.store = store

    def errors_as(status: int) -> Callable:
        async def handler(_request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"error": status, "message": str(exc)}, status_code=status)
        return handler

    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
                    for e in exc.errors()]
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:10])
        return JSONResponse({"error": 422, "message": message, "detail": problems}, status_code=422)

    async def integrity_error(_request: Request, exc: Exception) -> JSONResponse:
        # two writers raced for one key (the checks before the write saw none): the first won
        return JSONResponse({"error": 409, "message": f"a concurrent write took this id or key first: "
                                                      f"{str(exc).splitlines()[0][:300]}"}, status_code=409)

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"error": 500, "message": f"the server failed: {type(exc).__name__}"}, status_code=500)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(PayloadTooLarge, errors_as(413))
    app.add_exception_handler(ConflictError, errors_as(409))
    app.add_exception_handler(ConfigError, errors_as(400))
    app.add_exception_handler(NotFoundError, errors_as(404))
    app.add_exception_handler(Forbidden, errors_as(403))
    app.add_exception_handler(RunyardError, errors_as(500))
    app.add_exception_handler(sa.exc.IntegrityError, integrity_error)
    app.add_exception_handler(Exception, unexpected)

    def once(key: str | None, operation: Callable[[], Any]) -> Any:
        if key is None:
            return operation()
        return store.apply_once(key, operation, request=current_request.get())

    def existing_run(run_id: str) -> dict[str, Any]:
        row = store.get_run(run_id)
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in workspace {name!r}")
        return row

    def holder_asset(holder: str) -> dict[str, Any] | None:
        """Files are held by a run, or by a registered asset's id (a model's own files); the
        asset's row when it is one, None for a run; NotFoundError for neither."""
        if store.get_run(holder) is not None:
            return None
        row = store.get_asset_by_id(holder)
        if row is None:
            raise NotFoundError(f"no run {holder!r} in workspace {name!r}")
        return row

    Key = Header(default=None, alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
                 description="Sent by clients on writes: a repeat of a key is not applied again")
    Who = Depends(caller_of)

    @app.get(f"{API}/workspace")
    def workspace_info() -> dict[str, Any]:
        return {"name": name, "schema_version": store.schema_version()}

    # -- experiments
    @app.get(f"{API}/experiments")
    def list_experiments(caller: Caller = Who) -> list[str]:
        caller.user_only("listing experiments")
        return store.list_experiments()

    @app.put(f"{API}/experiments/{{experiment}}")
    def ensure_experiment(experiment: str = PathParam(pattern=ids.EXPERIMENT_PATTERN), key: Optional[str] = Key,
                          caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("creating an experiment")
        once(key, lambda: store.ensure_experiment(experiment))
        return {"name": experiment}

    # -- runs
    @app.post(f"{API}/runs")
    def create_run(body: m.CreateRunBody, key: Optional[str] = Key, caller: Caller = Who) -> m.RunRow:
        row = body.row.model_dump(exclude_none=True)
        if not caller.is_user:  # a job creates child runs under its own, nothing else
            if row.get("parent_id") is None or row["run_type"] != "child" or row["status"] != st.RUNNING:
                raise Forbidden("a job's token creates child runs of its own run only (run_type 'child', status "
                                "'Running', parent_id its run or a run under it)")
            extra = sorted(set(row) - {"run_id", "experiment", "parent_id", "display_name", "run_type", "status",
                                       "target", "start_time"})
            if extra:
                raise Forbidden(f"a job's token does not set {extra} of a run")
            caller.writes(row["parent_id"], "creating a child run")
        return once(key, lambda: store.create_run(row, tags=body.tags, properties=body.properties))

    @app.get(f"{API}/runs")
    def list_runs(experiment: Optional[str] = Query(None, pattern=ids.EXPERIMENT_PATTERN),
                  parent_id: Optional[str] = Query(None, pattern=ids.ID_PATTERN), top_level_only: bool = False,
                  status: Optional[list[m.Status]] = Query(default=None),
                  tags: Optional[str] = Query(default=None, max_length=65536,
                                              description="JSON object: key -> value or null"),
                  run_type: Optional[m.RunType] = None, host: Optional[str] = Query(None, max_length=255,
                                                                                    pattern=r"^[^\x00]*$"),
                  limit: Optional[int] = Query(None, ge=1, le=1_000_000),
                  properties: Optional[str] = Query(default=None, max_length=65536,
                                                    description="JSON object: key -> value"),
                  caller: Caller = Who) -> list[m.RunRow]:
        if parent_id is None:
            caller.user_only("listing runs other than a run's children")
        else:
            caller.reads_run(parent_id)
        return store.list_runs(experiment=experiment, parent_id=parent_id, top_level_only=top_level_only,
                               status=status, tags=_json_object("tags", tags), run_type=run_type, host=host,
                               limit=limit, properties=_json_object("properties", properties))

    @app.post(f"{API}/runs/query")
    def query_runs(body: m.RunQueryBody, caller: Caller = Who) -> m.RunPage:
        if body.parent_id is None:
            caller.user_only("querying runs other than a run's children")
        else:
            caller.reads_run(body.parent_id)
        return store.query_runs(**body.model_dump(exclude_none=True))

    @app.get(f"{API}/runs/{{run_id}}")
    def get_run(run_id: str = IdPath, caller: Caller = Who) -> m.RunRow:
        caller.reads_run(run_id)
        return existing_run(run_id)

    @app.get(f"{API}/runs/{{run_id}}/pipeline-steps")
    def pipeline_steps(run_id: str = IdPath, caller: Caller = Who) -> list[m.PipelineStep]:
        """A pipeline run's steps in its definition's order, each with the run it became."""
        from ..pipeline.progress import pipeline_steps
        caller.reads_run(run_id)
        return pipeline_steps(store, run_id)

    @app.get(f"{API}/runs/{{run_id}}/partitions")
    def partitions(run_id: str = IdPath, status: Optional[m.PartitionStatus] = Query(None),
                   offset: int = Query(0, ge=0, le=2 ** 31 - 1),
                   limit: int = Query(part.DEFAULT_LIMIT, ge=1, le=part.MAX_LIMIT),
                   caller: Caller = Who) -> m.PartitionPage:
        """A ParallelRunStep run's partition table: the counts per status and a page of its
        mini batches (those with ``status`` only, when given); 404 when the run keeps none."""
        caller.reads_run(run_id)
        existing_run(run_id)
        return part.read_page(store, artifacts, run_id, status, offset, limit)

    @app.patch(f"{API}/runs/{{run_id}}")
    def update_run(body: m.RunUpdateBody, run_id: str = IdPath, key: Optional[str] = Key,
                   caller: Caller = Who) -> dict[str, Any]:
        caller.writes(run_id)
        existing_run(run_id)
        once(key, lambda: store.update_run(run_id, **body.fields.model_dump(exclude_none=True)))
        return {"run_id": run_id}

    @app.put(f"{API}/runs/{{run_id}}/process")
    def set_run_process(body: m.RunProcessBody, run_id: str = IdPath, key: Optional[str] = Key,
                        caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("recording a run's processes")
        existing_run(run_id)
        once(key, lambda: store.set_run_process(run_id, **body.model_dump(exclude_none=True)))
        return {"run_id": run_id}

    @app.post(f"{API}/runs/{{run_id}}/job-token")
    def issue_job_token(run_id: str = IdPath, caller: Caller = Who) -> m.JobToken:
        caller.user_only("a job token")
        existing_run(run_id)
        return m.JobToken(token=store.issue_job_token(run_id))

    @app.post(f"{API}/runs/{{run_id}}/status")
    def set_status(body: m.StatusBody, run_id: str = IdPath, key: Optional[str] = Key,
                   caller: Caller = Who) -> dict[str, Any]:
        caller.sets_status_of(run_id)
        if body.allow_from_terminal:
            caller.user_only("changing the status of a run that ended")
        existing_run(run_id)
        changed = once(key, lambda: store.set_status(
            run_id, body.status, allow_from_terminal=body.allow_from_terminal, error=body.error,
            exit_code=body.exit_code))
        return {"changed": changed}

    @app.post(f"{API}/runs/{{run_id}}/cancel")
    def cancel_run(run_id: str = IdPath, caller: Caller = Who) -> m.RunRow:
        """Cancel the run as ``Run.cancel`` does: its target stops it (a supervisor on another
        machine sees CancelRequested and stops it there)."""
        from ..run import Run
        caller.user_only("canceling a run")
        existing_run(run_id)
        Run.get(workspace_here(), run_id).cancel()
        return existing_run(run_id)

    @app.get(f"{API}/runs/{{run_id}}/status-events")
    def status_events(run_id: str = IdPath, caller: Caller = Who) -> list[m.StatusEvent]:
        caller.reads_run(run_id)
        existing_run(run_id)
        return store.status_events(run_id)

    @app.post(f"{API}/runs/{{run_id}}/end-active-children")
    def end_active_children(body: m.EndChildrenBody, run_id: str = IdPath, key: Optional[str] = Key,
                            caller: Caller = Who) -> dict[str, Any]:
        caller.writes(run_id)
        existing_run(run_id)
        once(key, lambda: store.end_active_children(run_id, body.status))
        return {"run_id": run_id}

    # -- metrics
    @app.post(f"{API}/metrics")
    def log_metrics(body: m.MetricsBody, key: Optional[str] = Key, caller: Caller = Who) -> dict[str, Any]:
        rows = body.rows  # checked dicts (checks.MetricRow): no model objects for 1,000s of rows
        for run_id in {row["run_id"] for row in rows}:
            caller.writes(run_id, "logging metrics")
        once(key, lambda: store.log_metrics(rows))
        return {"logged": len(rows)}

    @app.post(f"{API}/metrics/series")
    def metric_series(body: m.SeriesBody, caller: Caller = Who) -> list[m.Series]:
        for run_id in body.run_ids:
            caller.reads_run(run_id)
        return store.metric_series(body.run_ids, body.name, points=body.points, start=body.start, end=body.end)

    @app.get(f"{API}/runs/{{run_id}}/metric-names")
    def metric_names(run_id: str = IdPath, caller: Caller = Who) -> list[m.MetricName]:
        caller.reads_run(run_id)
        return store.metric_names(run_id)

    @app.post(f"{API}/metrics/query")
    def get_metric_rows(body: m.MetricQueryBody, caller: Caller = Who) -> list[m.StoredMetric]:
        for run_id in set(body.run_ids):
            caller.reads_run(run_id)
        return store.get_metric_rows(body.run_ids, body.name)

    # -- tags and properties
    @app.get(f"{API}/runs/{{run_id}}/tags")
    def get_tags(run_id: str = IdPath, caller: Caller = Who) -> dict[str, Optional[str]]:
        caller.reads_run(run_id)
        existing_run(run_id)
        return store.get_tags(run_id)

    @app.put(f"{API}/runs/{{run_id}}/tags")
    def set_tags(body: m.TagsBody, run_id: str = IdPath, key: Optional[str] = Key,
                 caller: Caller = Who) -> dict[str, Any]:
        caller.writes(run_id, "tagging")
        existing_run(run_id)
        once(key, lambda: store.set_tags(run_id, body.tags))
        return {"run_id": run_id}

    @app.post(f"{API}/runs/{{run_id}}/tags/remove")
    def remove_tags(body: m.KeysBody, run_id: str = IdPath, key: Optional[str] = Key,
                    caller: Caller = Who) -> dict[str, Any]:
        caller.writes(run_id, "removing tags")
        existing_run(run_id)
        once(key, lambda: store.remove_tags(run_id, body.keys))
        return {"run_id": run_id}

    @app.get(f"{API}/runs/{{run_id}}/properties")
    def get_properties(run_id: str = IdPath, caller: Caller = Who) -> dict[str, Optional[str]]:
        caller.reads_run(run_id)
        existing_run(run_id)
        return store.get_properties(run_id)

    @app.post(f"{API}/runs/{{run_id}}/properties")
    def add_properties(body: m.PropertiesBody, run_id: str = IdPath, key: Optional[str] = Key,
                       caller: Caller = Who) -> dict[str, Any]:
        caller.writes(run_id, "adding properties")
        existing_run(run_id)
        once(key, lambda: store.add_properties(run_id, body.properties))
        return {"run_id": run_id}

    # -- environments
    @app.get(f"{API}/environments")
    def list_environments(caller: Caller = Who) -> list[dict[str, Any]]:
        caller.user_only("listing environments")
        return store.list_environments()

    @app.post(f"{API}/environments")
    def register_environment(body: m.EnvironmentBody, key: Optional[str] = Key,
                             caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("registering an environment")
        version = once(key, lambda: store.register_environment(body.name, body.hash, body.spec))
        return {"name": body.name, "version": version}

    @app.get(f"{API}/environments/{{env_name}}")
    def get_environment(env_name: str = PathParam(max_length=255, pattern=r"^[^\x00]+$"),
                        version: Optional[int] = Query(None, ge=1, le=2 ** 31 - 1),
                        caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("reading an environment")
        row = store.get_environment(env_name, version)
        if row is None:
            what = f"environment {env_name!r}" + (f" version {version}" if version is not None else "")
            raise NotFoundError(f"{what} is not registered in workspace {name!r}")
        return row

    # -- compute targets
    @app.get(f"{API}/compute-targets")
    def list_compute_targets(caller: Caller = Who) -> list[dict[str, Any]]:
        caller.user_only("listing compute targets")
        return store.list_compute_targets()

    @app.put(f"{API}/compute-targets/{{target}}")
    def save_compute_target(body: m.ComputeTargetBody, target: str = PathParam(pattern=ids.ID_PATTERN),
                            key: Optional[str] = Key, caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("attaching a compute target")
        once(key, lambda: store.save_compute_target(target, body.type, body.config))
        return {"name": target}

    @app.delete(f"{API}/compute-targets/{{target}}")
    def delete_compute_target(target: str = PathParam(pattern=ids.ID_PATTERN), key: Optional[str] = Key,
                              caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("detaching a compute target")
        return {"deleted": once(key, lambda: store.delete_compute_target(target))}

    # -- assets: datasets, datastores, models, published pipelines, endpoints, schedules
    @app.get(f"{API}/assets/{{kind}}")
    def list_assets(kind: m.AssetKind, asset_name: Optional[str] = Query(None, alias="name",
                                                                         pattern=ids.ASSET_NAME_PATTERN),
                    state: Optional[m.AssetState] = None, latest_only: bool = False,
                    caller: Caller = Who) -> list[dict[str, Any]]:
        caller.lists_assets(asset_name)
        return store.list_assets(kind, asset_name, state=state, latest_only=latest_only)

    @app.post(f"{API}/assets/{{kind}}")
    def register_asset(kind: m.AssetKind, body: m.AssetBody, key: Optional[str] = Key,
                       caller: Caller = Who) -> dict[str, Any]:
        caller.registers_asset(kind, body.run_id)
        return once(key, lambda: store.register_asset(
            kind, body.name, body.spec, content_hash=body.content_hash, create_new_version=body.create_new_version,
            run_id=body.run_id, asset_id=body.asset_id, state=body.state))

    @app.post(f"{API}/asset-batches/{{kind}}")
    def register_assets(kind: m.AssetKind, body: m.AssetsBody, key: Optional[str] = Key,
                        caller: Caller = Who) -> list[dict[str, Any]]:
        for item in body.assets:
            caller.registers_asset(kind, item.run_id)
        return once(key, lambda: store.register_assets(
            kind, [item.model_dump(exclude_none=True) for item in body.assets]))

    @app.get(f"{API}/assets/{{kind}}/{{asset_name}}")
    def get_asset(kind: m.AssetKind, asset_name: str = PathParam(pattern=ids.ASSET_NAME_PATTERN),
                  version: Optional[int] = Query(None, ge=1, le=2 ** 31 - 1)) -> dict[str, Any]:
        row = store.get_asset(kind, asset_name, version)
        if row is None:
            what = f"{kind} {asset_name!r}" + (f" version {version}" if version is not None else "")
            raise NotFoundError(f"{what} is not registered in workspace {name!r}")
        return row

    def existing_asset(asset_id: str) -> dict[str, Any]:
        row = store.get_asset_by_id(asset_id)
        if row is None:
            raise NotFoundError(f"no asset with id {asset_id!r} in workspace {name!r}")
        return row

    @app.get(f"{API}/asset-ids/{{asset_id}}")
    def get_asset_by_id(asset_id: str = PathParam(pattern=ids.ID_PATTERN)) -> dict[str, Any]:
        return existing_asset(asset_id)

    @app.patch(f"{API}/asset-ids/{{asset_id}}")
    def update_asset(body: m.AssetUpdateBody, asset_id: str = PathParam(pattern=ids.ID_PATTERN),
                     key: Optional[str] = Key, caller: Caller = Who) -> dict[str, Any]:
        caller.changes_asset(existing_asset(asset_id))
        return once(key, lambda: store.update_asset(asset_id, spec=body.spec, state=body.state))

    @app.post(f"{API}/lineage")
    def record_lineage(body: m.LineageBody, key: Optional[str] = Key, caller: Caller = Who) -> dict[str, Any]:
        caller.writes(body.run_id, "recording lineage")
        once(key, lambda: store.record_lineage(body.run_id, body.role, body.kind, body.name, body.version,
                                               body.label))
        return {"run_id": body.run_id}

    @app.get(f"{API}/lineage")
    def list_lineage(run_id: Optional[str] = Query(None, pattern=ids.ID_PATTERN),
                     kind: Optional[m.AssetKind] = None,
                     asset_name: Optional[str] = Query(default=None, alias="name", pattern=ids.ASSET_NAME_PATTERN),
                     version: Optional[int] = Query(None, ge=1, le=2 ** 31 - 1),
                     role: Optional[m.LineageRole] = None,
                     caller: Caller = Who) -> list[dict[str, Any]]:
        if run_id is None:
            caller.user_only("listing lineage of every run")
        else:
            caller.reads_run(run_id)
        return store.list_lineage(run_id=run_id, kind=kind, name=asset_name, version=version, role=role)

    @app.post(f"{API}/schedule-firings/{{schedule_id}}")
    def claim_firing(body: m.FiringBody, schedule_id: str = PathParam(pattern=ids.ID_PATTERN),
                     key: Optional[str] = Key, caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("firing a schedule")
        return {"claimed": once(key, lambda: store.claim_firing(schedule_id, body.slot))}

    @app.patch(f"{API}/schedule-firings/{{schedule_id}}")
    def end_firing(body: m.FiringBody, schedule_id: str = PathParam(pattern=ids.ID_PATTERN),
                   key: Optional[str] = Key, caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("recording a schedule's firing")
        once(key, lambda: store.end_firing(schedule_id, body.slot, run_id=body.run_id, error=body.error))
        return {"schedule_id": schedule_id}

    @app.get(f"{API}/schedule-firings/{{schedule_id}}")
    def list_firings(schedule_id: str = PathParam(pattern=ids.ID_PATTERN),
                     caller: Caller = Who) -> list[dict[str, Any]]:
        caller.user_only("listing a schedule's firings")
        return store.list_firings(schedule_id)

    # -- published pipelines and pipeline endpoints: submitted here, run by a driver this
    # machine starts, which reaches the workspace at own_url
    served: list[Any] = []

    def workspace_here() -> Any:
        from ..workspace import Workspace
        if own_url is None:
            raise ConfigError("this server was started without its own address, so it cannot run pipelines; "
                              "start it with `runyard server`")
        if not served:
            served.append(Workspace(own_url, token=token))
        return served[0]

    def submitted(run: Any) -> dict[str, Any]:
        return {"run_id": run.id, "experiment": run.experiment.name, "status": run.get_status()}

    # (not under an Idempotency-Key transaction: the submission writes through this server)
    @app.post(f"{API}/published-pipelines/{{pipeline_id}}/submit")
    def submit_published_pipeline(body: m.PipelineSubmitBody, pipeline_id: str = PathParam(pattern=ids.ID_PATTERN),
                                  caller: Caller = Who) -> dict[str, Any]:
        from ..pipeline.published import PublishedPipeline
        caller.user_only("submitting a published pipeline")
        workspace = workspace_here()
        return submitted(PublishedPipeline.get(workspace, pipeline_id).submit(
            workspace, body.experiment_name, pipeline_parameters=body.pipeline_parameters,
            tags=body.tags, display_name=body.display_name))

    @app.post(f"{API}/pipeline-endpoints/{{endpoint_name}}/submit")
    def submit_pipeline_endpoint(body: m.PipelineSubmitBody,
                                 endpoint_name: str = PathParam(pattern=ids.ID_PATTERN),
                                 caller: Caller = Who) -> dict[str, Any]:
        from ..pipeline.published import PipelineEndpoint
        caller.user_only("submitting a pipeline endpoint")
        return submitted(PipelineEndpoint.get(workspace_here(), name=endpoint_name).submit(
            body.experiment_name, pipeline_parameters=body.pipeline_parameters,
            pipeline_version=body.pipeline_version, tags=body.tags, display_name=body.display_name))

    # -- the designer: pipelines drawn in the studio, saved as folders of pipeline YAML
    from .. import designer as ds
    drawings = ds.DesignerFolder(Path(designer_dir) if designer_dir else Path(artifacts_dir) / "designer")

    def drawing(pipeline_name: str, graph: Any) -> dict[str, Any]:
        folder = drawings.path(pipeline_name)
        found = ds.problems(graph)
        if not found and own_url is not None:  # checked against the workspace as submitting would
            found = ds.validate(folder, workspace_here())
        return {"name": pipeline_name, "path": str(folder), "graph": ds.with_defaults(graph), "problems": found,
                "yaml": (folder / "pipeline.yml").read_text()}

    DrawingName = PathParam(pattern=ds.document.NAME_PATTERN, description="a designer pipeline's name")

    @app.get(f"{API}/designer/modules")
    def designer_modules(caller: Caller = Who) -> dict[str, Any]:
        """The palette: each module's ports and parameters, and the learners Train Model offers."""
        caller.user_only("designing pipelines")
        return {"modules": [module.describe() for module in ds.MODULES.values()], "learners": ds.LEARNERS}

    @app.get(f"{API}/designer/pipelines")
    def designer_pipelines(caller: Caller = Who) -> list[str]:
        caller.user_only("designing pipelines")
        return drawings.names()

    @app.get(f"{API}/designer/pipelines/{{pipeline_name}}")
    def open_drawing(pipeline_name: str = DrawingName, caller: Caller = Who) -> m.Drawing:
        caller.user_only("designing pipelines")
        return drawing(pipeline_name, drawings.open(pipeline_name))

    @app.put(f"{API}/designer/pipelines/{{pipeline_name}}")
    def save_drawing(graph: m.Graph, pipeline_name: str = DrawingName, caller: Caller = Who) -> m.Drawing:
        """Save the drawing as pipeline YAML (a draft with problems is saved too: they are listed
        per node)."""
        caller.user_only("designing pipelines")
        drawings.save(pipeline_name, graph)
        return drawing(pipeline_name, graph)

    def loaded_drawing(pipeline_name: str) -> Any:
        from ..pipeline.yaml_spec import load_pipeline_file
        found = drawing(pipeline_name, drawings.open(pipeline_name))
        if found["problems"]:
            first = found["problems"][0]
            raise ConfigError(f"designer pipeline {pipeline_name!r} has {len(found['problems'])} problem(s); first"
                              f"{f' (node {first.node})' if first.node else ''}: {first.message}")
        return load_pipeline_file(drawings.path(pipeline_name) / "pipeline.yml", workspace_here())

    @app.post(f"{API}/designer/pipelines/{{pipeline_name}}/submit")
    def submit_drawing(body: m.DesignerSubmitBody, pipeline_name: str = DrawingName,
                       caller: Caller = Who) -> dict[str, Any]:
        from ..experiment import Experiment
        caller.user_only("submitting a pipeline")
        loaded = loaded_drawing(pipeline_name)
        experiment = Experiment(workspace_here(), body.experiment_name or loaded.experiment_name or pipeline_name)
        return submitted(experiment.submit(loaded.pipeline, tags={**loaded.tags, **body.tags},
                                           display_name=body.display_name or pipeline_name))

    @app.post(f"{API}/designer/pipelines/{{pipeline_name}}/publish")
    def publish_drawing(body: m.DesignerPublishBody, pipeline_name: str = DrawingName,
                        caller: Caller = Who) -> dict[str, Any]:
        caller.user_only("publishing a pipeline")
        published = loaded_drawing(pipeline_name).pipeline.publish(
            body.name or pipeline_name, description=body.description, version=body.version)
        return {"id": published.id, "name": published.name, "version": published.version}

    # -- files of runs and of registered assets (a model's own files, written once)
    def check_file_write(holder: str, file_name: str, caller: Caller) -> dict[str, Any] | None:
        check_file_name(file_name)
        asset = holder_asset(holder)
        if asset is None:
            caller.writes(holder, "uploading a file")
        else:
            caller.writes_files_of_asset(asset)
        return asset

    @app.put(f"{API}/runs/{{run_id}}/files", openapi_extra=_BINARY_BODY)
    async def upload_file(request: Request, run_id: str = HolderPath,
                          file_name: str = FileName,
                          sha256: Optional[str] = Query(None, pattern=ids.SHA256_PATTERN,
                                                        description="the file's sha256: the upload is refused "
                                                                    "when its bytes differ"),
                          caller: Caller = Who) -> dict[str, Any]:
        asset = await run_in_threadpool(check_file_write, run_id, file_name, caller)
        tmp, size, digest = await receive_file(request, incoming)
        try:
            if sha256 is not None and digest != sha256:
                raise ConfigError(f"the body's sha256 is {digest}, not the {sha256} sent with it: the file changed "
                                  f"or broke on the way; nothing was stored")
            if asset is not None:  # written once: the same bytes again are fine, other bytes are not
                stored = await run_in_threadpool(artifacts.find, run_id, file_name)
                if stored is not None:
                    if await run_in_threadpool(_sha256_of, stored) != digest:
                        raise ConflictError(f"{file_name!r} of {asset['kind']} {asset['name']!r} version "
                                            f"{asset['version']} is stored already with other bytes; a registered "
                                            f"version's files do not change")
                    return {"name": file_name, "size": size, "sha256": digest}
            stored_name = await run_in_threadpool(artifacts.put_file, run_id, file_name, tmp)
        finally:
            tmp.unlink(missing_ok=True)
        return {"name": stored_name, "size": size, "sha256": digest}

    def check_file_read(holder: str, caller: Caller) -> None:
        if holder_asset(holder) is None:
            caller.reads_run(holder)

    @app.get(f"{API}/runs/{{run_id}}/files")
    def list_files(run_id: str = HolderPath, caller: Caller = Who) -> list[str]:
        check_file_read(run_id, caller)
        return artifacts.list(run_id)

    @app.get(f"{API}/runs/{{run_id}}/files/content")
    def download_file(run_id: str = HolderPath, file_name: str = FileName, caller: Caller = Who):
        check_file_read(run_id, caller)
        return FileResponse(artifacts.path(run_id, file_name), media_type="application/octet-stream")

    @app.get(f"{API}/runs/{{run_id}}/logs")
    def list_logs(run_id: str = IdPath, caller: Caller = Who) -> list[m.LogFile]:
        caller.reads_run(run_id)
        return logs.list_logs(artifacts, run_id)

    @app.get(f"{API}/runs/{{run_id}}/logs/{{log_name}}")
    async def read_log(run_id: str = IdPath, log_name: str = PathParam(pattern=logs.NAME_PATTERN),
                       offset: int = Query(0, ge=0, le=2 ** 62, description="the byte to read from"),
                       wait: float = Query(0, ge=0, le=logs.MAX_WAIT_S,
                                           description="seconds to wait for text past offset while the run "
                                                       "is active (a live view's long poll)"),
                       caller: Caller = Who) -> m.LogChunk:
        """The log's text from ``offset`` in whole characters; with ``wait``, the answer comes as
        soon as there is some (or the run ends, or ``wait`` runs out)."""
        await run_in_threadpool(caller.reads_run, run_id)
        loop = asyncio.get_running_loop()
        deadline, polls = loop.time() + wait, 0
        while True:
            chunk = await run_in_threadpool(logs.read_log, artifacts, run_id, log_name, offset)
            if chunk["text"] or loop.time() >= deadline:
                return chunk
            if polls % logs.STATUS_EVERY_POLLS == 0 and (await run_in_threadpool(existing_run, run_id))[
                    "status"] in st.TERMINAL:
                return chunk  # nothing more will come
            polls += 1
            await asyncio.sleep(logs.POLL_S)

    @app.post(f"{API}/runs/{{run_id}}/logs/{{log_name}}", openapi_extra=_BINARY_BODY)
    async def append_log(request: Request, run_id: str = IdPath,
                         log_name: str = PathParam(pattern=logs.NAME_PATTERN),
                         offset: int = Query(..., ge=0, le=2 ** 62, description="where the body's bytes belong in "
                                                                                "the log"),
                         caller: Caller = Who) -> m.LogFile:
        """Appends to a running run's log the body's bytes past the log's end (at most
        ``MAX_APPEND`` at a time): a job's supervisor sends its logs as they grow, so the studio
        follows them live; a retry adds nothing twice. 409 when ``offset`` is past the end, or
        the run has ended (its logs are then final)."""
        await run_in_threadpool(caller.writes, run_id, "appending to a log")
        if (await run_in_threadpool(existing_run, run_id))["status"] in st.TERMINAL:
            raise ConflictError(f"run {run_id} has ended: its logs are final")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > logs.MAX_APPEND:
                raise PayloadTooLarge(f"a log append is limited to {logs.MAX_APPEND} bytes; send more in parts")
        size = await run_in_threadpool(artifacts.append, run_id, f"{logs.FOLDER}/{log_name}", offset, bytes(body))
        return m.LogFile(name=log_name, size=size)

    @app.get(f"{API}/runs/{{run_id}}/files/digest")
    def file_digest(run_id: str = HolderPath, file_name: str = FileName, caller: Caller = Who) -> dict[str, Any]:
        check_file_read(run_id, caller)
        path = artifacts.path(run_id, file_name)
        return {"name": file_name, "size": path.stat().st_size, "sha256": _sha256_of(path)}

    # -- snapshots: content-addressed zips of runs' source folders, verified and written once
    snapshots = Path(snapshots_dir) if snapshots_dir else artifacts.root / "snapshots"

    def snapshot_path(snapshot_hash: str) -> Path:
        return snapshots / f"{snapshot_hash}.zip"

    def existing_snapshot(snapshot_hash: str, caller: Caller) -> Path:
        caller.reads_snapshot(snapshot_hash)
        path = snapshot_path(snapshot_hash)
        if path.is_symlink() or not path.is_file():  # the server writes none: a link was planted
            raise NotFoundError(f"no snapshot {snapshot_hash} in workspace {name!r}")
        return path

    @app.get(f"{API}/snapshots/{{snapshot_hash}}")
    def snapshot_info(snapshot_hash: str = Sha256Path, caller: Caller = Who) -> dict[str, Any]:
        return {"hash": snapshot_hash, "size": existing_snapshot(snapshot_hash, caller).stat().st_size}

    @app.get(f"{API}/snapshots/{{snapshot_hash}}/content")
    def download_snapshot(snapshot_hash: str = Sha256Path, caller: Caller = Who):
        return FileResponse(existing_snapshot(snapshot_hash, caller), media_type="application/zip")

    @app.put(f"{API}/snapshots/{{snapshot_hash}}", openapi_extra=_BINARY_BODY)
    async def upload_snapshot(request: Request, snapshot_hash: str = Sha256Path,
                              caller: Caller = Who) -> dict[str, Any]:
        from .. import snapshot
        caller.user_only("uploading a snapshot")
        tmp, size, _digest = await receive_file(request, incoming)
        try:
            content = await run_in_threadpool(snapshot.content_hash_of_zip, tmp)
            if content != snapshot_hash:
                raise ConfigError(f"snapshot {snapshot_hash}: the zip's files hash to {content}; a snapshot is "
                                  f"stored under the hash of what it holds")
            target = snapshot_path(snapshot_hash)
            if target.is_symlink() or not target.is_file():  # written once; a planted link is replaced
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return {"hash": snapshot_hash, "size": snapshot_path(snapshot_hash).stat().st_size}

    if (UI_DIR / "index.html").is_file():  # the studio: static files, public (they hold no workspace data)
        app.mount("/", StaticFiles(directory=UI_DIR, html=True), name="studio")
    return Guard(app, store, token)


async def receive_file(request: Request, folder: Path) -> tuple[Path, int, str]:
    """Stream a request's body into a new file in ``folder``, at most ``MAX_FILE_BYTES``:
    (its path, its size, its sha256). Nothing is held in memory but one chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    tmp = Path(name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise PayloadTooLarge(f"a file upload is limited to {MAX_FILE_BYTES} bytes")
                digest.update(chunk)
                await run_in_threadpool(out.write, chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, size, digest.hexdigest()


class PayloadTooLarge(ConfigError):
    """An upload over ``MAX_FILE_BYTES`` (HTTP 413), found while it streams in."""


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _json_object(what: str, text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"{what}: not JSON: {e}") from e
    if not isinstance(value, dict):
        raise ConfigError(f"{what}: expected a JSON object of key -> value")
    return value


# -- running it ----------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, token: str | None) -> None:
    """A server others can reach must ask for a token (and a token must be a real one)."""
    check_token(token)
    if not token and not is_loopback(host):
        raise ConfigError(f"--host {host} is reachable from other machines: give a --token "
                          f"(or set RUNYARD_TOKEN), or listen on 127.0.0.1")


def check_port_free(host: str, port: int) -> None:
    """A clear error now, rather than uvicorn's log line after the app was built."""
    import socket
    try:
        infos = socket.getaddrinfo(host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ConfigError(f"--host {host}: not an address of this machine ({e})") from e
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port} ({e.strerror}): another server holds it? "
                              f"Pass another --port") from e


def serve(store_url: str, artifacts_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None, name: str = "workspace", on_ready: Callable[[str], None] | None = None,
          scheduler: bool = True, scheduler_poll_s: float | None = None,
          designer_dir: str | Path | None = None, snapshots_dir: str | Path | None = None) -> None:
    """Serve a workspace until interrupted; with ``scheduler``, a scheduler thread fires its
    schedules (``runyard.pipeline.scheduler``), reaching the workspace at this server's own
    address, as the pipelines it starts do.

    >>> serve("sqlite:////tmp/ws.db", "/tmp/ws-artifacts", port=8000)  # doctest: +SKIP
    """
    check_listen(host, token)
    check_port_free(host, port)
    try:
        import uvicorn
    except ModuleNotFoundError as e:
        raise missing_dependency("uvicorn", "server") from e
    shown = f"[{host}]" if ":" in host else host
    here = "127.0.0.1" if host in ("0.0.0.0", "", "::") else shown
    app = create_app(store_url, artifacts_dir, token=token, name=name, own_url=f"http://{here}:{port}",
                     designer_dir=designer_dir, snapshots_dir=snapshots_dir)
    if on_ready is not None:
        on_ready(f"http://{shown}:{port}")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", http=head_timeout_protocol(),
                            timeout_keep_alive=KEEP_ALIVE_S)
    if not scheduler:
        return uvicorn.Server(config).run()
    from ..pipeline.scheduler import DEFAULT_POLL_S, SchedulerThread
    from ..workspace import Workspace

    class ServerAndScheduler(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # the scheduler first, while its tick can still reach the workspace here
            await asyncio.to_thread(thread.stop)
            await super().shutdown(sockets=sockets)

    server = ServerAndScheduler(config)
    thread = SchedulerThread(lambda: Workspace(f"http://{here}:{port}", token=token),
                             scheduler_poll_s or DEFAULT_POLL_S, ready=lambda: server.started)
    thread.start()
    try:
        server.run()
    finally:
        thread.stop()


__all__ = ["create_app", "serve", "check_listen", "check_port_free", "is_loopback", "HEAD_TIMEOUT_S"]
