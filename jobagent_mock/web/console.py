"""Serves the console's flavour of the business contract (console.py) to Swagger UI at /ui/, and
the contract itself at /openapi.yaml, byte for byte as published."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobagent_mock import catalogue, console, spec
from jobagent_mock.errors import Fejl
from jobagent_mock.service import Mock
from jobagent_mock.web.context import sandbox_key

PATH = "/ui/console.json"
PUBLISHED = "/openapi.yaml"
# what Swagger UI's page loads (relative to /ui/) in place of /openapi.json
SPEC_URL = "console.json"


class ConsoleMiddleware:
    """GET /ui/console.json[?client=ID][&sandbox=NAME]: the contract as the console shows it,
    its examples moved to that sandbox's clock (by default the sandbox of the first client that
    may call every operation)."""

    def __init__(self, app: ASGIApp, mock: Mock) -> None:
        self.app, self.mock = app, mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if scope["path"] == PUBLISHED:  # connexion would dump it again, keys sorted
            published = Response(spec.source(spec.BUSINESS), media_type="text/yaml")
            await published(scope, receive, send)
            return
        if scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.mock.store.shared:  # a shared store can wait: never in the event loop
            document = await asyncio.to_thread(self._document, request)
        else:
            document = self._document(request)
        body = json.dumps(document, ensure_ascii=False, default=str)
        await Response(body, media_type="application/json")(scope, receive, send)

    def _document(self, request: Request) -> dict[str, Any]:
        sandbox = self._sandbox(request.query_params.get("client"), request.query_params)
        base_url = str(request.base_url).rstrip("/")
        return console.flavoured(
            base_url,
            self.mock.today(sandbox),
            lambda option: self.mock.open_slots(sandbox, option),
        )

    def _sandbox(self, client: str | None, query: Any) -> str:
        known = {c["client_id"] for c in self.mock.fixtures.clients}
        if client not in known:
            booking = spec.operation("TilmeldOgBook")
            assert booking is not None
            client = catalogue.default_client(booking, self.mock.fixtures)
        try:
            return sandbox_key(client, query.get("sandbox"))
        except Fejl:  # a malformed sandbox name: the client's own sandbox
            return sandbox_key(client, None)
