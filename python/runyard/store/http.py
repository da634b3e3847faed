"""Run history and run files on a workspace server (``runyard server``), over HTTP.

``HttpStore`` implements the store contract (``store.base.RunStore``) over the
server's REST API; ``HttpArtifactStore`` the methods of ``ArtifactStore``. Every
write carries an ``Idempotency-Key`` that stays the same across its retries, so a
request retried after a lost answer is applied once.

A request the server cannot answer (no connection, 502-504) is retried with
backoff for a window of ``RUNYARD_RETRY_WINDOW_S`` seconds: by default long enough
to ride out a server restart inside a job or a supervisor (``JOB_RETRY_WINDOW_S``),
short for an interactive call. An answer that says the request is wrong (4xx) or
that the server failed (500) is not retried.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable, Iterable

from .. import folders
from ..artifacts import folder_files, report_left_out
from ..errors import (ConfigError, ConflictError, NotFoundError, PermissionDeniedError, RunNotFoundError,
                      RunyardError, SnapshotError, missing_dependency)
from ..ids import check_asset_name, check_experiment_name, check_id, check_sha256
from . import checks, metric_series
from .base import ENV_RETRY_WINDOW, JOB_RETRY_WINDOW_S, RunStore, current_retry_deadline
from .query import RunQuery

try:
    import requests
except ModuleNotFoundError as e:  # pragma: no cover - depends on the installed extras
    raise missing_dependency("requests", "server") from e

API = "/api/v1"
ENV_TOKEN = "RUNYARD_TOKEN"
MAX_FILE_BYTES = 64 * 1024 * 1024
#: asset versions per ``register_assets`` request (the server takes at most 1,000)
ASSET_BATCH = 500
#: the same for an interactive call (a notebook, the CLI), which should fail fast
INTERACTIVE_RETRY_WINDOW_S = 10.0
_RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_BACKOFF_S = 5.0


class ServerError(RunyardError):
    """The workspace server failed to answer a request (after retries)."""


def retry_window_s() -> float:
    """``RUNYARD_RETRY_WINDOW_S``, else the job window inside a job (``RUNYARD_RUN_ID`` set),
    else the interactive one."""
    text = os.environ.get(ENV_RETRY_WINDOW)
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 24 * 3600:
            raise ConfigError(f"{ENV_RETRY_WINDOW}={text!r}: expected seconds, 0 to 86400")
        return value
    return JOB_RETRY_WINDOW_S if os.environ.get("RUNYARD_RUN_ID") else INTERACTIVE_RETRY_WINDOW_S


class _Client:
    """One server address: a requests Session per thread, retries with backoff."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0,
                 retry_window: float | None = None, backoff: float = 0.1):
        self.url = url.rstrip("/")
        self.token = token if token is not None else (os.environ.get(ENV_TOKEN) or None)
        self.timeout = timeout
        self.retry_window = retry_window_s() if retry_window is None else retry_window
        self.backoff = backoff
        self._local = threading.local()

    def _session(self) -> "requests.Session":
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            if self.token:
                session.headers["Authorization"] = f"Bearer {self.token}"
            self._local.session = session
        return session

    def request(self, method: str, path: str, *, write: bool = False, json_body: Any = None,
                params: Any = None, data: bytes | BinaryIO | None = None, stream: bool = False,
                not_found_ok: bool = False, key: str | None = None) -> Any:
        """Send one request; JSON answer (or the response when ``stream``), None on 404 when
        ``not_found_ok``. A write carries ``key`` (a new one if None) as its Idempotency-Key;
        no answer and 502-504 are retried with the same key within the retry window. ``data``
        may be an open file: it is streamed, from its start on each try."""
        headers = {"Idempotency-Key": key or uuid.uuid4().hex} if write else {}
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        address = f"{self.url}{API}{path}"
        deadline = time.monotonic() + self.retry_window
        if current_retry_deadline() is not None:
            deadline = min(deadline, current_retry_deadline())
        attempt = 0
        while True:
            if hasattr(data, "seek"):
                data.seek(0)
            try:
                response = self._session().request(method, address, json=json_body, params=params, data=data,
                                                   headers=headers, timeout=self.timeout, stream=stream)
            except requests.exceptions.InvalidJSONError as e:
                raise ConfigError(f"{method} {path}: the request cannot be sent as JSON ({e})") from e
            except (requests.ConnectionError, requests.Timeout) as e:
                if not self._wait_to_retry(deadline, attempt):
                    raise NotFoundError(f"no runyard workspace server answers at {self.url} "
                                        f"({type(e).__name__}, retried for {self.retry_window:g} s). Start one "
                                        f"with `runyard server`, or check the address.") from e
                attempt += 1
                continue
            if response.status_code in _RETRY_STATUSES and self._wait_to_retry(deadline, attempt):
                response.close()
                attempt += 1
                continue
            break
        if response.status_code == 404 and not_found_ok:
            return None
        if response.status_code >= 400:
            raise self._error(method, path, response)
        if stream:
            return response
        return response.json()

    def _wait_to_retry(self, deadline: float, attempt: int) -> bool:
        """Sleep before try ``attempt + 1`` (exponential backoff with jitter, never past the
        deadline); False when the window is spent."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, self.backoff * 2 ** min(attempt, 10), _MAX_BACKOFF_S) * random.uniform(0.5, 1.0))
        return True

    def _error(self, method: str, path: str, response: "requests.Response") -> RunyardError:
        try:
            body = response.json()
            message = body.get("message") or body.get("detail") or body
        except ValueError:
            message = response.text[:500]
        if not isinstance(message, str):
            message = json.dumps(message)
        status = response.status_code
        if status == 404:
            return RunNotFoundError(message) if message.startswith(("no run", "run_id")) else NotFoundError(message)
        if status == 401:
            return ConfigError(f"the workspace server at {self.url} refused the token: {message}")
        if status == 403:
            return PermissionDeniedError(message)
        if status == 409:
            return ConflictError(message)
        if status in (400, 413, 422):
            return ConfigError(message)
        return ServerError(f"{method} {self.url}{API}{path} failed with HTTP {status}: {message}")


class HttpStore(RunStore):
    """The run store of a workspace server: the store contract over its REST API.

    >>> store = HttpStore("http://127.0.0.1:8000")  # doctest: +SKIP
    >>> store.list_experiments()  # doctest: +SKIP
    """

    def __init__(self, url: str, token: str | None = None, **client_options: Any):
        self.url = url.rstrip("/")
        self._client = _Client(self.url, token, **client_options)

    def _get(self, path: str, **kwargs: Any) -> Any:
        return self._client.request("GET", path, **kwargs)

    def _write(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        return self._client.request(method, path, write=True, json_body=body, key=key)

    def workspace_info(self) -> dict[str, Any]:
        return self._get("/workspace")

    def schema_version(self) -> int:
        return int(self.workspace_info()["schema_version"])

    def close(self) -> None:
        session = getattr(self._client._local, "session", None)
        if session is not None:
            session.close()

    # -- experiments
    def ensure_experiment(self, name: str) -> None:
        self._write("PUT", f"/experiments/{_segment(check_experiment_name(name, 'experiment'))}")

    def list_experiments(self) -> list[str]:
        return self._get("/experiments")

    def query_runs(self, query: RunQuery | None = None, **fields: Any) -> dict[str, Any]:
        query = query if query is not None else RunQuery.of(**fields)  # refused here before it is sent
        body = dataclasses.asdict(query)
        return self._client.request("POST", "/runs/query", json_body=body)

    # -- runs
    def create_run(self, row: dict[str, Any], tags: dict[str, Any] | None = None,
                   properties: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._write("POST", "/runs", {"row": row, "tags": _stored(tags, "tags"),
                                             "properties": _stored(properties, "properties")})

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self._get(f"/runs/{_segment(run_id)}", not_found_ok=True) if _valid_id(run_id) else None

    def update_run(self, run_id: str, **fields: Any) -> None:
        self._write("PATCH", _run_path(run_id), {"fields": fields})

    def set_run_process(self, run_id: str, *, host: str, supervisor_pid: int | None = None,
                        supervisor_started: float | None = None, job_pid: int | None = None,
                        job_started: float | None = None) -> None:
        body = {"host": host, "supervisor_pid": supervisor_pid, "supervisor_started": supervisor_started,
                "job_pid": job_pid, "job_started": job_started}
        self._write("PUT", _run_path(run_id, "/process"), {k: v for k, v in body.items() if v is not None})

    def issue_job_token(self, run_id: str) -> str:
        return self._write("POST", _run_path(run_id, "/job-token"))["token"]

    def set_status(self, run_id: str, status: str, *, allow_from_terminal: bool = False,
                   error: str | None = None, exit_code: int | None = None) -> bool:
        body = {"status": status, "allow_from_terminal": allow_from_terminal, "error": error, "exit_code": exit_code}
        answer = self._write("POST", _run_path(run_id, "/status"), {k: v for k, v in body.items()
                                                                          if v is not None})
        return bool(answer["changed"])

    def end_active_children(self, run_id: str, status: str) -> None:
        self._write("POST", _run_path(run_id, "/end-active-children"), {"status": status})

    def status_events(self, run_id: str) -> list[dict[str, Any]]:
        return self._get(f"/runs/{_segment(run_id)}/status-events", not_found_ok=True) or [] \
            if _valid_id(run_id) else []

    def list_runs(self, *, experiment: str | None = None, parent_id: str | None = None,
                  top_level_only: bool = False, status: str | Iterable[str] | None = None,
                  tags: dict[str, Any] | None = None, run_type: str | None = None,
                  host: str | None = None, limit: int | None = None,
                  properties: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"experiment": experiment, "parent_id": parent_id, "run_type": run_type,
                                  "host": host, "limit": limit}
        if properties:
            params["properties"] = json.dumps(_stored(properties, "properties"))
        if top_level_only:
            params["top_level_only"] = "true"
        if status is not None:
            params["status"] = [status] if isinstance(status, str) else list(status)
        if tags:
            params["tags"] = json.dumps(_stored(tags, "tags"))
        return self._get("/runs", params={k: v for k, v in params.items() if v is not None})

    # -- metrics
    def log_metrics(self, rows: list[dict[str, Any]], *, batch_id: str | None = None) -> None:
        if rows:
            self._write("POST", "/metrics", {"rows": rows}, key=batch_id)

    def metric_names(self, run_id: str) -> list[dict[str, Any]]:
        return self._get(f"/runs/{check_id(run_id, 'run_id')}/metric-names")

    def metric_series(self, run_ids: list[str], name: str, *, points: int = 1000, start: int = 0,
                      end: int | None = None) -> list[dict[str, Any]]:
        run_ids, name, points, start, end = metric_series.check(run_ids, name, points=points, start=start, end=end)
        return self._client.request("POST", "/metrics/series", json_body={
            "run_ids": run_ids, "name": name, "points": points, "start": start, "end": end})

    def get_metric_rows(self, run_ids: list[str], name: str | None = None) -> list[dict[str, Any]]:
        return self._client.request("POST", "/metrics/query", json_body={"run_ids": list(run_ids), "name": name})

    # -- tags and properties
    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        self._write("PUT", _run_path(run_id, "/tags"), {"tags": _stored(tags, "tags")})

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        self._write("POST", _run_path(run_id, "/tags/remove"), {"keys": list(keys)})

    def get_tags(self, run_id: str) -> dict[str, str | None]:
        return self._get(f"/runs/{_segment(run_id)}/tags", not_found_ok=True) or {} if _valid_id(run_id) else {}

    def add_properties(self, run_id: str, props: dict[str, Any]) -> None:
        self._write("POST", _run_path(run_id, "/properties"), {"properties": _stored(props, "properties")})

    def get_properties(self, run_id: str) -> dict[str, str | None]:
        return (self._get(f"/runs/{_segment(run_id)}/properties", not_found_ok=True) or {}
                if _valid_id(run_id) else {})

    # -- environments
    def register_environment(self, name: str, env_hash: str, spec: dict[str, Any]) -> int:
        return int(self._write("POST", "/environments", {"name": name, "hash": env_hash, "spec": spec})["version"])

    def get_environment(self, name: str, version: int | None = None) -> dict[str, Any] | None:
        params = {"version": version} if version is not None else None
        return self._get(f"/environments/{_segment(name)}", params=params, not_found_ok=True)

    def list_environments(self) -> list[dict[str, Any]]:
        return self._get("/environments")

    # -- compute targets
    def save_compute_target(self, name: str, kind: str, config: dict[str, Any]) -> None:
        self._write("PUT", f"/compute-targets/{_segment(name)}", {"type": kind, "config": config})

    def delete_compute_target(self, name: str) -> bool:
        return bool(self._write("DELETE", f"/compute-targets/{_segment(name)}")["deleted"])

    def list_compute_targets(self) -> list[dict[str, Any]]:
        return self._get("/compute-targets")

    # -- assets
    def register_asset(self, kind: str, name: str, spec: dict[str, Any], *, content_hash: str | None = None,
                       create_new_version: bool = True, run_id: str | None = None,
                       asset_id: str | None = None, state: str = "active") -> dict[str, Any]:
        return self._write("POST", f"/assets/{_segment(kind)}", {
            "name": name, "spec": spec, "content_hash": content_hash, "create_new_version": create_new_version,
            "run_id": run_id, "asset_id": asset_id, "state": state})

    def register_assets(self, kind: str, assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """In requests of at most ``ASSET_BATCH`` items, each all or none on the server."""
        rows: list[dict[str, Any]] = []
        for start in range(0, len(assets), ASSET_BATCH):
            rows += self._write("POST", f"/asset-batches/{_segment(kind)}",
                                {"assets": assets[start:start + ASSET_BATCH]})
        return rows

    def get_asset(self, kind: str, name: str, version: int | None = None) -> dict[str, Any] | None:
        params = {"version": version} if version is not None else None
        try:
            check_asset_name(name)
        except ConfigError:
            return None
        return self._get(f"/assets/{_segment(kind)}/{_segment(name)}", params=params, not_found_ok=True)

    def get_asset_by_id(self, asset_id: str) -> dict[str, Any] | None:
        return self._get(f"/asset-ids/{_segment(asset_id)}", not_found_ok=True) if _valid_id(asset_id) else None

    def list_assets(self, kind: str, name: str | None = None, *, state: str | None = None,
                    latest_only: bool = False) -> list[dict[str, Any]]:
        params = {"name": name, "state": state, "latest_only": "true" if latest_only else None}
        return self._get(f"/assets/{_segment(kind)}", params={k: v for k, v in params.items() if v is not None})

    def update_asset(self, asset_id: str, *, spec: dict[str, Any] | None = None,
                     state: str | None = None) -> dict[str, Any]:
        return self._write("PATCH", f"/asset-ids/{_segment(check_id(asset_id, 'asset_id'))}",
                           {"spec": spec, "state": state})

    def record_lineage(self, run_id: str, role: str, kind: str, name: str, version: int,
                       label: str | None = None) -> None:
        self._write("POST", "/lineage", {"run_id": run_id, "role": role, "kind": kind, "name": name,
                                         "version": version, "label": label})

    def list_lineage(self, *, run_id: str | None = None, kind: str | None = None, name: str | None = None,
                     version: int | None = None, role: str | None = None) -> list[dict[str, Any]]:
        params = {"run_id": run_id, "kind": kind, "name": name, "version": version, "role": role}
        return self._get("/lineage", params={k: v for k, v in params.items() if v is not None})

    # -- schedule firings
    def claim_firing(self, schedule_id: str, slot: str) -> bool:
        return bool(self._write("POST", f"/schedule-firings/{_segment(check_id(schedule_id, 'schedule_id'))}",
                                {"slot": slot})["claimed"])

    def end_firing(self, schedule_id: str, slot: str, *, run_id: str | None = None,
                   error: str | None = None) -> None:
        self._write("PATCH", f"/schedule-firings/{_segment(check_id(schedule_id, 'schedule_id'))}",
                    {"slot": slot, "run_id": run_id, "error": error})

    def list_firings(self, schedule_id: str) -> list[dict[str, Any]]:
        return self._get(f"/schedule-firings/{_segment(schedule_id)}") if _valid_id(schedule_id) else []


class HttpArtifactStore:
    """Run files on a workspace server; downloads are cached in a local folder."""

    def __init__(self, store: HttpStore, cache_dir: str | os.PathLike | None = None):
        self._client = store._client
        if cache_dir is None:  # this user's own: a folder under the shared /tmp could be another's
            from ..compute.local_env import cache_root
            digest = hashlib.sha256(store.url.encode()).hexdigest()[:16]
            cache_dir = cache_root() / "servers" / digest / "files"
        self.root = Path(cache_dir)

    def run_dir(self, run_id: str) -> Path:
        """Where this machine keeps the files of ``run_id`` it downloaded."""
        return self.root / "runs" / check_id(run_id, "run_id")

    def put_file(self, run_id: str, name: str, source: str | os.PathLike | BinaryIO, *,
                 sha256: str | None = None) -> str:
        """Send a file or a stream (streamed, never read into memory whole); with ``sha256``, the
        server refuses bytes that hash otherwise."""
        params = {"name": name, **({"sha256": sha256} if sha256 else {})}
        address = f"/runs/{_segment(run_id)}/files"
        if not hasattr(source, "read"):
            path = Path(source)
            if not path.is_file():
                raise ConfigError(f"path_or_stream {str(source)!r} is not a file")
            with open(path, "rb") as fh:
                return self.put_file(run_id, name, fh, sha256=sha256)
        if _seekable(source):
            _check_size(source, name)
            return self._client.request("PUT", address, params=params, data=source)["name"]
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as copy:  # to send again on a retry
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copy.write(chunk.encode() if isinstance(chunk, str) else chunk)
            copy.seek(0)
            _check_size(copy, name)
            return self._client.request("PUT", address, params=params, data=copy)["name"]

    def put_folder(self, run_id: str, name: str, folder: str | os.PathLike, *, move: bool = False,
                   log: Callable[[str], None] | None = None) -> list[str]:
        """As ``ArtifactStore.put_folder``: a link to a file inside the folder is sent as that
        file, one out of it is left out with a line to ``log`` (default: stderr)."""
        contents = folder_files(folder, name)
        left_out = list(contents.left_out)
        names = []
        # Links first: a move below may take away the file a link points to.
        for found in sorted(contents.files, key=lambda f: not f.linked):
            try:
                with folders.open_found(found) as src:
                    if os.fstat(src.fileno()).st_size > MAX_FILE_BYTES:
                        raise ConfigError(f"{found.path}: files uploaded to a workspace server are limited to "
                                          f"{MAX_FILE_BYTES} bytes")
                    names.append(self.put_file(run_id, found.name, src))
            except folders.FileChangedError as e:
                left_out.append(folders.LeftOut(found.name, e.strerror))
                continue
            if move and not found.linked:
                found.path.unlink()
        report_left_out(sorted(left_out, key=lambda item: item.name), log)
        return sorted(names)

    def append_log(self, run_id: str, log_name: str, offset: int, data: bytes) -> int:
        """Send the bytes of the run's ``logs/<log_name>`` from ``offset``; the server keeps
        those past its copy's end (a retry adds nothing twice). Answers the log's size there."""
        answer = self._client.request("POST", f"/runs/{_segment(run_id)}/logs/{_segment(log_name)}", write=True,
                                      params={"offset": offset}, data=data)
        return int(answer["size"])

    def digest(self, run_id: str, name: str) -> str:
        """The sha256 of the run's file ``name``, as the server computes it."""
        answer = self._client.request("GET", f"/runs/{_segment(run_id)}/files/digest", params={"name": name})
        return check_sha256(answer["sha256"], f"the sha256 the server gives for {name!r} of {run_id}")

    def list(self, run_id: str) -> list[str]:
        """The run's file names; each a relative path inside the run (a ``ConfigError`` names
        one that is not), so a download of them stays in its folder."""
        names = self._client.request("GET", f"/runs/{_segment(run_id)}/files")
        for name in names:
            clean = PurePosixPath(str(name).replace("\\", "/"))
            if clean.is_absolute() or ".." in clean.parts or not clean.parts:
                raise ConfigError(f"the workspace server lists {name!r} as a file of run {run_id}: that is "
                                  f"no relative path inside the run; nothing was downloaded")
        return names

    def put_snapshot(self, snapshot_hash: str, path: str | os.PathLike) -> None:
        """Upload a snapshot zip unless the server has it (snapshots are content-addressed)."""
        if self._client.request("GET", f"/snapshots/{snapshot_hash}", not_found_ok=True) is not None:
            return
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"the snapshot of the source folder is {size} bytes; a workspace server takes "
                              f"at most {MAX_FILE_BYTES}: leave big files out with .runyardignore")
        with open(path, "rb") as fh:
            self._client.request("PUT", f"/snapshots/{snapshot_hash}", data=fh)

    def get_snapshot(self, snapshot_hash: str, store_dir: str | os.PathLike) -> Path:
        """The snapshot zip as ``store_dir/<hash>.zip``, downloaded unless it is there; a
        download whose files do not hash to ``snapshot_hash`` is refused (SnapshotError) and
        not kept."""
        from ..snapshot import content_hash_of_zip
        check_sha256(snapshot_hash, "snapshot hash")
        destination = Path(store_dir) / f"{snapshot_hash}.zip"
        if destination.is_file():
            return destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=destination.parent, prefix=".download-", suffix=".zip")
        os.close(fd)
        tmp = Path(name)
        try:
            self._fetch(f"/snapshots/{snapshot_hash}/content", {}, tmp)
            found = content_hash_of_zip(tmp)
            if found != snapshot_hash:
                raise SnapshotError(f"snapshot {snapshot_hash} from {self._client.url}: its files hash to {found}; "
                                    f"it was changed or broke on the way, and was not used")
            os.replace(tmp, destination)
        finally:
            tmp.unlink(missing_ok=True)
        return destination

    def download(self, run_id: str, name: str, destination: str | os.PathLike) -> Path:
        return self._fetch(f"/runs/{_segment(run_id)}/files/content", {"name": name}, destination)

    def _fetch(self, path: str, params: dict[str, str], destination: str | os.PathLike) -> Path:
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        response = self._client.request("GET", path, params=params, stream=True)
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, response:
                shutil.copyfileobj(response.raw, out)
            os.replace(tmp, destination)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return destination

    def path(self, run_id: str, name: str) -> Path:
        """A local copy of the file (downloaded into the cache)."""
        clean = Path(name.replace("\\", "/"))
        if clean.is_absolute() or ".." in clean.parts or not clean.parts:
            raise ConfigError(f"artifact name {name!r} must be a relative path inside the run")
        base = self.run_dir(run_id)
        base.mkdir(parents=True, exist_ok=True)
        try:  # the cache is written into: never through a link someone left there
            folders.make_folders(base, clean.parts[:-1])
        except folders.LinkOnPathError as e:
            raise ConfigError(f"{e.filename} in the download cache {self.root} is a link or no folder; "
                              f"remove it") from e
        return self.download(run_id, name, base / clean)


def _stored(values: Any, field: str) -> dict[str, str | None] | None:
    """Tag or property values as every store keeps them: text (JSON for what is not)."""
    return None if values is None else checks.key_values(values, field)


def _seekable(stream: Any) -> bool:
    try:
        return bool(stream.seekable()) and not isinstance(stream.read(0), str)
    except (AttributeError, OSError, ValueError):
        return False


def _check_size(stream: Any, name: str) -> None:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    if size > MAX_FILE_BYTES:
        raise ConfigError(f"{name}: files uploaded to a workspace server are limited to {MAX_FILE_BYTES} bytes, "
                          f"this one has {size}")


def _run_path(run_id: str, rest: str = "") -> str:
    """``/runs/<run_id><rest>``, the run id checked first (a ConfigError naming it)."""
    return f"/runs/{_segment(check_id(run_id, 'run_id'))}{rest}"


def _segment(value: str) -> str:
    """One path segment of a URL: an id, checked (a ``ConfigError`` naming the field before
    anything is sent), or a name, quoted."""
    from urllib.parse import quote
    return quote(str(value), safe="")


def _valid_id(value: Any) -> bool:
    try:
        check_id(value)
    except ConfigError:
        return False
    return True
