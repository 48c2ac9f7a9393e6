"""ASGI middleware: a line a request (method, path with CPRs masked, status, fejlkode, ms)."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.journal.entries import redacted_target

PROBLEM = b"application/problem+json"
KEPT_PROBLEM_BYTES = 16 * 1024  # a Problem body is far smaller; a bigger one is not read for it


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream  # None: sys.stdout as it is when a line is written

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, problem = 500, None  # what a request that raised past every handler got

        async def send_(message: Message) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                problem = bytearray() if content_type.startswith(PROBLEM) else None
            elif message["type"] == "http.response.body" and problem is not None:
                problem.extend(message.get("body", b"")[: KEPT_PROBLEM_BYTES - len(problem)])
            await send(message)

        try:
            await self.app(scope, receive, send_)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self._write(scope, status, _fejlkode(problem), elapsed)

    def _write(self, scope: Scope, status: int, fejlkode: str, elapsed_ms: float) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        path = redacted_target(scope["path"], query)
        stream = self.stream or sys.stdout
        # one write a line, flushed: lines of several workers on one pipe never interleave
        stream.write(f"{scope['method']} {path} {status} {fejlkode} {elapsed_ms:.1f}ms\n")
        stream.flush()


def _fejlkode(problem: bytearray | None) -> str:
    """The answer's fejlkode, or - when it has none."""
    if not problem:
        return "-"
    try:
        found = json.loads(problem).get("fejlkode")
    except (ValueError, AttributeError):
        return "-"
    return str(found) if isinstance(found, int) else "-"
