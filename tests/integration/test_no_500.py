"""The admin and token endpoints answer what they cannot read with a 4xx, never a 500: dates the
contract's format refuses, a form whose bytes are no UTF-8, a token whose claims have odd types."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from tests.helpers import ORDINARY, ContractClient, problem

AARHUS = "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "day", ["2026-02-29", "0000-00-00", "%00", "2026-13-01", "20261201", "2026-1-01"]
)
@pytest.mark.parametrize("bound", ["from", "to"])
def test_a_date_no_calendar_holds_is_400(client: ContractClient, bound: str, day: str) -> None:
    answer = client.get(f"/__admin/slots?moedetilbudId={AARHUS}&{bound}={day}")
    assert "YYYY-MM-DD" in problem(answer, 400, 1014)["detail"]


def test_a_leap_day_is_a_date(client: ContractClient) -> None:
    answer = client.get(f"/__admin/slots?moedetilbudId={AARHUS}&from=2028-02-29")
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("time", ["2026-11-27t08:00:00z", "2026-11-27T08:00:00z"])
def test_a_lower_case_rfc_3339_time_is_read(client: ContractClient, time: str) -> None:
    client.get("/v1/Jobagent")
    answer = client.get(f"/__admin/requests?since={time}")
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "form",
    [
        b"grant_type=client_credentials&client_id=star-jobnet&client_secret=\xff",
        b"\xff",
        b"grant_type=\xff\xfe",
        b"client_id=star-jobnet",
    ],
)
def test_a_form_the_token_endpoint_cannot_read_is_invalid_request(
    client: ContractClient, form: bytes
) -> None:
    answer = client.http.post("/connect/token", content=form, headers=FORM)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == "invalid_request"


def test_another_media_type_at_the_token_endpoint_is_invalid_request(
    client: ContractClient,
) -> None:
    answer = client.http.post("/connect/token", json={"grant_type": "client_credentials"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("exp", ["99999999999", [99999999999], None])
def test_a_signed_token_whose_exp_is_no_number_is_401_every_time(
    app: Any, client: ContractClient, exp: Any
) -> None:
    claims = {
        "iss": "jobagent-mock",
        "sub": "star-jobnet",
        "iat": 1,
        "exp": exp,
        "scope": "match.jobagent.read",
        "organisationType": "STAR",
        "organisationCode": "STAR",
    }
    key = app.app.config["JOBAGENT_MOCK_AUTHORITY"]._key
    token = jwt.encode(claims, key, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}", "x-civilRegistrationIdentifier": ORDINARY}
    for _ in range(3):  # the first use was answered; every later one was a 500
        problem(client.http.get("/v1/Jobagent", headers=headers), 401, None)


def test_an_unknown_key_in_an_admin_body_is_refused_as_admin_yaml_says(
    client: ContractClient,
) -> None:
    """admin.yaml closes its bodies (additionalProperties: false); the business binder's
    ASP.NET habit of dropping unknown names must not open them (schemathesis found it)."""
    scenario = {"operationId": "GetJobagenter", "respond": [{"status": 404}]}
    unknown = {**scenario, "match": {"cpr": ORDINARY, "x-unknown": 42}}
    assert problem(client.post("/__admin/scenarios", json=unknown), 400, 1014)
    assert client.get("/__admin/scenarios").json() == {"scenarios": []}
