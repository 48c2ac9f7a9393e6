"""What a handler needs from the request it serves: the engine, and who is calling."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import connexion
from connexion import context as connexion_context
from flask import current_app

from jobagent_mock.auth import Authority
from jobagent_mock.service import Caller, Mock
from jobagent_mock.store import DEFAULT_SANDBOX

ENGINE = "JOBAGENT_MOCK_ENGINE"
AUTHORITY = "JOBAGENT_MOCK_AUTHORITY"


def engine() -> Mock:
    return current_app.config[ENGINE]


def authority() -> Authority:
    return current_app.config[AUTHORITY]


def caller() -> Caller:
    """The caller's sandbox (one per OAuth2 client), citizen and x-requestId."""
    headers = connexion.request.headers
    token_info: dict[str, Any] = connexion_context.context.get("token_info") or {}
    return Caller(
        sandbox=token_info.get("sub", DEFAULT_SANDBOX),
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
