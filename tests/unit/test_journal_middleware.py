"""The journal middleware holds an answer until its entry is written: the client cannot have the
whole body (its Content-Length says when it has) before, whichever way the app sends it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message

from jobagent_mock.web.journal_middleware import JournalMiddleware

BODY = b'{"jobagenter": []}'
HEAD = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"18")]}


async def _whole(_scope: Any, _receive: Any, send: Any) -> None:
    """As the fast lane (starlette) sends an answer: the body in one last part."""
    await send(HEAD)
    await send({"type": "http.response.body", "body": BODY})


async def _wsgi(_scope: Any, _receive: Any, send: Any) -> None:
    """As a2wsgi sends a Flask answer: the body in parts, then an empty last part."""
    await send(HEAD)
    await send({"type": "http.response.body", "body": BODY[:5], "more_body": True})
    await send({"type": "http.response.body", "body": BODY[5:], "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize("sending", [_whole, _wsgi], ids=["one part", "WSGI parts"])
def test_an_answer_is_not_whole_at_the_client_before_its_entry_is_written(
    sending: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def exchange() -> tuple[list[Message], list[Message]]:
        sent: list[Message] = []
        writing, written = asyncio.Event(), asyncio.Event()

        async def journal(*_: Any) -> None:  # the entry's write, held until the test says
            writing.set()
            await written.wait()

        async def send(message: Message) -> None:
            sent.append(message)

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        middleware = JournalMiddleware(sending, mock=None)  # type: ignore[arg-type]
        monkeypatch.setattr(middleware, "_journal", journal)
        scope = {"type": "http", "path": "/v1/Jobagent", "method": "GET"}
        answering = asyncio.create_task(middleware(scope, receive, send))
        await writing.wait()
        before = list(sent)
        written.set()
        await answering
        return before, sent

    before, after = asyncio.run(exchange())
    assert len(_body(before)) < len(BODY)  # a client reading to its Content-Length still waits
    assert after[0] == HEAD and _body(after) == BODY
    assert not after[-1].get("more_body", False)  # and the answer ends after the whole body


def _body(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
