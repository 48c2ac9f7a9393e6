"""ASGI middleware for the shape of a request, before routing: a line break in the path is 400
(1014), a body over the configured size 413 (1014), and a chunked body gets its length."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.errors import FAILED_TO_VALIDATE, InvalidInput, TooLarge

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class InputLimitsMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\n" in scope["path"]:
            # starlette's and werkzeug's routers disagree on where `$` matches around a line
            # break, so such a path would reach no validation; no contract value contains one
            raise InvalidInput(FAILED_TO_VALIDATE, "The path contains a line break.")
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                raise self._too_large()
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        # connexion takes a body without Content-Length for no body: read it, and say its length
        body = await self._read_bounded(receive)
        scope = dict(scope)
        length = [(b"content-length", str(len(body)).encode())]
        scope["headers"] = [h for h in scope["headers"] if h[0] != b"transfer-encoding"] + length
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read_bounded(self, receive: Receive) -> bytes:
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if len(body) > self.limit:
                raise self._too_large()
            if not message.get("more_body", False):
                return bytes(body)

    def _too_large(self) -> TooLarge:
        return TooLarge(FAILED_TO_VALIDATE, f"The body is larger than {self.limit} bytes.")
