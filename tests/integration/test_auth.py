"""The token endpoint and the contract's security: scopes, scope aliases, allowed organisations."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from tests.helpers import ORDINARY, ContractClient, operation_for, problem, token_for


def _every_operation() -> list[tuple[str, str]]:
    """Each business operation of the contract, its path parameters filled from their examples."""
    found = []
    for operation in spec.operations(spec.BUSINESS).values():
        path = operation.path
        for param in operation.parameters:
            if param["in"] == "path":
                path = path.replace(f"{{{param['name']}}}", str(param["example"]))
        found.append((operation.method.upper(), path))
    return found


EVERY_OPERATION = _every_operation()


def form(client_id: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
        **extra,
    }


def test_token_in_form_body(client: ContractClient) -> None:
    answer = client.http.post("/connect/token", data=form("star-jobnet"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["organisationType"] == "STAR" and claims["exp"] > claims["iat"]


def test_token_with_http_basic(client: ContractClient) -> None:
    basic = base64.b64encode(b"kommune-odense:kommune-odense-secret").decode()
    answer = client.http.post(
        "/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200
    assert answer.json()["scope"] == "visiteringogstatus.write"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (form("star-jobnet", client_secret="wrong"), 401, "invalid_client"),
        (form("nobody"), 401, "invalid_client"),
        (form("star-jobnet", grant_type="password"), 400, "unsupported_grant_type"),
        (form("akasse-eksempel", scope="match.jobagent.write"), 400, "invalid_scope"),
    ],
)
def test_token_errors_follow_rfc_6749(
    client: ContractClient, data: dict[str, str], status: int, error: str
) -> None:
    answer = client.http.post("/connect/token", data=data)
    assert answer.status_code == status
    assert answer.json()["error"] == error


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_no_token_is_401_with_a_challenge(client: ContractClient, method: str, path: str) -> None:
    answer = client.http.request(method, path)
    problem(answer, 401, None)
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(
            {
                "sub": "star-jobnet",
                "scope": "match.jobagent.read",
                "iat": 1,
                "exp": 2**40,
                "iss": "jobagent-mock",
                "organisationType": "STAR",
            },
            "a-guessed-key-that-is-long-enough-for-hs256",
            algorithm="HS256",
        ),
    ],
)
def test_a_forged_token_is_401(client: ContractClient, token: str) -> None:
    answer = client.http.get(
        "/v1/Jobagent",
        headers={"Authorization": f"Bearer {token}", "x-civilRegistrationIdentifier": ORDINARY},
    )
    problem(answer, 401, None)


def test_an_expired_token_is_401(app: Any, client: ContractClient) -> None:
    authority = app.app.config["JOBAGENT_MOCK_AUTHORITY"]
    expired = jwt.encode(
        {
            "iss": "jobagent-mock",
            "sub": "star-jobnet",
            "iat": 1,
            "exp": 2,
            "scope": "match.jobagent.read",
            "organisationType": "STAR",
        },
        authority._key,
        algorithm="HS256",
    )
    answer = client.http.get(
        "/v1/Jobagent",
        headers={"Authorization": f"Bearer {expired}", "x-civilRegistrationIdentifier": ORDINARY},
    )
    assert "expired" in problem(answer, 401, None)["detail"]


def test_a_token_of_an_earlier_instance_says_so_and_how_to_fix_it(client: ContractClient) -> None:
    earlier = token_for(TestClient(create_app()), "star-jobnet")  # its own start-up key
    answer = client.http.get(
        "/v1/Jobagent",
        headers={"Authorization": f"Bearer {earlier}", "x-civilRegistrationIdentifier": ORDINARY},
    )
    detail = problem(answer, 401, None)["detail"]
    assert "signed by an earlier jobagent-mock" in detail
    assert "--signing-key" in detail and "/connect/token" in detail
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_token_signed_with_another_configured_key_says_so() -> None:
    issuer = TestClient(create_app(signing_key="a" * 32))
    checker = TestClient(create_app(signing_key="b" * 32))
    answer = checker.get(
        "/v1/Jobagent",
        headers={
            "Authorization": f"Bearer {token_for(issuer, 'star-jobnet')}",
            "x-civilRegistrationIdentifier": ORDINARY,
        },
    )
    assert "signed with another signing key" in problem(answer, 401, None)["detail"]


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_an_organisation_the_operation_does_not_allow_is_4575(
    app: Any, method: str, path: str
) -> None:
    operation_id = operation_for(method, path).operation_id
    allowed = spec.allowed_organisations(operation_id) or []
    # a client with every scope whose organisation type the operation does not admit
    outsider = "jobcenter-aarhus" if "JobCenter" not in allowed else "star-jobnet"
    assert "STAR" in allowed
    if outsider == "star-jobnet":
        return  # every organisation type admitted: nobody to refuse (CreateTilmelding)
    answer = ContractClient(app, outsider).call(method, path, json={})
    problem(answer, 403, 4575)


def test_enrollment_admits_jobcentres_a_kasser_and_kommuner(app: Any) -> None:
    body = {"klientkategori": 2, "tilmeldingsdato": "2026-11-25T08:00:00+01:00", "ledighedsgrad": 1}
    for client_id in ("jobcenter-aarhus", "akasse-eksempel", "kommune-odense"):
        answer = ContractClient(app, client_id).post("/v1/Tilmelding", json=body)
        assert answer.status_code != 403, f"{client_id}: {answer.text}"


def test_jobagent_is_star_only_even_with_the_scope(app: Any) -> None:
    problem(ContractClient(app, "jobcenter-aarhus").get("/v1/Jobagent"), 403, 4575)


def test_a_missing_scope_is_4575(app: Any) -> None:
    reader = ContractClient(app, "star-readonly")
    problem(reader.post("/v1/Jobagent", json={"titel": "x", "soegeparametre": {}}), 403, 4575)


def test_the_seeds_writeread_scope_reads(app: Any) -> None:
    reader = ContractClient(app, "star-readonly")
    assert reader.get("/v1/Jobagent").status_code == 200


def test_a_token_with_fewer_scopes_asked_for(client: ContractClient) -> None:
    token = token_for(client.http, "star-jobnet", scope="match.jobagent.read")
    answer = client.http.post("/v1/Tilmelding", headers={"Authorization": f"Bearer {token}"})
    problem(answer, 403, 4575)
