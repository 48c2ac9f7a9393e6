"""ASGI middleware that writes every business request and its answer to the caller's journal."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock import readings, scenarios
from jobagent_mock.journal import (
    CUT_MARGIN,
    decoded_json,
    redacted_capped,
    redacted_headers,
    redacted_target,
    watch_clock,
)
from jobagent_mock.service import Mock
from jobagent_mock.web.context import current

log = logging.getLogger(__name__)
BUSINESS_PREFIX = "/v1/"
KEPT_BODY_BYTES = 8 * 1024  # per body; the journal keeps 500 entries a sandbox


class _Body:
    """What the journal keeps of a body sent in chunks: the first KEPT_BODY_BYTES (and a margin
    to redact across the cut), and how long it was."""

    def __init__(self) -> None:
        self.kept, self.length = bytearray(), 0

    def add(self, chunk: bytes) -> None:
        self.length += len(chunk)
        room = KEPT_BODY_BYTES + CUT_MARGIN - len(self.kept)
        if room > 0:
            self.kept.extend(chunk[:room])

    def shown(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        return redacted_capped(decoded_json(text), KEPT_BODY_BYTES, self.length)


class JournalMiddleware:
    def __init__(self, app: ASGIApp, mock: Mock) -> None:
        self.app, self.mock = app, mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        asked, answered = _Body(), _Body()
        status, warning = 0, None

        async def receive_() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                asked.add(message.get("body", b""))
            return message

        async def send_(message: Message) -> None:
            nonlocal status, warning
            if message["type"] == "http.response.start":
                status = message["status"]
                warning = Headers(raw=message.get("headers", [])).get(readings.HEADER)
            elif message["type"] == "http.response.body":
                answered.add(message.get("body", b""))
            await send(message)

        clock = watch_clock()
        try:
            await self.app(scope, receive_, send_)
        finally:
            try:
                await self._journal(scope, asked, (status, warning), answered, clock)
            except Exception:  # the journal must never break an answer
                log.exception("could not journal %s %s", scope["method"], scope["path"])

    async def _journal(
        self,
        scope: Scope,
        asked: _Body,
        answer: tuple[int, str | None],
        answered: _Body,
        clock: dict[str, datetime],
    ) -> None:
        if not current().journaled():  # no sandbox, no journal: a refusal creates none
            return
        sandbox, entry = self._entry(scope, asked.shown(), answer, answered.shown())
        await self._record(sandbox, entry, clock.get(sandbox))

    async def _record(self, sandbox: str, entry: dict[str, Any], now: datetime | None) -> None:
        control = self.mock.control
        if not self.mock.store.shared:
            control.record(sandbox, entry, now)
        # a shared store can wait: written by the journal writer's thread, behind the answer
        elif not control.record_later(sandbox, entry, now):
            await asyncio.to_thread(control.journal_written)  # a full backlog: wait, off the loop

    @staticmethod
    def _entry(
        scope: Scope, asked: str, answer: tuple[int, str | None], answered: str
    ) -> tuple[str, dict[str, Any]]:
        """The caller's sandbox and what the journal keeps, as the request context knows them."""
        request = current()
        headers, operation = request.headers, request.operation
        memo = scenarios.memo()  # what a scenario or Prefer forced (web/scenarios.py)
        forced: dict[str, Any] = {"forced": True} if memo.forced else {}
        if memo.scenario_id:
            forced["scenario"] = memo.scenario_id
        return request.journal_sandbox(), {
            "operationId": operation.operation_id if operation else None,
            **forced,
            "request": {
                "method": scope["method"],
                "path": redacted_target(scope["path"], scope["query_string"].decode("latin-1")),
                "headers": redacted_headers(headers.items()),
                "body": asked,
            },
            "response": {
                "status": answer[0],
                "body": answered,
                **({"warning": redacted_capped(answer[1])} if answer[1] else {}),
                **({"fault": memo.fault} if memo.fault else {}),
            },
            # the proxy's departures (already redacted: drift.Departure.of)
            **({"drift": request.drift} if request.drift else {}),
        }
