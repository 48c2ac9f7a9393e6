"""ASGI middleware for the shape of a request, before routing: headers over 32 KiB are 431; a
line break in the path, or two different values of a header that names the caller, citizen,
request or sandbox, are 400 (1014); a body over the configured size is 413 (1014); a chunked
body gets its length, a media type is read in lower case, and a body sent without one is
application/octet-stream (so 415)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobagent_mock.foundations.errors import (
    FAILED_TO_VALIDATE,
    HeadersTooLarge,
    InvalidInput,
    TooLarge,
)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# headers whose one value names the caller, the citizen, the request or the sandbox
SINGLE_VALUED = {
    name.lower().encode(): name
    for name in ("Authorization", "x-civilRegistrationIdentifier", "x-requestId", "x-mock-sandbox")
}
# Kestrel's (ASP.NET's) MaxRequestHeadersTotalSize: what STAR's own servers would take
MAX_HEADER_BYTES = 32 * 1024
MAX_LENGTH_DIGITS = 18  # an exabyte; and within int64 for whoever reads it next


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
        if headers_too_large(scope):
            raise HeadersTooLarge(
                None, f"The request's headers are larger than {MAX_HEADER_BYTES} bytes."
            )
        conflict = conflicting_header(scope)
        if conflict is not None:
            why = "is sent twice with different values; the mock will not pick one"
            raise InvalidInput(
                FAILED_TO_VALIDATE, f"header.{conflict} {why}", {f"header.{conflict}": [why]}
            )
        scope = _media_type_in_lower_case(scope)
        scope = _octet_stream_unless_typed(scope)
        headers = Headers(scope=scope)
        if "content-length" in headers:
            if declared_too_large(headers, self.limit):
                raise too_large(self.limit)
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        # connexion takes a body without Content-Length for no body: read it, and say its length
        body = await read_body(receive, self.limit) or b""
        scope = dict(scope)
        length = [(b"content-length", str(len(body)).encode())]
        scope["headers"] = [h for h in scope["headers"] if h[0] != b"transfer-encoding"] + length
        await self.app(scope, replay(body, receive), send)


def headers_too_large(scope: Scope) -> bool:
    return sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES


def conflicting_header(scope: Scope) -> str | None:
    """The name of a header that says who or what a request is and came twice with different
    values: a proxy that appends instead of replacing must not have its value silently lost, nor
    the first copy silently win."""
    seen: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in SINGLE_VALUED and seen.setdefault(name, value) != value:
            return SINGLE_VALUED[name]
    return None


def too_large(limit: int) -> TooLarge:
    return TooLarge(FAILED_TO_VALIDATE, f"The body is larger than {limit} bytes.")


def declared_length(headers: Headers) -> int | None:
    """The Content-Length, None when none was sent; one that is no number of at most 18 digits
    is a 400 (RFC 9110 8.6), before connexion's int() meets it (4,301 digits: a ValueError)."""
    declared = headers.get("content-length")
    if declared is None:
        return None
    if not (declared.isascii() and declared.isdigit() and len(declared) <= MAX_LENGTH_DIGITS):
        raise InvalidInput(FAILED_TO_VALIDATE, "The Content-Length is not a number of bytes.")
    return int(declared)


def declared_too_large(headers: Headers, limit: int) -> bool:
    declared = declared_length(headers)
    return declared is not None and declared > limit


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, refused (413) as soon as it grows past `limit`; None if the client went
    away before it was sent."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body.extend(message.get("body", b""))
        if len(body) > limit:
            raise too_large(limit)
        if not message.get("more_body", False):
            return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app a body already read, then whatever comes after it."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replaying


BODY_METHODS = ("POST", "PUT", "PATCH")


def _octet_stream_unless_typed(scope: Scope) -> Scope:
    """RFC 9110 8.3: a body without a Content-Type may be taken as application/octet-stream, and
    ASP.NET answers it 415. connexion would validate it as JSON, then hand the handler bytes."""
    if scope["method"] not in BODY_METHODS:
        return scope
    names = dict(scope["headers"])
    has_body = names.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in names
    if b"content-type" in names or not has_body:
        return scope
    return {**scope, "headers": [*scope["headers"], (b"content-type", b"application/octet-stream")]}


def _media_type_in_lower_case(scope: Scope) -> Scope:
    """Media types are case-insensitive (RFC 9110 8.3.1), but connexion picks the body validator
    by the exact spelling: `Application/JSON` would reach the handler unvalidated."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type, semicolon, parameters = value.partition(b";")
            if media_type != media_type.lower():
                scope = dict(scope)
                lowered = media_type.lower() + semicolon + parameters
                scope["headers"] = [
                    (n, lowered if n == b"content-type" else v) for n, v in scope["headers"]
                ]
            break
    return scope
