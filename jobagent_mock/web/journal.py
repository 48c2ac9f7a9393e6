"""ASGI middleware that writes every business request and its answer to the caller's journal."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock import readings, spec
from jobagent_mock.auth import Authority
from jobagent_mock.errors import Fejl
from jobagent_mock.journal import mask_cpr, masked_headers, watch_clock
from jobagent_mock.service import Mock
from jobagent_mock.web.context import SANDBOX_HEADER, sandbox_key

log = logging.getLogger(__name__)
BUSINESS_PREFIX = "/v1/"
KEPT_BODY_BYTES = 16 * 1024  # per body; the journal keeps 500 entries a sandbox


class JournalMiddleware:
    def __init__(self, app: ASGIApp, mock: Mock, authority: Authority) -> None:
        self.app, self.mock, self.authority = app, mock, authority

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        asked, answered = bytearray(), bytearray()
        status, warning = 0, None

        async def receive_() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(asked) < KEPT_BODY_BYTES:
                asked.extend(message.get("body", b"")[: KEPT_BODY_BYTES - len(asked)])
            return message

        async def send_(message: Message) -> None:
            nonlocal status, warning
            if message["type"] == "http.response.start":
                status = message["status"]
                warning = Headers(raw=message.get("headers", [])).get(readings.HEADER)
            elif message["type"] == "http.response.body" and len(answered) < KEPT_BODY_BYTES:
                answered.extend(message.get("body", b"")[: KEPT_BODY_BYTES - len(answered)])
            await send(message)

        clock = watch_clock()
        try:
            await self.app(scope, receive_, send_)
        finally:
            try:
                self._record(scope, bytes(asked), (status, warning), bytes(answered), clock)
            except Exception:  # the journal must never break an answer
                log.exception("could not journal %s %s", scope["method"], scope["path"])

    def _record(
        self,
        scope: Scope,
        asked: bytes,
        answer: tuple[int, str | None],
        answered: bytes,
        clock: dict[str, datetime],
    ) -> None:
        headers = Headers(scope=scope)
        sandbox = self._sandbox(headers)
        operation = spec.operation_for(scope["method"], scope["path"])
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        self.mock.control.record(
            sandbox,
            {
                "operationId": operation.operation_id if operation else None,
                "request": {
                    "method": scope["method"],
                    "path": mask_cpr(path),
                    "headers": masked_headers(headers.items()),
                    "body": mask_cpr(asked.decode("utf-8", errors="replace")),
                },
                "response": {
                    "status": answer[0],
                    "body": mask_cpr(answered.decode("utf-8", "replace")),
                    **({"warning": mask_cpr(answer[1])} if answer[1] else {}),
                },
            },
            clock.get(sandbox),
        )

    def _sandbox(self, headers: Headers) -> str:
        kind, _, token = headers.get("authorization", "").partition(" ")
        claims: dict[str, Any] = (
            self.authority.verify(token) if kind.lower() == "bearer" else None
        ) or {}
        try:
            return sandbox_key(claims.get("sub"), headers.get(SANDBOX_HEADER))
        except Fejl:
            return sandbox_key(claims.get("sub"), None)
