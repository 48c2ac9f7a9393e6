"""Serves the console's flavour of the business contract (contract/console_contract.py) to
Swagger UI at /ui/, and the contract itself at /openapi.yaml, byte for byte as published, and at
/openapi.json, the same tree as JSON ($refs and servers kept); OAuth2 discovery at the root is
token.yaml's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobagent_mock.contract import catalogue, console_contract
from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import Fejl
from jobagent_mock.service import Mock
from jobagent_mock.web.context import sandbox_key

PATH = "/ui/console.json"
# the console's page: Swagger UI's own, with a request interceptor (PAGE)
PAGES = ("/ui/", "/ui/index.html")
PUBLISHED = "/openapi.yaml"
# connexion would serve its own dereferenced copy here, which generators make hundreds of
# duplicate models from
PUBLISHED_JSON = "/openapi.json"
# where OAuth2 clients look for discovery (issuer + /.well-known/…): token.yaml's document
DISCOVERY = "/connect/.well-known/openid-configuration"
DISCOVERY_ALIASES = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
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
        if scope["path"] in DISCOVERY_ALIASES:
            moved = {**scope, "path": DISCOVERY, "raw_path": DISCOVERY.encode()}
            await self.app(moved, receive, send)
            return
        if scope["path"] == PUBLISHED:  # connexion would dump it again, keys sorted
            published = Response(spec.source(spec.BUSINESS), media_type="text/yaml")
            await published(scope, receive, send)
            return
        if scope["path"] == PUBLISHED_JSON:
            body = json.dumps(spec.raw(spec.BUSINESS), ensure_ascii=False, indent=2)
            await Response(body, media_type="application/json")(scope, receive, send)
            return
        if scope["path"] in PAGES:
            personas = [p["cpr"] for p in self.mock.fixtures.personas]
            await Response(page(personas), media_type="text/html")(scope, receive, send)
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
        return console_contract.flavoured(
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


def page(personas: list[str]) -> str:
    """Swagger UI's page, loading the console's contract, with the interceptor that makes each
    Execute a fresh attempt (console_contract.fresh_values says which example values it renews;
    a fresh citizen is none of the `personas`)."""
    fresh = {**console_contract.fresh_values(), "personas": personas}
    return PAGE.replace("FRESH_VALUES", json.dumps(fresh))


# Swagger UI's index.j2 (connexion's bundle) with a requestInterceptor: every write gets a new
# x-requestId (a repeat is 412 for 7 days, in a sandbox everyone sharing the client uses), and
# an example value left unchanged whose second use would conflict with the first (a
# client-chosen jobagentIdentifier, the citizen of an enrollment, its booked slot) a fresh one.
# Not crypto.randomUUID: a console opened over plain HTTP on a host name has no secure context.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>jobagent-mock console</title>
<link rel="stylesheet" type="text/css" href="./swagger-ui.css">
<link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
<style>html{box-sizing:border-box;overflow-y:scroll}*,*:before,*:after{box-sizing:inherit}
body{margin:0;background:#fafafa}</style></head>
<body><div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script>
const FRESH = FRESH_VALUES;
function randomDigits(n) {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, b => String(b % 10)).join("");
}
function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
}
function freshCitizen() {
  // born 1970-1999 (the 7th digit 0-3 says 19xx), not one of the personas
  for (;;) {
    const day = 1 + Math.floor(Math.random() * 28), month = 1 + Math.floor(Math.random() * 12);
    const year = 70 + Math.floor(Math.random() * 30);
    const cpr = [day, month, year].map(n => String(n).padStart(2, "0")).join("")
      + String(Math.floor(Math.random() * 4)) + randomDigits(3);
    if (!FRESH.personas.includes(cpr)) return cpr;
  }
}
function headerName(headers, wanted) {
  return Object.keys(headers).find(k => k.toLowerCase() === wanted.toLowerCase());
}
async function freeSlot(request, option) {
  const headers = {Accept: "application/json"};
  for (const name of ["Authorization", "x-mock-sandbox"]) {
    const key = headerName(request.headers, name);
    if (key && request.headers[key]) headers[name] = request.headers[key];
  }
  const url = new URL(request.url, window.location.href).origin
    + "/__admin/slots?moedetilbudId=" + encodeURIComponent(option);
  const answer = await fetch(url, {headers});
  const slots = answer.ok ? (await answer.json()).slots : [];
  return slots.length ? slots[0].start : null;
}
async function freshAttempt(request) {
  const path = new URL(request.url, window.location.href).pathname;
  if (!path.startsWith("/v1/")) return request;
  const requestIdKey = headerName(request.headers, "x-requestId");
  if (request.method === "GET") {
    // a read that claims an x-requestId (GetJobagent's optional one) gets a fresh one too
    if (requestIdKey) request.headers[requestIdKey] = uuid4();
    return request;
  }
  request.headers[requestIdKey || "x-requestId"] = uuid4();
  const enrolls = path.startsWith("/v1/Tilmelding");
  const cprKey = headerName(request.headers, "x-civilRegistrationIdentifier");
  const newCitizen = enrolls && cprKey && request.headers[cprKey] === FRESH.cpr;
  if (newCitizen) request.headers[cprKey] = freshCitizen();
  let body;
  try { body = JSON.parse(request.body); } catch (e) { return request; }
  if (!body || typeof body !== "object") return request;
  const key = wanted => Object.keys(body).find(k => k.toLowerCase() === wanted);
  const agentKey = key("jobagentidentifier");
  if (request.method === "POST" && agentKey && body[agentKey] === FRESH.jobagentIdentifier) {
    body[agentKey] = uuid4();
  }
  const option = key("moedetilbudid"), time = key("bookingstarttime");
  if (newCitizen && option && time) {
    body[time] = (await freeSlot(request, body[option])) || body[time];
  }
  request.body = JSON.stringify(body);
  return request;
}
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "console.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    requestInterceptor: freshAttempt,
  });
};
</script>
</body>
</html>
"""
