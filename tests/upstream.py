"""A stand-in for STAR's test environment, for the proxy's tests: a small ASGI app on a free
loopback port that answers what the test scripted and keeps what it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.live import live_server


@dataclass
class Seen:
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class Upstream:
    """Answers each request with `answer` (status, raw headers, body chunks), or with nothing for
    `delay` seconds first; `seen` keeps every request as it arrived."""

    answer: tuple[int, list[tuple[bytes, bytes]], list[bytes]] = (200, [], [b""])
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def answers(self, status: int, body: bytes | list[bytes] = b"", **headers: str) -> None:
        chunks = body if isinstance(body, list) else [body]
        raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
        self.answer = (status, raw, chunks)

    def header(self, name: str) -> str | None:
        """The last request's header, as it arrived."""
        found = [v for n, v in self.seen[-1].headers if n.decode().lower() == name.lower()]
        return found[0].decode() if found else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.seen.append(
            Seen(
                scope["method"], scope["path"], scope["query_string"], scope["headers"], bytes(body)
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers, chunks = self.answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})


@contextmanager
def upstream_server() -> Iterator[Upstream]:
    upstream = Upstream()
    with live_server(upstream) as url:
        upstream.url = url
        yield upstream
