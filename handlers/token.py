"""The OAuth2 token endpoint (openapi/token.yaml, mounted under /connect)."""

from typing import Any

from jobagent_mock.auth import TokenError, discovery
from jobagent_mock.web.context import authority, base_url, basic_credentials
from jobagent_mock.web.responses import Answer, json_body


def issue_token(body: dict[str, Any]) -> Answer:
    client_id, secret = basic_credentials() or (body.get("client_id"), body.get("client_secret"))
    try:
        token = authority().issue(
            body.get("grant_type"), client_id, secret, body.get("scope"), body.get("audience")
        )
    except TokenError as refused:
        answer = {"error": refused.error, "error_description": refused.description}
        headers = (
            {"WWW-Authenticate": 'Basic realm="jobagent-mock"'} if refused.status == 401 else {}
        )
        return json_body(answer, refused.status, headers)
    return json_body(token, 200, {"Cache-Control": "no-store"})


def get_openid_configuration() -> Answer:
    return json_body(discovery(base_url()), 200, {"Cache-Control": "max-age=300"})
