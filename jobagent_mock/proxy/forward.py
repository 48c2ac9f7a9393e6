"""The proxy's ASGI middleware: every business request (the contract's /v1 paths) goes to the
upstream as the client sent it, and the upstream's answer comes back as it was sent; both are
checked against the contract on the way (proxy/checks.py) and the departures reported."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
from connexion.lifecycle import ConnexionRequest
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import Fejl, UpstreamFailed, UpstreamTimedOut
from jobagent_mock.journal.drift import Departure, Upstream, distinct, seen_at
from jobagent_mock.proxy import checks
from jobagent_mock.proxy.record import Exchange, Recorder
from jobagent_mock.service import Mock
from jobagent_mock.web import context, problems
from jobagent_mock.web.environment import setting, switched_on
from jobagent_mock.web.limits import read_body

log = logging.getLogger(__name__)
BUSINESS_PREFIX = "/v1/"
DRIFT_HEADER = "x-mock-drift"
FIRST_DRIFT_HEADER = "x-mock-drift-first"
# RFC 9110 §7.6.1: meant for one connection, never forwarded (and those Connection names);
# Host is the upstream's own, and the proxy sends a body's length as it forwards it
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
# an answer up to this size is read whole, checked, and sent with its x-mock-drift header; a
# larger one is streamed on as it comes, its body unchecked
CHECKED_BYTES = 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 30.0
# a connection's pool, per process; keep-alive to the upstream
POOL = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def client_for(upstream: Upstream) -> httpx.AsyncClient:
    """The proxy's client: certificates verified (against --upstream-ca when given), no
    redirect followed, no header of its own added (requests are sent as built, not merged)."""
    verify: ssl.SSLContext | bool = True
    if upstream.ca_file:
        verify = ssl.create_default_context(cafile=str(upstream.ca_file))
    return httpx.AsyncClient(
        verify=verify,
        timeout=httpx.Timeout(upstream.timeout),
        limits=POOL,
        follow_redirects=False,
        trust_env=False,
    )


@dataclass(frozen=True)
class ProxySettings:
    """`serve --upstream URL` and its options."""

    upstream: Upstream
    record: Path | None = None
    record_keep_cpr: bool = False

    @classmethod
    def from_environment(cls) -> ProxySettings | None:
        """The settings `serve` put in the JOBAGENT_MOCK_* variables, or None: no proxy."""
        url = setting("upstream")
        if not url:
            return None
        ca_file, record = setting("upstream_ca"), setting("record")
        return cls(
            Upstream(
                url,
                float(setting("upstream_timeout") or DEFAULT_TIMEOUT_SECONDS),
                Path(ca_file) if ca_file else None,
            ),
            Path(record) if record else None,
            switched_on("record_keep_cpr", False),
        )


class ProxyMiddleware:
    """Inside the journal (which keeps each exchange and its departures), outside everything
    that would answer a business request itself; the control plane, the console and the token
    endpoint stay the mock's."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        mock: Mock,
        settings: ProxySettings,
        max_body_bytes: int,
    ) -> None:
        self.app, self.mock, self.upstream = app, mock, settings.upstream
        self.limit = max_body_bytes
        record = settings.record
        self.recorder = Recorder(record, settings.record_keep_cpr) if record else None
        self._client: httpx.AsyncClient | None = None  # made in the serving loop, once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing_on_shutdown(receive), send)
            return
        if scope["type"] != "http" or not scope["path"].startswith(BUSINESS_PREFIX):
            await self.app(scope, receive, send)
            return
        request = context.current()
        operation = spec.operation_for(scope["method"], scope["path"])
        request.operation = operation  # for the journal and the access log
        try:
            raw = await read_body(receive, self.limit)
            if raw is None:
                return  # the client went away
            await self._exchange(scope, raw, operation, send)
        except Fejl as refused:  # too large a body, or the upstream failed: a Problem, as sent
            answer = problems.on_fejl(ConnexionRequest(scope, receive), refused)
            response = Response(answer.body, answer.status_code, answer.headers, answer.mimetype)
            await response(scope, receive, send)

    async def _exchange(
        self, scope: Scope, raw: bytes, operation: spec.Operation | None, send: Send
    ) -> None:
        hop_by_hop = NOT_FORWARDED | _connection_names(scope["headers"])
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in hop_by_hop
        ]
        as_text = {n.decode("latin-1").lower(): v.decode("latin-1") for n, v in headers}
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        refused = (
            checks.refusals(operation, scope["path"], Headers(raw=headers), query, raw)
            if operation
            else []
        )
        target = self.upstream.url.rstrip("/") + scope.get(
            "raw_path", scope["path"].encode()
        ).decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        # no body sent, none forwarded: httpx would add a Content-Length: 0 the client never sent
        sent_one = raw or any(name.lower() == b"content-length" for name, _ in scope["headers"])
        content = raw if sent_one else None
        outgoing = httpx.Request(scope["method"], target, headers=headers, content=content)
        response = await self._send(outgoing, self._client_now())
        try:
            await self._answer(scope, raw, as_text, operation, refused, response, send)
        finally:
            await response.aclose()

    def _closing_on_shutdown(self, receive: Receive) -> Receive:
        """The server's lifespan messages; at shutdown the client's connections are closed."""

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self._client is not None:
                client, self._client = self._client, None
                await client.aclose()
            return message

        return receiving

    def _client_now(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = client_for(self.upstream)
        return self._client

    async def _send(self, outgoing: httpx.Request, client: httpx.AsyncClient) -> httpx.Response:
        with self._upstream_failures():
            response = await client.send(outgoing, stream=True)
        self.upstream.answered()
        return response

    @contextlib.contextmanager
    def _upstream_failures(self) -> Iterator[None]:
        """What the client raises, as the Problem it answers: 504 for a timeout, 502 else."""
        try:
            yield
        except httpx.TimeoutException as exc:
            self.upstream.failed(f"timed out ({type(exc).__name__})")
            raise UpstreamTimedOut(
                None,
                f"The upstream {self.upstream.shown} did not answer within "
                f"{self.upstream.timeout:g} s (--upstream-timeout).",
            ) from exc
        except httpx.HTTPError as exc:
            self.upstream.failed(f"unreachable ({type(exc).__name__})")
            raise UpstreamFailed(
                None,
                f"The upstream {self.upstream.shown} cannot be reached or broke off its answer: "
                f"{type(exc).__name__}.",
            ) from exc

    async def _answer(
        self,
        scope: Scope,
        raw: bytes,
        request_headers: dict[str, str],
        operation: spec.Operation | None,
        refused: list[checks.Refusal],
        response: httpx.Response,
        send: Send,
    ) -> None:
        hop_by_hop = HOP_BY_HOP | _connection_names(response.headers.raw)
        head = [
            (name, value)
            for name, value in response.headers.raw
            if name.decode("latin-1").lower() not in hop_by_hop
        ]
        chunks = response.aiter_raw()
        with self._upstream_failures():
            kept, whole = await _read_up_to(chunks, CHECKED_BYTES)
        answer = checks.Answer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            _decoded(kept, response.headers.get("content-encoding")) if whole else None,
        )
        departures = self._departures(scope, operation, refused, answer)
        if departures:
            head.append((DRIFT_HEADER.encode(), str(len(departures)).encode()))
            head.append((FIRST_DRIFT_HEADER.encode(), departures[0].short().encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": head})
        if not whole:
            await send({"type": "http.response.body", "body": kept, "more_body": True})
            kept = b""
            async for chunk in chunks:  # should the upstream break off, so does the answer
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        # counted and recorded before the answer completes: a client that reads the report
        # after its answer finds the exchange there (as the journal's entries are)
        context.current().drift = [d.as_dict() for d in departures]
        if departures:
            await self._count(departures)
        if self.recorder is not None:
            self._record(scope, raw, request_headers, operation, answer, departures)
        await send({"type": "http.response.body", "body": kept, "more_body": False})

    def _departures(
        self,
        scope: Scope,
        operation: spec.Operation | None,
        refused: list[checks.Refusal],
        answer: checks.Answer,
    ) -> list[Departure]:
        name = checks.label(scope["method"], scope["path"], operation)
        if operation is None:
            detail = "the contract has no such operation; the request was forwarded as sent"
            return [Departure.of(name, "request", "undocumented-operation", detail)]
        fejlkode = checks.problem_fejlkode(answer)
        found = checks.request_departures(name, refused, answer, fejlkode)
        return distinct(found + checks.answer_departures(operation, answer))

    async def _count(self, departures: list[Departure]) -> None:
        at = seen_at()
        store = self.mock.store
        try:
            if store.shared:
                await asyncio.to_thread(store.count_drift, [(d, at) for d in departures])
            else:
                store.count_drift([(d, at) for d in departures])
        except Exception:  # the report must never break an answer already sent
            log.exception("could not count %d departures", len(departures))

    def _record(
        self,
        scope: Scope,
        raw: bytes,
        request_headers: dict[str, str],
        operation: spec.Operation | None,
        answer: checks.Answer,
        departures: list[Departure],
    ) -> None:
        assert self.recorder is not None
        exchange = Exchange(
            checks.label(scope["method"], scope["path"], operation),
            scope["method"],
            scope["path"],
            request_headers,
            raw,
            answer.status,
            dict(answer.headers),
            answer.body,
            tuple(departures),
        )
        try:
            self.recorder.write(exchange)
        except OSError:
            log.exception("could not record %s %s", scope["method"], scope["path"])


def _connection_names(headers: list[tuple[bytes, bytes]]) -> set[str]:
    """The header names a Connection header lists: hop-by-hop too (RFC 9110 §7.6.1)."""
    named = set()
    for name, value in headers:
        if name.lower() == b"connection":
            named |= {n.strip().lower() for n in value.decode("latin-1").split(",") if n.strip()}
    return named


async def _read_up_to(chunks: AsyncIterator[bytes], limit: int) -> tuple[bytes, bool]:
    """The answer's first bytes, as sent (up to `limit` and the chunk past it), and whether that
    was all of it."""
    kept = bytearray()
    async for chunk in chunks:
        kept.extend(chunk)
        if len(kept) > limit:
            return bytes(kept), False
    return bytes(kept), True


def _decoded(body: bytes, encoding: str | None) -> bytes | None:
    """The body as the checks read it; the client still gets it as sent. None: an encoding the
    checks cannot undo (the body then goes unchecked)."""
    name = (encoding or "identity").strip().lower()
    try:
        if name == "identity":
            return body
        if name in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if name == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return None
    return None
