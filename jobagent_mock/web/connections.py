"""The HTTP server's guard against slow and numerous clients, for one worker or several.

A request's headers must be complete within `header_timeout` seconds of the connection or of the
request's first byte, and its body within as many seconds of its headers: a client that stops
half-way (slowloris, or a body trickled a byte at a time) is answered 408 and closed; an
idle keep-alive connection is closed after KEEP_ALIVE_SECONDS; a worker serves at most
`max_connections` connections at once, and uvicorn answers a request beyond them 503. Both are
answered by the server before the app runs, so as text/plain, not problem+json (README: "What
the server answers before the mock").
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from typing import Any

from jobagent_mock.web.environment import ENVIRONMENT, setting
from jobagent_mock.web.uvicorn_protocol import (
    Protocol,
    RequestResponseCycle,
    answer_started,
    answer_transport,
    drop_answer,
    request_scope,
    route_answer,
)

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONNECTIONS = 1000
KEEP_ALIVE_SECONDS = 5  # uvicorn's default, said here as the README says it
HEADERS_LATE = b"The request's headers did not arrive in time."
# a malformed fault's bytes: no status line a client can parse
MALFORMED = b"\x00\xff\xfe jobagent-mock: a malformed answer, as scripted \x01\x02\r\n\r\n"
FAULT_EXTENSION = "jobagent_mock.fault"  # web/scenario_middleware.py reads it from the scope
BODY_LATE = b"The request's body did not arrive in time."


class HeaderTimeoutProtocol(Protocol):
    """uvicorn's httptools protocol with a deadline on each request's headers and another on its
    body (the seconds in JOBAGENT_MOCK_HEADER_TIMEOUT, as `serve` set it: a class uvicorn can
    hand to its own worker processes too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._due: asyncio.TimerHandle | None = None
        configured = os.environ.get(ENVIRONMENT["header_timeout"])
        self.header_timeout = float(configured) if configured else DEFAULT_HEADER_TIMEOUT_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_the_clock()  # a connection that sends nothing is a slow one too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._due is None:  # the next request on a kept-alive connection
            self._start_the_clock()

    def on_headers_complete(self) -> None:
        self._stop_the_clock()
        before = self.request
        super().on_headers_complete()
        if self.request is not None and self.request is not before:  # an upgrade makes none
            self._write_answers_whole(self.request)
            # a scenario's connection fault (web/scenario_middleware.py): this connection gives it
            extensions = request_scope(self.request).setdefault("extensions", {})
            extensions[FAULT_EXTENSION] = self._break
        # the body gets as long again: a trickled body holds a connection and a request as
        # long as trickled headers would (a request without one completes at once)
        self._start_the_clock(BODY_LATE)

    def on_message_complete(self) -> None:
        self._stop_the_clock()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_the_clock()
        super().connection_lost(exc)

    @staticmethod
    def _write_answers_whole(cycle: RequestResponseCycle) -> None:
        """The cycle's answer in one write (_OneWrite), whatever is held sent the moment the
        answer is complete: before the connection serves its next request or closes."""
        whole = _OneWrite(answer_transport(cycle))
        route_answer(cycle, whole, whole.flush)

    def _break(self, fault: str) -> None:
        """WireMock's faults: `reset` a TCP reset, `empty` closed with no answer, `malformed`
        bytes that are no HTTP answer and closed. This request gets no answer; the next (on a
        new connection) is served as any."""
        if self.request is not None:
            drop_answer(self.request)
        if fault == "reset":
            sock = self.connection.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.abort()
            return
        if fault == "malformed":
            self.connection.write(MALFORMED)
        self.connection.close()

    def _start_the_clock(self, late: bytes = HEADERS_LATE) -> None:
        self._due = self.event_loop.call_later(self.header_timeout, self._too_slow, late)

    def _stop_the_clock(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None

    def _too_slow(self, late: bytes) -> None:
        self._due = None
        request = self.request
        if request is not None and isinstance(answer_transport(request), _OneWrite):
            answer_transport(request).flush()  # a head the answer wrote goes before the close
        if self.connection.is_closing():
            return
        if request is not None and answer_started(request):
            self.connection.close()  # the app answered before the body came: nothing to add
            return
        self.connection.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(late), late)
        )
        self.connection.close()


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"  # uvicorn's, sent on its own as the client waits


class _OneWrite:
    """A request's view of its connection: an answer's head and body go out in one write (one
    system call and one packet, where uvicorn writes each on its own), as soon as the body has
    come, the answer is complete, or the head waits past this turn of the event loop."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: list[bytes] = []
        self._first = True

    def write(self, data: bytes) -> None:
        if self._first and data != CONTINUE:  # the head: what follows at once goes with it
            self._first = False
            self._held.append(data)
            asyncio.get_running_loop().call_soon(self.flush)
        elif self._held:
            self._held.append(data)
            self.flush()
        else:
            self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            data, self._held = b"".join(self._held), []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()


def options_from_environment() -> dict[str, Any]:
    """uvicorn's settings for these limits, as `serve` set them in the JOBAGENT_MOCK_* variables
    (uvicorn.run and uvicorn.Config take them alike), and its own access line off."""
    connections = os.environ.get(ENVIRONMENT["max_connections"])
    return {
        # serve runs uvicorn at log level warning, where its access line (info) is never
        # written, yet uvicorn formats its arguments (the path quoted) on every answer; the
        # mock's own access log is web/access_log.py
        "access_log": False,
        "http": HeaderTimeoutProtocol,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # uvicorn refuses a request once its connections reach the limit, its own included
        "limit_concurrency": (int(connections) if connections else DEFAULT_MAX_CONNECTIONS) + 1,
        # a proxy answers the upstream's Date and Server, not uvicorn's beside them
        **({"server_header": False, "date_header": False} if setting("upstream") else {}),
    }
