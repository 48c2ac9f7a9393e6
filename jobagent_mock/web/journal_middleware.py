"""ASGI middleware that writes every business request and its answer to the caller's journal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.foundations import readings
from jobagent_mock.journal.entries import (
    CUT_MARGIN,
    decoded_json,
    redacted_capped,
    redacted_headers,
    redacted_target,
    watch_clock,
)
from jobagent_mock.rules import scenarios
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


class _Exchange:
    """One request as the journal follows it: what was asked and answered, and the answer's
    head and newest part, held until its last part: that part waits for the entry."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive, self._send = receive, send
        self.asked, self.answered = _Body(), _Body()
        self.status: int = 0
        self.warning: str | None = None
        self.head: Message | None = None  # the answer's head, until its body goes
        self.held: Message | None = None  # the body's newest part, until the next one comes
        self.journaled = False
        self.journal: Callable[[], Awaitable[None]] | None = None

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.asked.add(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.warning = Headers(raw=message.get("headers", [])).get(readings.HEADER)
            self.head = message  # held: a head saying "no body" would be the whole answer
            return
        if message["type"] == "http.response.body":
            self.answered.add(message.get("body", b""))
            if message.get("more_body", False):
                # held until the next part comes: else a last part that is empty (a WSGI app's,
                # Flask's behind a2wsgi, always is) leaves the client the whole body before the
                # entry is written
                await self.release()
                self.held = message
                return
            if self.journal is not None:
                # the answer's last part waits for its entry: whoever the client asks next
                # (another worker, a reset) finds the request journaled, and the connection
                # is free for its next request only once the answer is whole
                self.journaled = True
                await self.journal()
        await self.release()
        await self._send(message)

    async def release(self) -> None:
        """Send what is held: the answer's head, then its held part."""
        held, self.head, self.held = (self.head, self.held), None, None
        for message in held:
            if message is not None:
                await self._send(message)


class JournalMiddleware:
    def __init__(self, app: ASGIApp, mock: Mock) -> None:
        self.app, self.mock = app, mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(receive, send)
        clock = watch_clock()
        exchange.journal = lambda: self._journal(scope, exchange, clock)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        finally:
            await exchange.release()  # an answer begun and never finished (the app failed)
            if not exchange.journaled:  # no complete answer (the app failed, the client left)
                await self._journal(scope, exchange, clock)

    async def _journal(self, scope: Scope, exchange: _Exchange, clock: dict[str, datetime]) -> None:
        if not current().journaled():  # no sandbox, no journal: a refusal creates none
            return
        try:
            answer = (exchange.status, exchange.warning)
            asked, answered = exchange.asked.shown(), exchange.answered.shown()
            sandbox, entry = self._entry(scope, asked, answer, answered)
            await self._record(sandbox, entry, clock.get(sandbox))
        except Exception:  # the journal must never break an answer
            log.exception("could not journal %s %s", scope["method"], scope["path"])

    async def _record(self, sandbox: str, entry: dict[str, Any], now: datetime | None) -> None:
        control = self.mock.control
        if not self.mock.store.shared:
            control.record(sandbox, entry, now)
            return
        # written by this process's next batch; shielded: a cancelled request still journals
        await asyncio.shield(asyncio.wrap_future(control.record_soon(sandbox, entry, now)))

    @staticmethod
    def _entry(
        scope: Scope, asked: str, answer: tuple[int, str | None], answered: str
    ) -> tuple[str, dict[str, Any]]:
        """The caller's sandbox and what the journal keeps, as the request context knows them."""
        request = current()
        headers, operation = request.headers, request.operation
        memo = scenarios.memo()  # what a scenario or Prefer forced (web/scenario_middleware.py)
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
