"""What every request meets before a route runs: the token, and a bound on its body.

- With a workspace token, ``Authorization: Bearer <token>`` is required under
  ``/api/`` (401 otherwise; the schema and the studio's static files are public): the workspace token makes the caller a user; a job token
  (``ryj_...``) the job of its run, while that run is active. The caller is put
  in the request's scope for the routes (``runyard.studio.access``).
- JSON bodies are bounded by ``MAX_JSON_BYTES`` (413); file uploads are streamed
  to disk by their routes, which bound them by ``MAX_FILE_BYTES``.
- Connections that send no complete request head within ``HEAD_TIMEOUT_S`` are
  closed (``HeadTimeoutH11Protocol``), so idle or slow unauthenticated clients
  cannot hold the server's connections; idle keep-alive connections are closed
  by uvicorn after ``KEEP_ALIVE_S``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool

from ..errors import ConfigError
from ..store.sql import JOB_TOKEN_PREFIX, SqlStore
from .access import Caller

API = "/api/v1"
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024
HEAD_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5
MIN_TOKEN_LENGTH = 16
#: Only the API needs the token: the schema, its viewers and the studio's static files say
#: nothing about the workspace (the studio asks for the token when the API answers 401).
API_PREFIX = "/api/"
CALLER = "runyard.caller"
#: "METHOD /path" of the request being served: what an Idempotency-Key is recorded against
current_request: contextvars.ContextVar[str | None] = contextvars.ContextVar("runyard_request", default=None)


def check_token(token: str | None) -> str | None:
    """A workspace token is long enough to resist guessing and fits in a header."""
    if token is None:
        return None
    if len(token) < MIN_TOKEN_LENGTH or not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError(f"the token must be at least {MIN_TOKEN_LENGTH} printable ASCII characters without "
                          f"spaces; make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if token.startswith(JOB_TOKEN_PREFIX):
        raise ConfigError(f"a workspace token must not start with {JOB_TOKEN_PREFIX!r} (job tokens do)")
    return token


def is_upload(method: str, path: str) -> bool:
    return method == "PUT" and (path.endswith("/files") or path.startswith(f"{API}/snapshots/"))


class Guard:
    """ASGI middleware in front of the app."""

    def __init__(self, app: Any, store: SqlStore, token: str | None):
        self.app = app
        self.store = store
        self._expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        current_request.set(f"{scope['method']} {scope['path']}"[:512])
        if scope["path"].startswith(API_PREFIX):
            caller = await self._caller(headers.get(b"authorization", b""))
            if caller is None:
                return await reply(send, 401, "missing or wrong token: send 'Authorization: Bearer <token>' (the "
                                              "client reads RUNYARD_TOKEN); a job's token ends with its run")
            scope.setdefault("state", {})[CALLER] = caller
        if is_upload(scope["method"], scope["path"]):
            return await self.app(scope, receive, send)  # the route streams it to disk, bounded
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > MAX_JSON_BYTES:
                return await reply(send, 413, f"a request body is limited to {MAX_JSON_BYTES} bytes")
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
            if size > MAX_JSON_BYTES:
                return await reply(send, 413, f"a request body is limited to {MAX_JSON_BYTES} bytes")
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

    async def _caller(self, given: bytes) -> Caller | None:
        if given.startswith(b"Bearer " + JOB_TOKEN_PREFIX.encode()):
            try:
                token = given[len(b"Bearer "):].decode("ascii")
            except UnicodeDecodeError:
                return None
            run = await run_in_threadpool(self.store.job_token_run, token)
            return Caller(job_run=run["run_id"], _store=self.store) if run else None
        if self._expected is None or hmac.compare_digest(given, self._expected):
            return Caller(_store=self.store)
        return None


async def reply(send: Callable, status: int, message: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps({"error": status, "message": message}).encode()})


def head_timeout_protocol() -> type:
    """uvicorn's h11 protocol, closing a connection whose request head has not arrived within
    ``HEAD_TIMEOUT_S`` of the connection opening or of the last response (uvicorn itself
    waits forever for a head that trickles in)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadTimeoutH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # a request head arrived: its route takes it from here

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeadTimeoutH11Protocol
