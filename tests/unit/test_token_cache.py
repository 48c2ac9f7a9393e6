"""auth.Authority.verify keeps each verified token's claims (a client sends the same token many
times): a kept token is still refused once it expires, each token keeps its own client's
claims, a token of another key is never taken, and what is kept is bounded."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from jobagent_mock import auth
from jobagent_mock.auth import ALGORITHM, AUDIENCE, ISSUER, VERIFIED_TOKENS_KEPT, Authority
from jobagent_mock.foundations import fixtures

KEY = "a-signing-key-of-at-least-thirty-two-bytes"
CLIENTS = fixtures.load().clients


def signed(key: str, sub: str = "star-jobnet", exp: float | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": sub,
        "iat": now,
        "exp": exp if exp is not None else now + 3600,
        "aud": AUDIENCE,
        "scope": "s",
        "organisationType": "STAR",
        "organisationCode": "x",
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def test_a_kept_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    authority = Authority(CLIENTS, KEY)
    token = signed(KEY, exp=time.time() + 60)
    assert authority.verify(token) is not None
    assert authority.verify(token) is not None  # kept
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert authority.verify(token) is None


def test_each_kept_token_answers_for_its_own_client_only() -> None:
    authority = Authority(CLIENTS, KEY)
    tokens = {sub: signed(KEY, sub) for sub in ("star-jobnet", "jobcenter-aarhus")}
    for _ in range(2):
        for sub, token in tokens.items():
            claims = authority.verify(token)
            assert claims is not None and claims["sub"] == sub


def test_a_token_of_another_key_is_refused_beside_kept_ones() -> None:
    authority = Authority(CLIENTS, KEY)
    assert authority.verify(signed(KEY)) is not None
    forged = signed("another-signing-key-of-thirty-two-bytes!")
    assert authority.verify(forged) is None
    assert authority.verify(forged) is None
    assert (
        Authority(CLIENTS, "another-signing-key-of-thirty-two-bytes!").verify(signed(KEY)) is None
    )


def test_the_tokens_kept_are_bounded() -> None:
    authority = Authority(CLIENTS, KEY)
    now = int(time.time())
    for n in range(VERIFIED_TOKENS_KEPT + 5):
        assert authority.verify(signed(KEY, exp=now + 3600 + n)) is not None
    assert 0 < len(authority._verified) <= VERIFIED_TOKENS_KEPT
