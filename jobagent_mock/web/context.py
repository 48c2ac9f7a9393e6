"""What a handler needs from the request it serves: the engine, the caller and their sandbox."""

from __future__ import annotations

import base64
import binascii
import re
from contextvars import ContextVar
from typing import Any

import connexion
from connexion import context as connexion_context

from jobagent_mock.auth import Authority
from jobagent_mock.errors import FAILED_TO_VALIDATE, InvalidInput
from jobagent_mock.service import Caller, Mock
from jobagent_mock.stores import DEFAULT_SANDBOX

# the app serving the request, bound per request (web/fast_lane.py), so several apps in one
# process (as in the tests) never share an engine; Flask's thread gets a copy of the context
_ENGINE: ContextVar[Mock] = ContextVar("jobagent_mock_engine")
_AUTHORITY: ContextVar[Authority] = ContextVar("jobagent_mock_authority")
# where a program embedding the app (the tests) finds them: app.app.config[ENGINE]
ENGINE = "JOBAGENT_MOCK_ENGINE"
AUTHORITY = "JOBAGENT_MOCK_AUTHORITY"
SANDBOX_HEADER = "x-mock-sandbox"
_SANDBOX_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def bind(mock: Mock, authority_: Authority) -> None:
    _ENGINE.set(mock)
    _AUTHORITY.set(authority_)


def engine() -> Mock:
    return _ENGINE.get()


def authority() -> Authority:
    return _AUTHORITY.get()


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
    return connexion_context.context.get("token_info") or {}


def sandbox() -> str:
    return sandbox_key(token_info().get("sub"), connexion.request.headers.get(SANDBOX_HEADER))


def caller() -> Caller:
    """The caller's sandbox, citizen and x-requestId."""
    headers = connexion.request.headers
    return Caller(
        sandbox=sandbox_key(token_info().get("sub"), headers.get(SANDBOX_HEADER)),
        cpr=headers.get("x-civilRegistrationIdentifier"),
        request_id=headers.get("x-requestId"),
    )


def basic_credentials() -> tuple[str, str] | None:
    """Client id and secret from an HTTP Basic Authorization header, if one was sent."""
    kind, _, value = connexion.request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret
