"""ASGI middleware: a business answer names the readings its request relied on (x-mock-warning)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.foundations import readings

BUSINESS_PREFIX = "/v1/"
# methods none of whose operations take a body in the contract
BODILESS = ("GET", "HEAD", "DELETE")


class ReadingsMiddleware:
    """Collects what the binder and the rules note (foundations/readings.py), sent as one header.

    It sits inside the journal, which keeps the header, and outside the fast lane, so both the
    lane's answers and the full stack's carry it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        noted = readings.collect()
        if scope["method"] in BODILESS and _has_body(scope):
            # ignored as ASP.NET ignores it, and said: the seed puts a body on GetJobagent
            # (`jobagentidentifier`, line 26), which the contract reads from the path
            readings.note(f"the body of this {scope['method']} ignored (the operation reads none)")

        async def send_(message: Message) -> None:
            if message["type"] == "http.response.start" and noted:
                value = readings.header_value(noted).encode("latin-1")
                headers = [*message.get("headers", []), (readings.HEADER.encode(), value)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        # a Content-Length other than 0 (which, stripped of zeros and spaces, leaves a digit)
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip(b" 0")):
            return True
    return False
