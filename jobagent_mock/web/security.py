"""The one bearer-token check, read from the contract: the token, the operation's allowed
organisations (x-allowed-organisations) and its scopes (with x-scope-aliases). The full stack
calls it from connexion's OAuth2 handler, the fast lane directly."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from typing import Any

from connexion.exceptions import OAuthProblem
from connexion.security import OAuthSecurityHandler

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import NOT_AUTHORIZED, Forbidden
from jobagent_mock.web.context import RequestContext, current

MISSING_SCOPE = "The token does not carry the operation's scope."


def authorize(request: RequestContext, required_scopes: Iterable[str]) -> dict[str, Any] | None:
    """The token's claims with its scopes expanded (kept as the request's token_info); None for
    no valid token (401); Forbidden (403/4575) for an organisation or scope the operation does
    not admit."""
    claims = request.claims
    if claims is None:
        return None
    operation = request.operation
    allowed = operation.spec.get("x-allowed-organisations") if operation else None
    if allowed is not None and claims["organisationType"] not in allowed:
        raise Forbidden(
            NOT_AUTHORIZED,
            f"Organisation type {claims['organisationType']} may not call "
            f"{operation.operation_id if operation else 'this operation'}.",
        )
    aliases = spec.scope_aliases()
    scopes = claims["scope"].split()
    scopes += [extra for s in scopes for extra in aliases.get(s, [])]
    if not set(required_scopes) <= set(scopes):
        raise Forbidden(NOT_AUTHORIZED, MISSING_SCOPE)
    request.token_info = {**claims, "scope": scopes}
    return request.token_info


def admits(request: RequestContext) -> bool:
    """Whether the request's sandbox is admitted here (stores/sandboxes.py): a business operation's,
    whose requests the journal keeps; an admin operation that writes admits its own."""
    operation = request.operation
    return operation is not None and operation.operation_id in spec.operations(spec.BUSINESS)


def admission_waits(request: RequestContext) -> bool:
    """Whether admit() would ask a shared store (a round trip): only off the event loop."""
    sandboxes = request.mock.sandboxes
    return request.mock.store.shared and not sandboxes.known(request.journal_sandbox())


def admit(request: RequestContext) -> None:
    """The authorized caller's sandbox admitted (or its last use noted now and then), or
    TooManySandboxes (429) at a cap. Its sandbox, or the client's own when the x-mock-sandbox
    header is what the request got wrong: where the journal files it."""
    key = request.journal_sandbox()
    request.mock.sandboxes.admit(key)
    request.admitted = key


async def token_info(token: str, required_scopes: list[str] | None = None) -> dict[str, Any] | None:
    """authorize() then admit(), as connexion's OAuth2 handler calls a token function. A token
    it refuses is a 401 that says why and what to do (auth.Authority.refusal): a token of an
    earlier instance, another signing key, an expired one."""
    request = current()  # it read the same header, and verified it once
    info = authorize(request, required_scopes or [])
    if info is None:
        raise OAuthProblem(detail=request.authority.refusal(token))
    if admits(request):
        if admission_waits(request):
            await asyncio.to_thread(admit, request)
        else:
            admit(request)
    return info


class ContractOAuthHandler(OAuthSecurityHandler):
    """connexion's OAuth2 handler with authorize() as its token function."""

    def get_tokeninfo_func(self, _security_definition: dict[str, Any]) -> Any:
        return token_info


def security_map() -> dict[str, Any]:
    return {"oauth2": functools.partial(ContractOAuthHandler)}
