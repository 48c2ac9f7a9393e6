"""The request context: one ContextVar per request holding the engine, the operation, the
verified token and the caller, set by RequestContextMiddleware (every request), filled by the
fast lane or by the full stack's OperationMiddleware and authorize(), and read by handlers, the
journal and Prefer. Nothing reads connexion's own context."""

from __future__ import annotations

import base64
import binascii
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from jobagent_mock.auth import Authority
from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, Fejl, InvalidInput
from jobagent_mock.rules.tilmelding import Organisation
from jobagent_mock.service import Caller, Mock
from jobagent_mock.stores import DEFAULT_SANDBOX

# where a program embedding the app (the tests) finds the engine: app.app.config[ENGINE]
ENGINE = "JOBAGENT_MOCK_ENGINE"
AUTHORITY = "JOBAGENT_MOCK_AUTHORITY"
SANDBOX_HEADER = "x-mock-sandbox"
_SANDBOX_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_UNVERIFIED = object()


@dataclass
class RequestContext:
    """One request as the project sees it. Mutable: the middleware that creates it and the parts
    that fill it in (routing, authorize) share this one object, and Flask's thread gets it too."""

    mock: Mock
    authority: Authority
    headers: Headers
    operation: spec.Operation | None = None
    # the token's claims with its scopes expanded (security.authorize), once it was accepted
    token_info: dict[str, Any] | None = None
    # the proxy's departures of this exchange (proxy/forward.py), kept by the journal
    drift: list[dict[str, str]] | None = None
    # the sandbox this request was admitted to (security.admit): only such a request is journaled
    admitted: str | None = None
    _claims: Any = field(default=_UNVERIFIED, repr=False)

    @property
    def claims(self) -> dict[str, Any] | None:
        """The bearer token's claims, verified once a request, or None (none, or not valid)."""
        if self._claims is _UNVERIFIED:
            token = self.bearer_token()
            self._claims = self.authority.verify(token) if token else None
        return self._claims

    def bearer_token(self) -> str | None:
        """The bearer token sent, read as connexion reads it (security.get_auth_header_value),
        so both agree."""
        try:
            kind, token = self.headers.get("authorization", "").split(maxsplit=1)
        except ValueError:
            return None
        return token if kind.lower() == "bearer" else None

    def sandbox(self) -> str:
        """The caller's sandbox; a malformed x-mock-sandbox header is a 400."""
        claims = self.claims or {}
        return sandbox_key(claims.get("sub"), self.headers.get(SANDBOX_HEADER))

    def caller(self) -> Caller:
        """The caller's sandbox, citizen and x-requestId."""
        claims = self.claims or {}
        return Caller(
            sandbox=self.sandbox(),
            cpr=self.headers.get("x-civilRegistrationIdentifier"),
            request_id=self.headers.get("x-requestId"),
            organisation=Organisation(
                claims.get("organisationType"), claims.get("organisationCode")
            ),
            operation_id=self.operation.operation_id if self.operation else None,
        )

    def journaled(self) -> bool:
        """Whether the journal keeps this request: its sandbox was admitted (by this request, or
        known admitted without a round trip). A refused token or organisation (401, 403), a
        sandbox past a cap (429) create no sandbox, and so no journal."""
        if self.admitted is not None or self.mock.upstream is not None:
            return True  # a proxied exchange: the no-client sandbox's (RECONSTRUCTION D-53)
        if self.claims is None and not self._signed_here():
            return False  # a forged token names nobody; one this mock signed files its 401
        key, sandboxes = self.journal_sandbox(), self.mock.sandboxes
        return sandboxes.known(key) or (not self.mock.store.shared and sandboxes.is_admitted(key))

    def _signed_here(self) -> bool:
        token = self.bearer_token()
        return token is not None and self.authority.signed_subject(token) is not None

    def journal_sandbox(self) -> str:
        """Where the journal files this request: its sandbox, or the client's own when the
        x-mock-sandbox header itself was what the request got wrong. A token this mock signed
        but refuses (expired, for another audience) files its 401 with the client it names."""
        client = (self.claims or {}).get("sub")
        if client is None and (token := self.bearer_token()):
            client = self.authority.signed_subject(token)
        try:
            return sandbox_key(client, self.headers.get(SANDBOX_HEADER))
        except Fejl:
            return sandbox_key(client, None)


_REQUEST: ContextVar[RequestContext] = ContextVar("jobagent_mock_request")


class RequestHeaders(Headers):
    """starlette's Headers, a name looked up in a dict made once: a request's headers are read
    ten times and more (the lane's checks, the token, the caller, the journal), and starlette
    looks through the whole list each time. Answers as Headers does: the first of a repeated
    name, the names as the server gave them (lower case)."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        # decoded once: the journal reads them all again (items)
        self._items = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.raw]
        self._first: dict[str, str] = {}
        for name, value in self._items:
            self._first.setdefault(name, value)

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def __contains__(self, key: Any) -> bool:
        return key.lower() in self._first

    def get(self, key: str, default: Any = None) -> Any:
        return self._first.get(key.lower(), default)

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._items)


class RequestContextMiddleware:
    """Outermost: a fresh RequestContext for every request, bound to this app's engine, so
    several apps in one process (as in the tests) never share one."""

    def __init__(self, app: ASGIApp, *, mock: Mock, authority: Authority) -> None:
        self.app, self.mock, self.authority = app, mock, authority

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _REQUEST.set(RequestContext(self.mock, self.authority, RequestHeaders(scope)))
        await self.app(scope, receive, send)


class OperationMiddleware:
    """On the full stack, right after routing: the operation routing found, for authorize,
    Prefer, handlers and the journal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        if scope["type"] == "http" and "operation_id" in routing:
            current().operation = spec.operation(routing["operation_id"])
        await self.app(scope, receive, send)


def current() -> RequestContext:
    return _REQUEST.get()


def engine() -> Mock:
    return current().mock


def authority() -> Authority:
    return current().authority


def sandbox_key(client_id: str | None, sandbox_header: str | None) -> str:
    """State is partitioned by OAuth2 client, then by the optional x-mock-sandbox header."""
    client = client_id or DEFAULT_SANDBOX
    if sandbox_header is None:
        return client
    if not _SANDBOX_NAME.fullmatch(sandbox_header):
        why = "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
        raise InvalidInput(
            FAILED_TO_VALIDATE,
            f"header.{SANDBOX_HEADER} {why}",
            {f"header.{SANDBOX_HEADER}": [why]},
        )
    return f"{client}/{sandbox_header}"


def token_info() -> dict[str, Any]:
    return current().token_info or {}


def sandbox() -> str:
    return current().sandbox()


def caller() -> Caller:
    return current().caller()


def prefers_html(accept: str) -> bool:
    """A browser's Accept header: text/html named before any JSON type."""
    html, json = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json < 0 or html < json)


def base_url() -> str:
    """The mock's address as the caller reached it (a proxy's X-Forwarded-Proto kept)."""
    headers = current().headers
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip() or "http"
    return f"{scheme}://{headers.get('host', 'localhost')}"


def basic_credentials() -> tuple[str, str] | None:
    """Client id and secret from an HTTP Basic Authorization header, if one was sent."""
    kind, _, value = current().headers.get("Authorization", "").partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret
