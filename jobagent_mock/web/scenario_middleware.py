"""A scenario's step as HTTP, outside both the fast lane and connexion's stack (so both give the
same bytes): the scripted answer, the wait, or the fault at the connection (web/connections.py).

The engine decides the step (service.Mock, scenarios.decide) and raises Scripted when the step
answers in the operation's place; a step that lets the operation answer leaves it in the
request's memo, and the answer waits (`latencyMs`) or is dribbled (`slow`) here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.foundations import spec
from jobagent_mock.rules import scenarios
from jobagent_mock.rules.scenarios import Scripted
from jobagent_mock.web.connections import FAULT_EXTENSION
from jobagent_mock.web.context import current
from jobagent_mock.web.journal_middleware import BUSINESS_PREFIX
from jobagent_mock.web.prefer import forced_answer, send_forced

DRIBBLES = 10  # a slow answer's body in at most this many pieces


class ScenarioMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        memo = scenarios.watch()
        breaker = scope.get("extensions", {}).get(FAULT_EXTENSION)

        async def paced(message: Message) -> None:
            # a step that let the operation answer: the answer waits, or is dribbled
            if memo.step and message["type"] == "http.response.start" and memo.latency_ms():
                await asyncio.sleep(memo.latency_ms() / 1000)
            slow = memo.slow_ms() if memo.step else None
            if slow is not None and message["type"] == "http.response.body":
                await dribble(send, message, slow)
                return
            await send(message)

        try:
            await self.app(scope, receive, paced)
        except Scripted as scripted:
            await _scripted(scripted.step, memo, breaker, paced)


async def _scripted(step: dict[str, Any], memo: scenarios.Memo, breaker: Any, send: Send) -> None:
    """A step that answers in the operation's place: a fault, or a documented answer."""
    memo.forced = True
    fault = step.get("fault")
    if fault in scenarios.BREAKING:
        memo.fault = fault
        if breaker is not None:
            breaker(fault)
        return  # served in-process (no connection to break): no answer at all
    request = current()  # `send` (paced) waits the step's latencyMs, or dribbles a slow one
    assert request.operation is not None
    await send_forced(send, _answer(request.operation, step), _request_id(request))


def _answer(
    operation: spec.Operation, step: dict[str, Any]
) -> tuple[int, str | None, Any, dict[str, str]]:
    """The documented answer a step names (scenarios.created checked that it is documented)."""
    named = {"fejlkode": "fejlkode", "status": "code"}  # as Prefer names them
    wishes: dict[str, str] = {named[k]: str(step[k]) for k in named if k in step}
    forced = forced_answer(operation, wishes)
    assert forced is not None
    return forced


def _request_id(request: Any) -> str | None:
    value = request.headers.get("x-requestId")
    return str(value) if value is not None else None


async def dribble(send: Send, message: Message, over_ms: int) -> None:
    """An answer's body in pieces spread over `over_ms` (a slow fault)."""
    body = message.get("body", b"")
    pieces = max(1, min(DRIBBLES, len(body)))
    size = -(-len(body) // pieces) if body else 0
    for n in range(pieces):
        await asyncio.sleep(over_ms / 1000 / pieces)
        last = n == pieces - 1
        chunk = body[n * size :] if last else body[n * size : (n + 1) * size]
        more = message.get("more_body", False) if last else True
        await send({"type": "http.response.body", "body": chunk, "more_body": more})
