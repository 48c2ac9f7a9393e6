"""An answer's head and body leave in one write; a head with no body after it still leaves in
the same turn of the event loop, and before the connection closes."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from jobagent_mock.web.connections import CONTINUE, HeaderTimeoutProtocol, _OneWrite


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_head_and_body_go_out_in_one_write_and_the_rest_as_it_comes() -> None:
    async def answer() -> list[bytes]:
        transport = _Transport()
        connection = _OneWrite(transport)  # type: ignore[arg-type]
        connection.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        assert transport.writes == []  # held for its body
        connection.write(b"ab")
        connection.write(b"cd")
        await asyncio.sleep(0)
        return transport.writes

    assert asyncio.run(answer()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab", b"cd"]


def test_a_head_alone_leaves_in_the_same_turn() -> None:
    async def answer() -> list[bytes]:
        transport = _Transport()
        _OneWrite(transport).write(b"HTTP/1.1 204 No Content\r\n\r\n")  # type: ignore[arg-type]
        await asyncio.sleep(0)
        return transport.writes

    assert asyncio.run(answer()) == [b"HTTP/1.1 204 No Content\r\n\r\n"]


def test_a_100_continue_leaves_at_once() -> None:
    transport = _Transport()
    _OneWrite(transport).write(CONTINUE)  # type: ignore[arg-type]
    assert transport.writes == [CONTINUE]  # the client waits for it before it sends the body


def test_a_complete_answer_is_sent_before_the_connection_moves_on() -> None:
    # a HEAD's answer has no body: its head must be out before uvicorn reads the next pipelined
    # request (whose refusal would close the connection) or closes an idle one
    async def answer() -> list[bytes]:
        transport, seen_at_completion = _Transport(), []
        cycle = SimpleNamespace(
            transport=transport, on_response=lambda: seen_at_completion.extend(transport.writes)
        )
        HeaderTimeoutProtocol._write_answers_whole(cycle)  # type: ignore[arg-type]
        cycle.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\n")
        cycle.on_response()  # in the same turn: nothing has flushed the head yet
        return seen_at_completion

    assert asyncio.run(answer()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\n"]


def test_closing_sends_what_is_held_first() -> None:
    async def answer() -> _Transport:
        transport = _Transport()
        connection = _OneWrite(transport)  # type: ignore[arg-type]
        connection.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
        connection.close()
        await asyncio.sleep(0)
        return transport

    transport = asyncio.run(answer())
    assert transport.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"]
    assert transport.closed
