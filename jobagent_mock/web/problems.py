"""The one renderer of errors: every refusal the server makes becomes a Problem body."""

from __future__ import annotations

import html
import logging
import uuid
from functools import cache
from http import HTTPStatus
from typing import Any

from connexion import FlaskApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from jobagent_mock.foundations import jsontext, spec
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, RETRY_AFTER_SECONDS, Fejl
from jobagent_mock.rules.scenarios import Scripted
from jobagent_mock.web.context import current, prefers_html

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
    if request.url.path in token_endpoints() and status < 500:
        return oauth2_error(status, detail or title or HTTPStatus(status).phrase, headers)
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


@cache
def token_endpoints() -> frozenset[str]:
    """The token endpoint's paths (token.yaml's, under its server's base path)."""
    document = spec.raw(spec.TOKEN)
    base = str(document["servers"][0]["url"]).rstrip("/")
    return frozenset(base + path for path, item in document["paths"].items() if "post" in item)


def oauth2_error(
    status: int, description: str, headers: dict[str, str] | None = None
) -> ConnexionResponse:
    """A refusal at the token endpoint as OAuth2 says it (RFC 6749 section 5.2), which client
    libraries read, never a Problem: a malformed request (a body of the wrong type or
    shape included) is 400 invalid_request; a wrong method keeps its 405 and Allow."""
    return ConnexionResponse(
        status_code=405 if status == 405 else 400,
        mimetype="application/json",
        content_type="application/json",
        body=jsontext.dumps({"error": "invalid_request", "error_description": description}),
        headers={**(headers or {}), "Cache-Control": "no-store"},
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
        if _page_for_a_browser(request):
            return ConnexionResponse(
                status_code=401,
                mimetype="text/html",
                content_type="text/html",
                body=authorize_page(str(request.base_url).rstrip("/"), request.url.path),
                headers=headers,
            )
    return problem(
        request, exc.status, fejlkode=fejlkode, title=exc.title, detail=exc.detail, headers=headers
    )


def _page_for_a_browser(request: ConnexionRequest) -> bool:
    """A browser asks, and the operation documents a page for its 401 (GetCoverage)."""
    operation = current().operation
    if operation is None or not prefers_html(request.headers.get("accept", "")):
        return False
    refusal = spec.resolved(spec.CONTROL)["paths"].get(operation.path, {})
    content = refusal.get(operation.method, {}).get("responses", {}).get("401", {})
    return "text/html" in content.get("content", {})


def authorize_page(base: str, path: str) -> str:
    """What a browser opening an admin page without a token is told: how to get there."""
    commands = html.escape(
        f"jobagent-mock coverage --url {base} --client star-jobnet --format html "
        "--output coverage.html\n\n"
        "TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=star-jobnet \\\n"
        f"  -d client_secret=star-jobnet-secret {base}/connect/token | jq -r .access_token)\n"
        f'curl -H "Authorization: Bearer $TOKEN" -H "Accept: text/html" {base}{path}'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorization needed'
        "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}</style>"
        "</head><body><h1>Authorization needed</h1><p>This page shows one sandbox, the one of "
        "the OAuth2 client whose bearer token comes with the request, and a browser sends "
        "none. Any of these works:</p><ul><li>The command line writes the page for your "
        "suite's clients (<code>--client</code> repeats; <code>--sandbox</code> names an "
        "<code>x-mock-sandbox</code>) or asks with a token:<pre>"
        f'{commands}</pre></li><li>The admin console, <a href="/__admin/ui/">/__admin/ui/</a>: '
        "<em>Authorize</em> with the client's id and secret (fixtures' clients.json), then "
        "GetCoverage.</li></ul></body></html>"
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
    """A scenario's step is no refusal: on to web/scenario_middleware.py, outside this stack,
    which gives it for the fast lane and this stack alike."""
    raise exc


def allowed_methods(path: str) -> list[str]:
    return sorted({operation.method.upper() for operation in spec.operations_at(path)})


def install(app: FlaskApp) -> None:
    app.add_error_handler(Fejl, on_fejl)
    app.add_error_handler(Scripted, on_scripted)
    app.add_error_handler(ProblemException, on_connexion_problem)
    app.add_error_handler(HTTPException, on_http_exception)
    app.add_error_handler(Exception, on_unexpected)
