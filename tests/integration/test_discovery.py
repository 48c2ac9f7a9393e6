"""OAuth2 discovery: a client given only the mock's base URL finds its token endpoint, and every
refusal of the token endpoint is an RFC 6749 section 5.2 error, which client libraries read."""

from __future__ import annotations

import pytest

from tests.helpers import ContractClient

DISCOVERY = [
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/connect/.well-known/openid-configuration",
]


@pytest.mark.parametrize("path", DISCOVERY)
def test_discovery_names_the_token_endpoint_and_what_it_takes(
    client: ContractClient, path: str
) -> None:
    found = client.http.get(path, headers={"Host": "mock.example:8080"})
    assert found.status_code == 200
    document = found.json()
    assert document["issuer"] == "http://mock.example:8080"
    assert document["token_endpoint"] == "http://mock.example:8080/connect/token"
    assert document["grant_types_supported"] == ["client_credentials"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert {"match.jobagent.read", "visiteringogstatus.write", "mock.admin"} <= set(
        document["scopes_supported"]
    )
    assert "jwks_uri" not in document  # HS256: only the mock verifies its tokens


def test_a_client_can_use_what_discovery_says(client: ContractClient) -> None:
    document = client.http.get("/.well-known/openid-configuration").json()
    endpoint = document["token_endpoint"].removeprefix("http://testserver")
    scope = document["scopes_supported"][0]
    answer = client.http.post(
        endpoint,
        data={"grant_type": "client_credentials", "scope": scope},
        auth=("star-jobnet", "star-jobnet-secret"),
    )
    assert answer.status_code == 200 and answer.json()["scope"] == scope


@pytest.mark.parametrize(
    "request_",
    [
        {"json": {"grant_type": "client_credentials", "client_id": "star-jobnet"}},
        {"content": b"grant_type=client_credentials", "headers": {"Content-Type": "text/plain"}},
        {"data": {}},
        {"data": {"client_id": "star-jobnet", "client_secret": "star-jobnet-secret"}},
        {"content": b"\xff\xfe", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ],
    ids=["json-body", "text-body", "empty-form", "no-grant-type", "not-utf8"],
)
def test_every_malformed_token_request_is_invalid_request(
    client: ContractClient, request_: dict
) -> None:
    answer = client.http.post("/connect/token", **request_)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"] == "invalid_request", answer.text
    assert answer.json()["error_description"]
    assert "fejlkode" not in answer.json()


def test_a_wrong_method_on_the_token_endpoint_is_an_oauth2_error_too(
    client: ContractClient,
) -> None:
    answer = client.http.get("/connect/token")
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json()["error"] == "invalid_request"
