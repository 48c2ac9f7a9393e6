"""The access log's lines: written whole by the end of the event loop's turn that answered them,
in one write with the lines of the requests answered beside them, never more at once than a
pipe keeps whole."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Receive, Scope, Send

from jobagent_mock.web.access_log import WRITTEN_AT_ONCE, AccessLogMiddleware


class Stream:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushed = 0

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        self.flushed = len(self.writes)


async def answer(_scope: Scope, _receive: Receive, send: Send) -> None:
    await asyncio.sleep(0)  # the others begin meanwhile
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}


async def request(log: AccessLogMiddleware, path: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        pass

    await log(scope(path), receive, send)


def test_a_request_alone_has_its_line_written_and_flushed_when_its_turn_ends() -> None:
    stream = Stream()
    log = AccessLogMiddleware(answer, stream=stream)  # type: ignore[arg-type]

    async def one() -> None:
        await request(log, "/v1/Jobagent/1507851234")
        await asyncio.sleep(0)  # the loop's next turn
        assert stream.flushed == len(stream.writes) == 1

    asyncio.run(one())
    assert stream.writes[0].startswith("GET /v1/Jobagent/150785-xxxx 200 - ")


def test_requests_answered_side_by_side_share_writes_and_lose_no_line() -> None:
    stream = Stream()
    log = AccessLogMiddleware(answer, stream=stream)  # type: ignore[arg-type]
    paths = [f"/v1/Jobagent/{'a' * 200}{n}" for n in range(100)]

    async def many() -> None:
        await asyncio.gather(*(request(log, path) for path in paths))
        await asyncio.sleep(0)  # the loop's turn ends: what waited is written

    asyncio.run(many())
    lines = "".join(stream.writes).splitlines()
    assert sorted(line.split()[1] for line in lines) == sorted(paths)
    assert stream.flushed == len(stream.writes) < len(paths)
    assert all(w.endswith("ms\n") and len(w.encode()) <= WRITTEN_AT_ONCE for w in stream.writes)
