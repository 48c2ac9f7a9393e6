"""Input that once reached a 500 (issue 14): each is now the 400 or 401 problem a client expects."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.helpers import ORDINARY, ContractClient, problem

GOOD_CLAIMS = {
    "iss": "jobagent-mock",
    "sub": "star-jobnet",
    "scope": "match.jobagent.read match.jobagent.write visiteringogstatus.write",
    "organisationType": "STAR",
    "organisationCode": "STAR",
}


def signed(app: Any, **claims: Any) -> str:
    """A token signed with the mock's own key (as `--signing-key` lets anyone make one)."""
    now = int(time.time())
    body = {**GOOD_CLAIMS, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, app.app.config["JOBAGENT_MOCK_AUTHORITY"]._key, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": ["match.jobagent.read"]},
        {"scope": 42},
        {"scope": None},
        {"organisationType": None},
        {"organisationType": ["STAR"]},
        {"organisationType": {"type": "STAR"}},
        {"organisationCode": 751},
        {"sub": ["star-jobnet"]},
    ],
    ids=repr,
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/Jobagent"), ("POST", "/v1/Tilmelding")])
def test_a_signed_token_of_another_shape_is_401(
    app: Any, client: ContractClient, claims: dict[str, Any], method: str, path: str
) -> None:
    answer = client.http.request(
        method,
        path,
        json={},
        headers={
            "Authorization": f"Bearer {signed(app, **claims)}",
            "x-civilRegistrationIdentifier": ORDINARY,
            "x-requestId": "shape-1",
        },
    )
    problem(answer, 401, None)
    assert "invalid_token" in answer.headers["www-authenticate"]


def test_the_well_shaped_token_is_accepted(app: Any, client: ContractClient) -> None:
    answer = client.http.get(
        "/v1/Jobagent",
        headers={
            "Authorization": f"Bearer {signed(app)}",
            "x-civilRegistrationIdentifier": ORDINARY,
        },
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "prefer",
    [
        "latency=" + "9" * 4301,
        "code=" + "4" * 4301,
        "fejlkode=" + "1" * 4301,
        "latency=" + "0" * 5000 + "1",  # leading zeros: a small number, spelt long
        "code=²",  # a digit to str.isdigit(), none to int()
        "latency=١٠",  # Arabic-Indic digits, sent as UTF-8
    ],
    ids=lambda p: p[:24],
)
def test_a_prefer_number_past_any_limit_is_a_400(client: ContractClient, prefer: str) -> None:
    raw = prefer.encode("latin-1" if prefer.isascii() or "²" in prefer else "utf-8")
    answer = client.get("/v1/Jobagent", headers={"Prefer": raw})
    if prefer.startswith("latency=0"):
        assert answer.status_code == 200, answer.text  # 1 ms: within the limit
    else:
        problem(answer, 400, 1014)


@pytest.mark.parametrize("length", [b"9" * 4301, "²".encode("latin-1"), b"0" * 4000 + b"12"])
def test_a_content_length_that_is_no_byte_count_is_a_400(
    client: ContractClient, length: bytes
) -> None:
    answer = client.http.post(
        "/v1/Jobagent",
        content=b'{"titel": "Lager", "soegeparametre": {}}',
        headers={
            "Authorization": f"Bearer {client.token}",
            "x-civilRegistrationIdentifier": ORDINARY,
            "x-requestId": "length-1",
            "content-type": "application/json",
            "content-length": length,
        },
    )
    problem(answer, 400, 1014)
