"""ASGI middleware that writes every business request and its answer to the caller's journal."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock import readings
from jobagent_mock.journal import capped, redact, redacted_headers, redacted_target, watch_clock
from jobagent_mock.service import Mock
from jobagent_mock.web.context import current

log = logging.getLogger(__name__)
BUSINESS_PREFIX = "/v1/"
KEPT_BODY_BYTES = 16 * 1024  # per body; the journal keeps 500 entries a sandbox


class JournalMiddleware:
    def __init__(self, app: ASGIApp, mock: Mock) -> None:
        self.app, self.mock = app, mock

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
                answer = (status, warning)
                sandbox, entry = self._entry(scope, bytes(asked), answer, bytes(answered))
                await self._record(sandbox, entry, clock.get(sandbox))
            except Exception:  # the journal must never break an answer
                log.exception("could not journal %s %s", scope["method"], scope["path"])

    async def _record(self, sandbox: str, entry: dict[str, Any], now: datetime | None) -> None:
        record = functools.partial(self.mock.control.record, sandbox, entry, now)
        if self.mock.store.shared:  # a shared store can wait: never in the event loop
            await asyncio.to_thread(record)
        else:
            record()

    @staticmethod
    def _entry(
        scope: Scope, asked: bytes, answer: tuple[int, str | None], answered: bytes
    ) -> tuple[str, dict[str, Any]]:
        """The caller's sandbox and what the journal keeps, as the request context knows them."""
        request = current()
        headers, operation = request.headers, request.operation
        return request.journal_sandbox(), {
            "operationId": operation.operation_id if operation else None,
            "request": {
                "method": scope["method"],
                "path": redacted_target(scope["path"], scope["query_string"].decode("latin-1")),
                "headers": redacted_headers(headers.items()),
                "body": redact(asked.decode("utf-8", errors="replace")),
            },
            "response": {
                "status": answer[0],
                "body": redact(answered.decode("utf-8", "replace")),
                **({"warning": capped(redact(answer[1]))} if answer[1] else {}),
            },
        }
