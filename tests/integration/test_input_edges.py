"""Input that once reached a 500 (issue 14): each is now the 400 or 401 problem a client expects."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from jobagent_mock.web.limits import MAX_HEADER_BYTES
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


def admin(client: ContractClient, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {client.token}"}
    return client.http.request(method, f"/__admin{path}", headers=headers, **kwargs)


@pytest.mark.parametrize(
    "change",
    [
        {"now": "9999-12-31T23:59:59Z"},
        {"now": "3000-01-01T00:00:00Z"},
        {"now": "0001-01-01T00:00:00+14:00"},
        {"now": "1899-12-31T23:59:59Z"},
    ],
)
def test_a_clock_the_rules_cannot_compute_with_is_refused_and_not_stored(
    client: ContractClient, change: dict[str, Any]
) -> None:
    body = problem(admin(client, "PUT", "/clock", json=change), 400, 1014)
    assert "body.now" in body["errors"]
    assert admin(client, "GET", "/clock").json()["pinned"] is False
    assert client.get("/v1/Jobagent").status_code == 200


def test_advancing_past_the_range_is_refused_and_leaves_the_clock(client: ContractClient) -> None:
    admin(client, "PUT", "/clock", json={"now": "2999-12-01T00:00:00Z"})
    before = admin(client, "GET", "/clock").json()
    problem(admin(client, "PUT", "/clock", json={"advanceSeconds": 315360000}), 400, 1014)
    assert admin(client, "GET", "/clock").json() == before


@pytest.mark.parametrize("edge", ["1900-01-01T00:00:00Z", "2999-12-31T23:59:59Z"])
def test_every_operation_computes_at_the_edges_of_the_clock(
    client: ContractClient, edge: str
) -> None:
    assert admin(client, "PUT", "/clock", json={"now": edge}).status_code == 200
    enrollment = {"klientkategori": 2, "tilmeldingsdato": edge, "ledighedsgrad": 1}
    booking = {
        **enrollment,
        "bookingStartTime": edge,
        "moedetilbudId": "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60",
        "samtaleformType": 1,
        "sagsbehandlerEksterntId": "CVR:12345678-RID:87654321",
    }
    answers = [
        client.get("/v1/Jobagent"),
        client.post("/v1/Jobagent", json={"titel": "Lager", "soegeparametre": {}}),
        client.post("/v1/Tilmelding", json=enrollment),
        client.post("/v1/Tilmelding/TilmeldOgBook", json=booking),
        client.post("/v1/Tilmelding", json=enrollment, headers={"x-requestId": "edge"}),
        client.post("/v1/Tilmelding", json=enrollment, headers={"x-requestId": "edge"}),
        admin(client, "GET", "/requests"),
    ]
    assert all(answer.status_code < 500 for answer in answers), [a.text for a in answers]


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("x-civilRegistrationIdentifier", ORDINARY, "2208921234"),
        ("Authorization", None, "Bearer another"),
        ("x-requestId", "dup-1", "dup-2"),
        ("x-mock-sandbox", "ci-a", "ci-b"),
    ],
)
@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast lane", "full stack"])
def test_two_different_values_of_a_naming_header_are_a_400(
    client: ContractClient, name: str, first: str | None, second: str, fast_lane: bool
) -> None:
    first = first or f"Bearer {client.token}"
    headers = {
        "Authorization": f"Bearer {client.token}",
        "x-civilRegistrationIdentifier": ORDINARY,
        "x-requestId": "dup-0",
    }
    headers.pop(name, None)
    pairs = [*headers.items(), (name, first), (name, second)]
    if not fast_lane:
        pairs.append(("Prefer", "return=minimal"))  # a Prefer header: the lane steps aside
    body = {"titel": "Dobbelt", "soegeparametre": {}}
    before = client.get("/v1/Jobagent").json()
    answer = client.http.post("/v1/Jobagent", json=body, headers=pairs)
    refused = problem(answer, 400, 1014)
    assert f"header.{name}" in refused["errors"]
    assert client.get("/v1/Jobagent").json() == before


def test_the_same_value_twice_is_one_value(client: ContractClient) -> None:
    pairs = [
        ("Authorization", f"Bearer {client.token}"),
        ("x-civilRegistrationIdentifier", ORDINARY),
        ("x-civilRegistrationIdentifier", ORDINARY),
    ]
    assert client.http.get("/v1/Jobagent", headers=pairs).status_code == 200


@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast lane", "full stack"])
def test_oversized_headers_are_a_431_problem(client: ContractClient, fast_lane: bool) -> None:
    headers = {
        "Authorization": f"Bearer {client.token}",
        "x-civilRegistrationIdentifier": ORDINARY,
        "x-padding": "p" * (MAX_HEADER_BYTES + 1),
    }
    if not fast_lane:
        headers["Prefer"] = "return=minimal"
    refused = problem(client.http.get("/v1/Jobagent", headers=headers), 431, None)
    assert str(MAX_HEADER_BYTES) in refused["detail"]
    del headers["x-padding"]
    assert client.http.get("/v1/Jobagent", headers=headers).status_code == 200


def test_a_journal_entry_is_capped_whatever_the_request_carried(client: ContractClient) -> None:
    many = {f"x-h{n}": "v" * 1000 for n in range(30)}  # 30 KB: under the 431 limit
    client.post(
        "/v1/Jobagent",
        json={"titel": "t" * 200_000, "soegeparametre": {}},
        headers=many,
    )
    answer = client.http.get(
        "/__admin/requests", headers={"Authorization": f"Bearer {client.token}"}
    )
    entry = answer.json()["requests"][0]
    assert len(json.dumps(entry)) < 32 * 1024
    assert entry["request"]["body"].endswith("in all]")
    assert entry["request"]["headers"]["…"].endswith("the rest left out]")


@pytest.mark.parametrize(
    "instant",
    [
        "9999-12-31T23:59:59Z",  # a valid instant, past year 9999 in Danish time
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
    ],
)
@pytest.mark.parametrize("field", ["tilmeldingsdato", "haendelsesdato", "bookingStartTime"])
def test_a_timestamp_at_the_edge_of_the_calendar_is_never_a_500(
    client: ContractClient, instant: str, field: str
) -> None:
    body = {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-30T08:00:00+01:00",
        "ledighedsgrad": 1,
        "moedetilbudId": "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60",
        "samtaleformType": 1,
        "sagsbehandlerEksterntId": "CVR:12345678-RID:87654321",
        "bookingStartTime": "2026-12-01T09:00:00+01:00",
        field: instant,
    }
    for path in ("/v1/Tilmelding", "/v1/Tilmelding/TilmeldOgBook"):
        answer = client.post(path, json=body)  # a documented answer (ContractClient checks)
        assert answer.status_code < 500, answer.text  # a far past event date may well pass
