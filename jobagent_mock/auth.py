"""OAuth2 client credentials for the mock's clients: signed JWTs issued and checked with PyJWT."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from jobagent_mock.foundations import spec

ISSUER = "jobagent-mock"
# the audience (aud) of the tokens the business API takes; a client may ask the token endpoint
# for another one, the way to a 401 its own sandbox counts (coverage)
AUDIENCE = "jobagent-mock"
ALGORITHM = "HS256"
TOKEN_LIFETIME_SECONDS = 3600
VERIFIED_TOKENS_KEPT = 4096
MIN_KEY_BYTES = 32  # RFC 7518 section 3.2: an HS256 key at least as long as the hash
# the claims the mock reads, and their JSON type: a token signed with the right key but another
# shape (a key shared with `--signing-key` can sign anything) is no valid token, never a 500
READ_CLAIMS: dict[str, type | tuple[type, ...]] = {
    "sub": str,
    "scope": str,
    "organisationType": str,
    "organisationCode": str,
    "exp": (int, float),  # PyJWT reads "exp": "9999999999" too; the cache compares it with a time
}


class SigningKeyError(ValueError):
    """A configured signing key too short to sign with."""


@dataclass
class TokenError(Exception):
    """An RFC 6749 section 5.2 error."""

    error: str
    description: str
    status: int = 400


class Authority:
    def __init__(
        self,
        clients: list[dict[str, Any]],
        signing_key: str | None = None,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
    ) -> None:
        if signing_key is not None and len(signing_key.encode()) < MIN_KEY_BYTES:
            raise SigningKeyError(f"the signing key must be at least {MIN_KEY_BYTES} bytes")
        self._clients = {c["client_id"]: c for c in clients}
        # A key made at start-up: tokens die with the process, as a sandbox's should.
        self._key = signing_key or secrets.token_urlsafe(32)
        self._key_given = signing_key is not None
        # names the key in each token's header (kid), so a refusal can tell a token of another
        # instance from a forged one; a hash, which tells nothing about the key
        self.key_id = hashlib.sha256(self._key.encode()).hexdigest()[:16]
        self._lifetime = lifetime
        # token -> claims of tokens already verified: a client sends the same token many times
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(
        self,
        grant_type: Any,
        client_id: Any,
        client_secret: Any,
        scope: Any,
        audience: Any = None,
    ) -> dict[str, Any]:
        """The token response for valid client credentials; TokenError otherwise. The form is
        read leniently: a field its bytes hid (no UTF-8) or gave twice is invalid_request."""
        fields = (grant_type, client_id, client_secret, scope, audience)
        if not all(field is None or isinstance(field, str) for field in fields):
            raise TokenError("invalid_request", "Each form field must be given once.")
        if grant_type is None:
            raise TokenError("invalid_request", "grant_type is missing or could not be decoded.")
        if grant_type != "client_credentials":
            raise TokenError("unsupported_grant_type", f"grant_type {grant_type} is not supported")
        client = self._clients.get(client_id or "")
        if client is None or not secrets.compare_digest(
            client["client_secret"], client_secret or ""
        ):
            raise TokenError("invalid_client", "Unknown client or wrong secret", 401)
        granted = client["scopes"]
        asked = scope.split() if scope else granted
        refused = [s for s in asked if s not in granted]
        if refused:
            raise TokenError("invalid_scope", f"The client may not ask for {' '.join(refused)}")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": client["client_id"],
            "iat": now,
            "exp": now + self._lifetime,
            "aud": audience or AUDIENCE,
            "scope": " ".join(asked),
            "organisationType": client["organisationType"],
            "organisationCode": client["organisationCode"],
        }
        return {
            "access_token": jwt.encode(
                claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id}
            ),
            "token_type": "Bearer",
            "expires_in": self._lifetime,
            "scope": claims["scope"],
        }

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this authority issued and that has not expired, else None."""
        known = self._verified.get(token)
        if known is not None:
            return known if known["exp"] > time.time() else None
        claims = self._decode(token)
        if claims is not None:
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def refusal(self, token: str) -> str:
        """Why verify() refused a token, and what to do about it (the 401's detail)."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return "The token is not a JWT; fetch one from /connect/token."
        if claims.get("iss") != ISSUER:
            return "The token was not issued by jobagent-mock; fetch one from /connect/token."
        if header.get("kid", self.key_id) != self.key_id:
            fix = (
                "fetch a new token from /connect/token, or start every instance with the same "
                "--signing-key (or $JOBAGENT_MOCK_SIGNING_KEY)"
            )
            if self._key_given:
                return f"The token was signed with another signing key: {fix}."
            return (
                "The token was signed by an earlier jobagent-mock: this one made a new signing "
                f"key when it started. To fix it, {fix}."
            )
        untimely = _untimely(claims)
        if untimely:
            return untimely
        subject = claims.get("sub")
        if not isinstance(subject, str) or subject not in self._clients:
            return f"The client {subject!r} (sub) is not one of this mock's clients."
        return "The token is not valid (its signature or claims); fetch one from /connect/token."

    def signed_subject(self, token: str) -> str | None:
        """The client a token names if this mock signed it, even where verify() refuses it
        (expired, not valid yet, for another audience): its 401 counts in that client's
        sandbox. None for a token anyone else could have made."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"verify_exp": False, "verify_nbf": False, "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        subject = claims.get("sub")
        return subject if isinstance(subject, str) and subject in self._clients else None

    def _decode(self, token: str) -> dict[str, Any] | None:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # aud is checked below: a token of an earlier version has none, and is for us
                options={"require": ["exp", "iat", "sub", "scope"], "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        if not all(isinstance(claims.get(name), kind) for name, kind in READ_CLAIMS.items()):
            return None
        if not _for_this_api(claims):
            return None
        return claims if claims["sub"] in self._clients else None


def _untimely(claims: dict[str, Any]) -> str | None:
    """Why a token's time or audience claims refuse it, if they do."""
    if isinstance(claims.get("exp"), int | float) and claims["exp"] <= time.time():
        return "The token has expired; fetch a new one from /connect/token."
    if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > time.time():
        return "The token is not valid yet (nbf); fetch one from /connect/token."
    if not _for_this_api(claims):
        return (
            f"The token is for audience {claims.get('aud')!r}, not {AUDIENCE!r}; fetch one "
            "from /connect/token without an audience."
        )
    return None


def _for_this_api(claims: dict[str, Any]) -> bool:
    """A token without an audience, or with this API's among its audiences."""
    audience = claims.get("aud", AUDIENCE)
    return audience == AUDIENCE or (isinstance(audience, list) and AUDIENCE in audience)


def discovery(base_url: str) -> dict[str, Any]:
    """The OAuth2 discovery document of the mock at `base_url` (token.yaml's
    GetOpenidConfiguration): its token endpoint, and every scope the contracts name."""
    token = spec.raw(spec.TOKEN)
    connect = str(token["servers"][0]["url"]).rstrip("/")
    endpoint = next(path for path, item in token["paths"].items() if "post" in item)
    scopes = [
        scope
        for contract in spec.CONTRACTS
        for scheme in spec.raw(contract).get("components", {}).get("securitySchemes", {}).values()
        for flow in scheme.get("flows", {}).values()
        for scope in flow.get("scopes", {})
    ]
    return {
        "issuer": base_url,
        "token_endpoint": base_url + connect + endpoint,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(dict.fromkeys(scopes)),
        "response_types_supported": ["token"],
    }
