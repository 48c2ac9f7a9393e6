"""The OAuth2 token endpoint (openapi/token.yaml, mounted under /connect)."""

from typing import Any

from jobagent_mock.auth import TokenError
from jobagent_mock.web.context import authority, basic_credentials

Response = tuple[Any, ...]


def issue_token(body: dict[str, Any]) -> Response:
    # read leniently: a form whose bytes are no UTF-8 reaches here without the fields it hid
    client_id, secret = basic_credentials() or (body.get("client_id"), body.get("client_secret"))
    try:
        fields = (body.get("grant_type"), client_id, secret, body.get("scope"))
        if not all(value is None or isinstance(value, str) for value in fields):
            raise TokenError("invalid_request", "Each form field must be given once.")
        grant_type, client_id, secret, scope = fields
        if grant_type is None:
            raise TokenError("invalid_request", "grant_type is missing or could not be decoded.")
        token = authority().issue(grant_type, client_id, secret, scope)
    except TokenError as refused:
        answer = {"error": refused.error, "error_description": refused.description}
        headers = (
            {"WWW-Authenticate": 'Basic realm="jobagent-mock"'} if refused.status == 401 else {}
        )
        return answer, refused.status, headers
    return token, 200, {"Cache-Control": "no-store"}
