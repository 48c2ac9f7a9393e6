"""ASGI middleware: a business answer names the readings its request relied on (x-mock-warning)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock import readings

BUSINESS_PREFIX = "/v1/"


class ReadingsMiddleware:
    """Collects what the binder and the rules note (readings.py) and sends it as one header.

    It sits inside the journal, which keeps the header, and outside the fast lane, so both the
    lane's answers and the full stack's carry it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        noted = readings.collect()

        async def send_(message: Message) -> None:
            if message["type"] == "http.response.start" and noted:
                value = readings.header_value(noted).encode("latin-1")
                headers = [*message.get("headers", []), (readings.HEADER.encode(), value)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_)
