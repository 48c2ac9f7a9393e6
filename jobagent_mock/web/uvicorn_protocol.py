"""The one place the mock reaches into uvicorn's private parts (its httptools protocol and a
request's cycle), as of the uvicorn version named here and pinned in pyproject.toml."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

# the version these parts were read from: tests/unit/test_uvicorn_protocol.py fails on any
# other until it is read again (the parts below, and tests/integration/test_slow_clients.py)
WRITTEN_FOR = "0.54.0"

# what web/connections.py relies on, each checked by that test:
# - HttpToolsProtocol's parser callbacks, overridden and called on: connection_made,
#   on_message_begin, on_headers_complete, on_message_complete, connection_lost
# - its attributes: loop, transport, cycle (the request under way, made by on_headers_complete)
# - a cycle's transport (every write of its answer goes through it), on_response (called once
#   the answer is complete), response_started, scope (the request's ASGI scope, the same dict
#   the app gets) and disconnected (set: uvicorn sends nothing more for it)
PARSER_CALLBACKS = (
    "connection_made",
    "on_message_begin",
    "on_headers_complete",
    "on_message_complete",
    "connection_lost",
)


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, its private state reached only through these names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    @property
    def event_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop

    @property
    def connection(self) -> asyncio.Transport:
        return self.transport

    @property
    def request(self) -> RequestResponseCycle | None:
        """The request under way (its cycle), if any."""
        return self.cycle


def answer_started(cycle: RequestResponseCycle) -> bool:
    return bool(cycle.response_started)


def answer_transport(cycle: RequestResponseCycle) -> Any:
    return cycle.transport


def route_answer(
    cycle: RequestResponseCycle, transport: Any, completed: Callable[[], None]
) -> None:
    """Send the cycle's answer through `transport`, and call `completed` (before uvicorn's own
    completion) once the answer is complete."""
    cycle.transport = transport
    complete = cycle.on_response

    def on_response() -> None:
        completed()
        complete()

    cycle.on_response = on_response


def request_scope(cycle: RequestResponseCycle) -> dict[str, Any]:
    """The request's ASGI scope, the dict the app will be given."""
    scope: dict[str, Any] = cycle.scope  # type: ignore[assignment]
    return scope


def drop_answer(cycle: RequestResponseCycle) -> None:
    """uvicorn sends nothing more for this request, not even a 500 (the connection is broken on
    purpose: a scenario's fault)."""
    cycle.disconnected = True
