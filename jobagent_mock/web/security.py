"""Bearer-token checks read from the contract: scopes, scope aliases and allowed organisations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion.exceptions import OAuthProblem
from connexion.lifecycle import ConnexionRequest
from connexion.security import OAuthSecurityHandler

from jobagent_mock import spec
from jobagent_mock.auth import Authority
from jobagent_mock.errors import NOT_AUTHORIZED, Forbidden

TokenInfo = Callable[..., dict[str, Any] | None]


class ContractOAuthHandler(OAuthSecurityHandler):
    """connexion's OAuth2 handler, with the token check bound to this app's Authority."""

    def __init__(self, token_info: TokenInfo) -> None:
        super().__init__()
        self._token_info = token_info

    def get_tokeninfo_func(self, _security_definition: dict[str, Any]) -> TokenInfo:
        return self._token_info

    @staticmethod
    @functools.cache
    def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
        # connexion inspects the token function's signature on every request; it never changes
        return OAuthSecurityHandler._accepts_kwarg(func, keyword)


def security_map(authority: Authority) -> dict[str, Any]:
    return {"oauth2": functools.partial(ContractOAuthHandler, token_info_for(authority))}


def token_info_for(authority: Authority) -> TokenInfo:
    aliases = spec.scope_aliases()

    def token_info(
        token: str,
        required_scopes: list[str] | None = None,  # noqa: ARG001 (connexion checks them after)
        request: ConnexionRequest = None,
    ) -> dict[str, Any] | None:
        claims = authority.verify(token)
        if claims is None:  # connexion's 401, with the reason and its remedy
            raise OAuthProblem(detail=authority.refusal(token))
        operation_id = request.scope["extensions"]["connexion_routing"]["operation_id"]
        allowed = spec.allowed_organisations(operation_id)
        if allowed is not None and claims["organisationType"] not in allowed:
            raise Forbidden(
                NOT_AUTHORIZED,
                f"Organisation type {claims['organisationType']} may not call {operation_id}.",
            )
        scopes = claims["scope"].split()
        scopes += [extra for s in scopes for extra in aliases.get(s, [])]
        return {**claims, "scope": scopes}

    return token_info
