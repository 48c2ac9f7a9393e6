"""The one renderer of errors: every refusal the server makes becomes a Problem body."""

from __future__ import annotations

import functools
import logging
import uuid
from http import HTTPStatus
from typing import Any

from connexion import FlaskApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from jobagent_mock import jsontext, spec
from jobagent_mock.errors import FAILED_TO_VALIDATE, RETRY_AFTER_SECONDS, Fejl
from jobagent_mock.scenarios import Scripted

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
BEARER_CHALLENGE = 'Bearer realm="jobagent-mock"'


def problem(
    request: ConnexionRequest,
    status: int,
    *,
    fejlkode: int | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    if status in OAUTH2_INVALID_REQUEST and request.url.path in _token_paths():
        return _invalid_request(detail or title or HTTPStatus(status).phrase)
    fejltekst = spec.fejlkode_catalogue()[fejlkode][0] if fejlkode else None
    body: dict[str, Any] = {
        "type": f"urn:star:fejlkode:{fejlkode}" if fejlkode else "about:blank",
        "title": fejltekst or title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or fejltekst or title or HTTPStatus(status).phrase,
    }
    if fejlkode:
        body |= {"fejlkode": fejlkode, "fejltekst": fejltekst}
    body["requestId"] = request.headers.get("x-requestId") or str(uuid.uuid4())
    if errors:
        body["errors"] = errors
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=jsontext.dumps(body),
        headers=headers or {},
    )


# a request the token endpoint cannot read (no grant_type, a form it cannot decode, another
# media type) is OAuth2's invalid_request (RFC 6749 section 5.2), the error body token.yaml
# documents, never a Problem
OAUTH2_INVALID_REQUEST = (400, 415)


@functools.cache
def _token_paths() -> frozenset[str]:
    base = spec.raw(spec.TOKEN)["servers"][0]["url"].rstrip("/")
    return frozenset(base + operation.path for operation in spec.operations(spec.TOKEN).values())


def _invalid_request(description: str) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=400,
        mimetype="application/json",
        content_type="application/json",
        body=jsontext.dumps({"error": "invalid_request", "error_description": description}),
        headers={"Cache-Control": "no-store"},
    )


def on_fejl(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, Fejl)
    # a 503 is worth trying again: say when (RFC 9110 §10.2.3)
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status == 503 else None
    return problem(
        request,
        exc.status,
        fejlkode=exc.fejlkode,
        detail=exc.detail,
        errors=exc.errors,
        headers=retry,
    )


def on_connexion_problem(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """connexion's own refusals: 400 and 415 are contract violations (1014), 401 a challenge."""
    assert isinstance(exc, ProblemException)
    if exc.status >= 500:
        return on_unexpected(request, exc)
    fejlkode = FAILED_TO_VALIDATE if exc.status in (400, 415) else None
    headers = dict(exc.headers or {})
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'{BEARER_CHALLENGE}, error="invalid_token"'
    return problem(
        request, exc.status, fejlkode=fejlkode, title=exc.title, detail=exc.detail, headers=headers
    )


def on_http_exception(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Routing (404, 405); a missing scope is security.authorize's Forbidden, never this."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # starlette names only the first route's methods; the contract knows them all
        headers["Allow"] = ", ".join(allowed_methods(request.url.path))
    return problem(request, exc.status_code, detail=str(exc.detail), headers=headers)


def on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem(
        request,
        500,
        title="Internal Server Error",
        detail="The mock failed; this is a bug in jobagent-mock.",
    )


async def on_scripted(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:  # noqa: ARG001
    """A scenario's step is no refusal: on to web/scenarios.py, outside this stack, which gives
    it for the fast lane and this stack alike."""
    raise exc


def allowed_methods(path: str) -> list[str]:
    return sorted({operation.method.upper() for operation in spec.operations_at(path)})


def install(app: FlaskApp) -> None:
    app.add_error_handler(Fejl, on_fejl)
    app.add_error_handler(Scripted, on_scripted)
    app.add_error_handler(ProblemException, on_connexion_problem)
    app.add_error_handler(HTTPException, on_http_exception)
    app.add_error_handler(Exception, on_unexpected)
