"""uvicorn's private parts that web/uvicorn_protocol.py reaches into are there, and mean what
it takes them to mean: a uvicorn upgrade that changes them fails here, before a partner meets a
connection without its deadlines."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from jobagent_mock.web import uvicorn_protocol
from jobagent_mock.web.connections import FAULT_EXTENSION, HeaderTimeoutProtocol


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(name)

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def set_protocol(self, protocol: Any) -> None: ...


def test_the_installed_uvicorn_is_the_one_the_adapter_was_read_from() -> None:
    """Any other version: read its httptools protocol again for the parts the adapter names,
    run tests/integration/test_slow_clients.py, then raise WRITTEN_FOR and the pin."""
    assert version("uvicorn") == uvicorn_protocol.WRITTEN_FOR


def test_the_parser_callbacks_the_protocol_overrides_are_uvicorns() -> None:
    for name in uvicorn_protocol.PARSER_CALLBACKS:
        assert callable(getattr(HttpToolsProtocol, name, None)), name
        assert name in vars(HeaderTimeoutProtocol) or name == "on_message_complete", name


def test_a_request_through_uvicorns_protocol_has_the_cycle_the_adapter_reads() -> None:
    """Headers make a cycle (`request`); its answer goes through the transport the adapter
    gives it, and the completion it adds runs once the answer is complete."""
    answered: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})
        answered.append(scope["path"])

    async def serve() -> tuple[_Transport, list[bool]]:
        config = uvicorn.Config(app, http=HeaderTimeoutProtocol, log_level="warning")
        config.load()
        protocol = HeaderTimeoutProtocol(config=config, server_state=ServerState(), app_state={})
        transport = _Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        assert protocol.event_loop is asyncio.get_running_loop()
        assert protocol.connection is transport and protocol.request is None
        protocol.data_received(b"GET /probe HTTP/1.1\r\nHost: x\r\n\r\n")
        cycle = protocol.request
        assert cycle is not None and not uvicorn_protocol.answer_started(cycle)
        scope = uvicorn_protocol.request_scope(cycle)
        assert scope["path"] == "/probe" and FAULT_EXTENSION in scope["extensions"]
        assert cycle.disconnected is False  # what drop_answer sets
        seen: list[bool] = []
        held = uvicorn_protocol.answer_transport(cycle)  # the one-write wrapper, already
        uvicorn_protocol.route_answer(cycle, held, lambda: seen.append(bool(transport.writes)))
        for _ in range(20):  # the app runs as a task of the loop
            await asyncio.sleep(0)
        assert uvicorn_protocol.answer_started(cycle)
        protocol.connection_lost(None)
        return transport, seen

    transport, seen = asyncio.run(serve())
    assert answered == ["/probe"]
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert transport.writes[0].endswith(b"\r\n\r\nok")
    assert seen == [True]  # called once, at completion: head and body had left, together
