"""The workspace server: an ASGI app serving one workspace's run history and run files.

Everything the driver side (``Workspace.get("http://...")``) and the job side
(``RUNYARD_TRACKING_URI=http://...``) need lives under ``/api/v1``; the OpenAPI
schema is at ``/openapi.json``. Behind it: a ``SqlStore`` (any SQLAlchemy URL;
migrations run at start) and an ``ArtifactStore`` folder.

Rules every request meets, before any handler runs:

- With a token, ``Authorization: Bearer <token>`` is required (401 otherwise);
  ``serve`` refuses a non-loopback address without one.
- Bodies are bounded: ``MAX_FILE_BYTES`` for file uploads, ``MAX_JSON_BYTES``
  for the rest (413).
- A write sent with an ``Idempotency-Key`` header is applied once: the key is
  stored in the same transaction, and a repeat returns the first answer.
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import ConfigError, NotFoundError, RunyardError, missing_dependency

try:
    from fastapi import FastAPI, Header, Query, Request
    from fastapi.responses import FileResponse, JSONResponse
    from pydantic import BaseModel
    from starlette.concurrency import run_in_threadpool
except ModuleNotFoundError as e:  # pragma: no cover - depends on the installed extras
    raise missing_dependency(e.name or "fastapi", "server") from e

from ..artifacts import ArtifactStore
from ..store import schema
from ..store.sql import SqlStore

API = "/api/v1"
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_KEY_LENGTH = 255
#: Paths served without a token: the schema and its viewers say nothing about the workspace.
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
_RUN_COLUMNS = frozenset(schema.runs.c.keys())


class _Conflict(Exception):
    """A write that contradicts what is stored (a property set to another value)."""


# -- request bodies ------------------------------------------------------------------
class CreateRunBody(BaseModel):
    row: dict[str, Any]
    tags: Optional[dict[str, Any]] = None
    properties: Optional[dict[str, Any]] = None


class FieldsBody(BaseModel):
    fields: dict[str, Any] = {}


class StatusBody(BaseModel):
    status: str
    allow_from_terminal: bool = False
    fields: dict[str, Any] = {}


class EndChildrenBody(BaseModel):
    status: str


class MetricsBody(BaseModel):
    rows: list[dict[str, Any]]


class MetricQueryBody(BaseModel):
    run_ids: list[str]
    name: Optional[str] = None


class TagsBody(BaseModel):
    tags: dict[str, Any]


class KeysBody(BaseModel):
    keys: list[str]


class PropertiesBody(BaseModel):
    properties: dict[str, Any]


class EnvironmentBody(BaseModel):
    name: str
    hash: str
    spec: dict[str, Any]


class ComputeTargetBody(BaseModel):
    type: str
    config: dict[str, Any] = {}


# -- the guard: token, body size ---------------------------------------------------------
class PipelineSubmitBody(BaseModel):
    experiment_name: str
    pipeline_parameters: dict[str, Any] = {}
    display_name: Optional[str] = None
    tags: dict[str, Any] = {}
    pipeline_version: Optional[str] = None


class AssetBody(BaseModel):
    name: str
    spec: dict[str, Any]
    content_hash: Optional[str] = None
    create_new_version: bool = True
    run_id: Optional[str] = None
    asset_id: Optional[str] = None
    state: str = "active"


class AssetUpdateBody(BaseModel):
    spec: Optional[dict[str, Any]] = None
    state: Optional[str] = None


class LineageBody(BaseModel):
    run_id: str
    role: str
    kind: str
    name: str
    version: int
    label: Optional[str] = None


class FiringBody(BaseModel):
    slot: str
    run_id: Optional[str] = None
    error: Optional[str] = None


def _error_body(status: int, message: str) -> tuple[dict, bytes]:
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json")]}
    return start, json.dumps({"error": status, "message": message}).encode()


class _Guard:
    """ASGI middleware in front of the app: checks the token and bounds the body before
    anything is read or written."""

    def __init__(self, app: Any, token: str | None):
        self.app = app
        self._expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self._expected and scope["path"] not in PUBLIC_PATHS:
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                return await _reply(send, 401, "missing or wrong token: send 'Authorization: Bearer "
                                               "<token>' (the client reads RUNYARD_TOKEN)")
        is_upload = scope["method"] == "PUT" and (scope["path"].endswith("/files")
                                                   or scope["path"].startswith(f"{API}/snapshots/"))
        limit = MAX_FILE_BYTES if is_upload else MAX_JSON_BYTES
        what = "a file upload" if is_upload else "a request body"
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                return await _reply(send, 413, f"{what} is limited to {limit} bytes")
            return await self.app(scope, receive, send)
        if b"transfer-encoding" not in headers:  # no body at all
            return await self.app(scope, receive, send)
        # A chunked body of unknown length: read it here, up to the limit, then hand it on.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            size += len(message.get("body", b""))
            if size > limit:
                return await _reply(send, 413, f"{what} is limited to {limit} bytes")
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def _reply(send: Callable, status: int, message: str) -> None:
    start, body = _error_body(status, message)
    await send(start)
    await send({"type": "http.response.body", "body": body})


# -- the app ---------------------------------------------------------------------------
def create_app(store_url: str, artifacts_dir: str | Path, *, token: str | None = None,
               name: str = "workspace", own_url: str | None = None) -> Any:
    """The ASGI app of one workspace (migrations run now). ``serve`` runs it with uvicorn.

    ``own_url`` is where this server answers on this machine: the pipelines it starts
    (published pipelines submitted over REST) reach the workspace there.

    >>> app = create_app("sqlite:////tmp/ws.db", "/tmp/ws-artifacts")  # doctest: +SKIP
    """
    store = SqlStore(store_url)
    artifacts = ArtifactStore(Path(artifacts_dir))
    app = FastAPI(title="runyard workspace", version="1", openapi_url="/openapi.json")
    app.state.store = store

    def errors_as(status: int) -> Callable:
        async def handler(_request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"error": status, "message": str(exc)}, status_code=status)
        return handler

    app.add_exception_handler(ConfigError, errors_as(400))
    app.add_exception_handler(NotFoundError, errors_as(404))
    app.add_exception_handler(_Conflict, errors_as(409))
    app.add_exception_handler(RunyardError, errors_as(500))

    def once(key: str | None, operation: Callable[[], Any]) -> Any:
        if key is None:
            return operation()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ConfigError(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters")
        return store.apply_once(key, operation)

    def existing_run(run_id: str) -> dict[str, Any]:
        row = store.get_run(run_id)
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in workspace {name!r}")
        return row

    def existing_holder(holder: str) -> None:
        """Files are held by a run, or by a registered asset's id (a model's own files)."""
        if store.get_run(holder) is None and store.get_asset_by_id(holder) is None:
            raise NotFoundError(f"no run {holder!r} in workspace {name!r}")

    def check_columns(fields: dict[str, Any], what: str) -> None:
        unknown = sorted(set(fields) - _RUN_COLUMNS)
        if unknown:
            raise ConfigError(f"{what}: unknown run fields {unknown}; known: {sorted(_RUN_COLUMNS)}")

    Key = Header(default=None, alias="Idempotency-Key",
                 description="Sent by clients on writes: a repeat of a key is not applied again")

    @app.get(f"{API}/workspace")
    def workspace_info() -> dict[str, Any]:
        return {"name": name, "schema_version": store.schema_version()}

    # -- experiments
    @app.get(f"{API}/experiments")
    def list_experiments() -> list[str]:
        return store.list_experiments()

    @app.put(f"{API}/experiments/{{experiment}}")
    def ensure_experiment(experiment: str, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.ensure_experiment(experiment))
        return {"name": experiment}

    # -- runs
    @app.post(f"{API}/runs")
    def create_run(body: CreateRunBody, key: Optional[str] = Key) -> dict[str, Any]:
        missing = [c for c in ("run_id", "experiment", "run_type", "status") if not body.row.get(c)]
        if missing:
            raise ConfigError(f"create_run: row needs {missing}")
        check_columns(body.row, "create_run")
        return once(key, lambda: store.create_run(body.row, tags=body.tags, properties=body.properties))

    @app.get(f"{API}/runs")
    def list_runs(experiment: Optional[str] = None, parent_id: Optional[str] = None,
                  top_level_only: bool = False, status: Optional[list[str]] = Query(default=None),
                  tags: Optional[str] = Query(default=None, description="JSON object: key -> value or null"),
                  run_type: Optional[str] = None, host: Optional[str] = None,
                  limit: Optional[int] = None,
                  properties: Optional[str] = Query(default=None, description="JSON object: key -> value")
                  ) -> list[dict[str, Any]]:
        return store.list_runs(experiment=experiment, parent_id=parent_id, top_level_only=top_level_only,
                               status=status, tags=_json_object("tags", tags), run_type=run_type, host=host,
                               limit=limit, properties=_json_object("properties", properties))

    @app.get(f"{API}/runs/{{run_id}}")
    def get_run(run_id: str) -> dict[str, Any]:
        return existing_run(run_id)

    @app.patch(f"{API}/runs/{{run_id}}")
    def update_run(run_id: str, body: FieldsBody, key: Optional[str] = Key) -> dict[str, Any]:
        check_columns(body.fields, "update_run")
        existing_run(run_id)
        once(key, lambda: store.update_run(run_id, **body.fields))
        return {"run_id": run_id}

    @app.put(f"{API}/runs/{{run_id}}/process")
    def set_run_process(run_id: str, body: dict[str, Any], key: Optional[str] = Key) -> dict[str, Any]:
        existing_run(run_id)
        once(key, lambda: store.set_run_process(run_id, **body))
        return {"run_id": run_id}

    @app.post(f"{API}/runs/{{run_id}}/status")
    def set_status(run_id: str, body: StatusBody, key: Optional[str] = Key) -> dict[str, Any]:
        check_columns(body.fields, "set_status")
        changed = once(key, lambda: store.set_status(
            run_id, body.status, allow_from_terminal=body.allow_from_terminal, **body.fields))
        return {"changed": changed}

    @app.get(f"{API}/runs/{{run_id}}/status-events")
    def status_events(run_id: str) -> list[dict[str, Any]]:
        return store.status_events(run_id)

    @app.post(f"{API}/runs/{{run_id}}/end-active-children")
    def end_active_children(run_id: str, body: EndChildrenBody, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.end_active_children(run_id, body.status))
        return {"run_id": run_id}

    # -- metrics
    @app.post(f"{API}/metrics")
    def log_metrics(body: MetricsBody, key: Optional[str] = Key) -> dict[str, Any]:
        wanted = {"run_id", "name", "kind", "value_num", "value_text", "logged_at"}
        for row in body.rows:
            if set(row) != wanted:
                raise ConfigError(f"metric rows have exactly the fields {sorted(wanted)}; got {sorted(row)}")
        once(key, lambda: store.log_metrics(body.rows))
        return {"logged": len(body.rows)}

    @app.post(f"{API}/metrics/query")
    def get_metric_rows(body: MetricQueryBody) -> list[dict[str, Any]]:
        return store.get_metric_rows(body.run_ids, body.name)

    # -- tags and properties
    @app.get(f"{API}/runs/{{run_id}}/tags")
    def get_tags(run_id: str) -> dict[str, Optional[str]]:
        return store.get_tags(run_id)

    @app.put(f"{API}/runs/{{run_id}}/tags")
    def set_tags(run_id: str, body: TagsBody, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.set_tags(run_id, body.tags))
        return {"run_id": run_id}

    @app.post(f"{API}/runs/{{run_id}}/tags/remove")
    def remove_tags(run_id: str, body: KeysBody, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.remove_tags(run_id, body.keys))
        return {"run_id": run_id}

    @app.get(f"{API}/runs/{{run_id}}/properties")
    def get_properties(run_id: str) -> dict[str, Optional[str]]:
        return store.get_properties(run_id)

    @app.post(f"{API}/runs/{{run_id}}/properties")
    def add_properties(run_id: str, body: PropertiesBody, key: Optional[str] = Key) -> dict[str, Any]:
        try:
            once(key, lambda: store.add_properties(run_id, body.properties))
        except ConfigError as e:
            raise _Conflict(str(e)) from e
        return {"run_id": run_id}

    # -- environments
    @app.get(f"{API}/environments")
    def list_environments() -> list[dict[str, Any]]:
        return store.list_environments()

    @app.post(f"{API}/environments")
    def register_environment(body: EnvironmentBody, key: Optional[str] = Key) -> dict[str, Any]:
        version = once(key, lambda: store.register_environment(body.name, body.hash, body.spec))
        return {"name": body.name, "version": version}

    @app.get(f"{API}/environments/{{env_name}}")
    def get_environment(env_name: str, version: Optional[int] = None) -> dict[str, Any]:
        row = store.get_environment(env_name, version)
        if row is None:
            what = f"environment {env_name!r}" + (f" version {version}" if version is not None else "")
            raise NotFoundError(f"{what} is not registered in workspace {name!r}")
        return row

    # -- compute targets
    @app.get(f"{API}/compute-targets")
    def list_compute_targets() -> list[dict[str, Any]]:
        return store.list_compute_targets()

    @app.put(f"{API}/compute-targets/{{target}}")
    def save_compute_target(target: str, body: ComputeTargetBody, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.save_compute_target(target, body.type, body.config))
        return {"name": target}

    @app.delete(f"{API}/compute-targets/{{target}}")
    def delete_compute_target(target: str, key: Optional[str] = Key) -> dict[str, Any]:
        return {"deleted": once(key, lambda: store.delete_compute_target(target))}

    # -- assets: datasets, datastores, models, published pipelines, endpoints, schedules
    @app.get(f"{API}/assets/{{kind}}")
    def list_assets(kind: str, name: Optional[str] = None, state: Optional[str] = None,
                    latest_only: bool = False) -> list[dict[str, Any]]:
        return store.list_assets(kind, name, state=state, latest_only=latest_only)

    @app.post(f"{API}/assets/{{kind}}")
    def register_asset(kind: str, body: AssetBody, key: Optional[str] = Key) -> dict[str, Any]:
        return once(key, lambda: store.register_asset(
            kind, body.name, body.spec, content_hash=body.content_hash, create_new_version=body.create_new_version,
            run_id=body.run_id, asset_id=body.asset_id, state=body.state))

    @app.get(f"{API}/assets/{{kind}}/{{asset_name}}")
    def get_asset(kind: str, asset_name: str, version: Optional[int] = None) -> dict[str, Any]:
        row = store.get_asset(kind, asset_name, version)
        if row is None:
            what = f"{kind} {asset_name!r}" + (f" version {version}" if version is not None else "")
            raise NotFoundError(f"{what} is not registered in workspace {name!r}")
        return row

    @app.get(f"{API}/asset-ids/{{asset_id}}")
    def get_asset_by_id(asset_id: str) -> dict[str, Any]:
        row = store.get_asset_by_id(asset_id)
        if row is None:
            raise NotFoundError(f"no asset with id {asset_id!r} in workspace {name!r}")
        return row

    @app.patch(f"{API}/asset-ids/{{asset_id}}")
    def update_asset(asset_id: str, body: AssetUpdateBody, key: Optional[str] = Key) -> dict[str, Any]:
        return once(key, lambda: store.update_asset(asset_id, spec=body.spec, state=body.state))

    @app.post(f"{API}/lineage")
    def record_lineage(body: LineageBody, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.record_lineage(body.run_id, body.role, body.kind, body.name, body.version,
                                               body.label))
        return {"run_id": body.run_id}

    @app.get(f"{API}/lineage")
    def list_lineage(run_id: Optional[str] = None, kind: Optional[str] = None, asset_name: Optional[str] = Query(
            default=None, alias="name"), version: Optional[int] = None,
            role: Optional[str] = None) -> list[dict[str, Any]]:
        return store.list_lineage(run_id=run_id, kind=kind, name=asset_name, version=version, role=role)

    @app.post(f"{API}/schedule-firings/{{schedule_id}}")
    def claim_firing(schedule_id: str, body: FiringBody, key: Optional[str] = Key) -> dict[str, Any]:
        return {"claimed": once(key, lambda: store.claim_firing(schedule_id, body.slot))}

    @app.patch(f"{API}/schedule-firings/{{schedule_id}}")
    def end_firing(schedule_id: str, body: FiringBody, key: Optional[str] = Key) -> dict[str, Any]:
        once(key, lambda: store.end_firing(schedule_id, body.slot, run_id=body.run_id, error=body.error))
        return {"schedule_id": schedule_id}

    @app.get(f"{API}/schedule-firings/{{schedule_id}}")
    def list_firings(schedule_id: str) -> list[dict[str, Any]]:
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
    def submit_published_pipeline(pipeline_id: str, body: PipelineSubmitBody) -> dict[str, Any]:
        from ..pipeline.published import PublishedPipeline
        workspace = workspace_here()
        return submitted(PublishedPipeline.get(workspace, pipeline_id).submit(
            workspace, body.experiment_name, pipeline_parameters=body.pipeline_parameters,
            tags=body.tags, display_name=body.display_name))

    @app.post(f"{API}/pipeline-endpoints/{{endpoint_name}}/submit")
    def submit_pipeline_endpoint(endpoint_name: str, body: PipelineSubmitBody) -> dict[str, Any]:
        from ..pipeline.published import PipelineEndpoint
        return submitted(PipelineEndpoint.get(workspace_here(), name=endpoint_name).submit(
            body.experiment_name, pipeline_parameters=body.pipeline_parameters,
            pipeline_version=body.pipeline_version, tags=body.tags, display_name=body.display_name))

    # -- run files (a repeated upload rewrites the same bytes: idempotent without a key)
    @app.put(f"{API}/runs/{{run_id}}/files", openapi_extra={"requestBody": {
        "required": True, "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                               "format": "binary"}}}}})
    async def upload_file(run_id: str, request: Request,
                          name: str = Query(description="path of the file inside the run")) -> dict[str, Any]:
        await run_in_threadpool(artifacts._target, run_id, name)  # a bad name: 400 before reading
        await run_in_threadpool(existing_holder, run_id)
        data = await request.body()
        stored = await run_in_threadpool(artifacts.put_file, run_id, name, io.BytesIO(data))
        return {"name": stored, "size": len(data)}

    @app.get(f"{API}/runs/{{run_id}}/files")
    def list_files(run_id: str) -> list[str]:
        existing_holder(run_id)
        return artifacts.list(run_id)

    @app.get(f"{API}/runs/{{run_id}}/files/content")
    def download_file(run_id: str, name: str = Query(description="path of the file inside the run")):
        existing_holder(run_id)
        return FileResponse(artifacts.path(run_id, name), media_type="application/octet-stream")

    # -- snapshots: content-addressed zips of runs' source folders
    def snapshot_path(snapshot_hash: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", snapshot_hash):
            raise ConfigError(f"snapshot {snapshot_hash!r}: expected a 64-character sha256 hex digest")
        return artifacts.root / "snapshots" / f"{snapshot_hash}.zip"

    @app.get(f"{API}/snapshots/{{snapshot_hash}}")
    def snapshot_info(snapshot_hash: str) -> dict[str, Any]:
        path = snapshot_path(snapshot_hash)
        if not path.is_file():
            raise NotFoundError(f"no snapshot {snapshot_hash} in workspace {name!r}")
        return {"hash": snapshot_hash, "size": path.stat().st_size}

    @app.get(f"{API}/snapshots/{{snapshot_hash}}/content")
    def download_snapshot(snapshot_hash: str):
        path = snapshot_path(snapshot_hash)
        if not path.is_file():
            raise NotFoundError(f"no snapshot {snapshot_hash} in workspace {name!r}")
        return FileResponse(path, media_type="application/zip")

    @app.put(f"{API}/snapshots/{{snapshot_hash}}", openapi_extra={"requestBody": {
        "required": True, "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                               "format": "binary"}}}}})
    async def upload_snapshot(snapshot_hash: str, request: Request) -> dict[str, Any]:
        path = snapshot_path(snapshot_hash)
        data = await request.body()
        if not data.startswith(b"PK"):
            raise ConfigError(f"snapshot {snapshot_hash}: the body is not a zip file")
        await run_in_threadpool(_write_atomically, path, data)
        return {"hash": snapshot_hash, "size": len(data)}

    return _Guard(app, token)


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


def _write_atomically(path: Path, data: bytes) -> None:
    import os
    import tempfile
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- running it ----------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, token: str | None) -> None:
    """A server others can reach must ask for a token."""
    if not token and not is_loopback(host):
        raise ConfigError(f"--host {host} is reachable from other machines: give a --token "
                          f"(or set RUNYARD_TOKEN), or listen on 127.0.0.1")


def serve(store_url: str, artifacts_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8000,
          token: str | None = None, name: str = "workspace", on_ready: Callable[[str], None] | None = None,
          scheduler: bool = True, scheduler_poll_s: float | None = None) -> None:
    """Serve a workspace until interrupted; with ``scheduler``, a scheduler thread fires its
    schedules (``runyard.pipeline.scheduler``), reaching the workspace at this server's own
    address, as the pipelines it starts do.

    >>> serve("sqlite:////tmp/ws.db", "/tmp/ws-artifacts", port=8000)  # doctest: +SKIP
    """
    check_listen(host, token)
    try:
        import uvicorn
    except ModuleNotFoundError as e:
        raise missing_dependency("uvicorn", "server") from e
    shown = f"[{host}]" if ":" in host else host
    here = "127.0.0.1" if host in ("0.0.0.0", "", "::") else shown
    app = create_app(store_url, artifacts_dir, token=token, name=name, own_url=f"http://{here}:{port}")
    if on_ready is not None:
        on_ready(f"http://{shown}:{port}")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    if not scheduler:
        return uvicorn.Server(config).run()
    import asyncio
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
