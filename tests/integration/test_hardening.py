"""A corpus of hostile input: each gets its documented 4xx Problem, none a 500, nothing is lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import ORDINARY, ContractClient, problem

KNOWN = "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"  # fixture job agent of 2208921234
OWNER = "2208921234"
VALID = {"titel": "Lager", "soegeparametre": {}}


def everything(client: ContractClient) -> list[Any]:
    return [client.get("/v1/Jobagent", cpr=cpr).json() for cpr in (ORDINARY, OWNER)]


@pytest.fixture
def unchanged(client: ContractClient) -> Any:
    before = everything(client)
    yield
    assert everything(client) == before, "a refused request changed stored data"


def raw_post(client: ContractClient, path: str, content: Any, **headers: str) -> Any:
    """POST bytes (or a generator of chunks, sent without Content-Length) as they are."""
    return client.http.post(
        path,
        content=content,
        headers={
            "Authorization": f"Bearer {client.token}",
            "x-civilRegistrationIdentifier": ORDINARY,
            "x-requestId": "hardening",
            "content-type": "application/json",
            **headers,
        },
    )


def deep(levels: int) -> bytes:
    return b'{"titel": "x", "soegeparametre": ' + b'{"a": ' * levels + b"1" + b"}" * levels + b"}"


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"\xc3\x28", 400),  # invalid UTF-8
        (b"\xff\xfe{\x00}\x00", 400),  # UTF-16 with a BOM, declared as UTF-8
        (deep(100), 201),  # unknown properties are dropped, however deep
        (deep(1000), 400),  # past what a JSON parser should recurse into
        (b"[" * 1000 + b"]" * 1000, 400),
        (json.dumps({"titel": "x", "titel ": "y", "soegeparametre": {}}).encode(), 201),
        (b'{"titel": "a", "titel": "b", "soegeparametre": {}}', 400),  # duplicate keys
        (
            json.dumps(
                {**VALID, "soegeparametre": {"geografi": {"afstand": {"maxafstand": 2**63}}}}
            ).encode(),
            400,
        ),
        (
            json.dumps(
                {**VALID, "soegeparametre": {"geografi": {"afstand": {"maxafstand": -(2**64)}}}}
            ).encode(),
            4698,
        ),
        (
            json.dumps(
                {**VALID, "soegeparametre": {"geografi": {"afstand": {"maxafstand": 1e400}}}}
            )
            .encode()
            .replace(b"Infinity", b"1e400"),
            400,
        ),
        (json.dumps({**VALID, "titel": "\u0000\u001f\u202e"}).encode(), 201),
        (b"x" * 1_000_000, 400),  # 1 MB of garbage, under the limit
        (b'{"titel": "' + b"x" * 1_000_000 + b'", "soegeparametre": {}}', 400),  # too long
    ],
)
def test_hostile_bodies(client: ContractClient, content: bytes, status: int) -> None:
    answer = raw_post(client, "/v1/Jobagent", content)
    if status == 201:
        assert answer.status_code == 201, answer.text
    elif status == 4698:  # a negative number, however large, has its own code
        problem(answer, 400, 4698)
    else:
        problem(answer, status, 1014)


@pytest.mark.usefixtures("unchanged")
def test_ten_megabytes_is_413_and_changes_nothing(client: ContractClient) -> None:
    problem(raw_post(client, "/v1/Jobagent", b"{" + b" " * 10_000_000 + b"}"), 413, 1014)


@pytest.mark.usefixtures("unchanged")
def test_a_chunked_body_over_the_limit_is_413(client: ContractClient) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    answer = raw_post(client, "/v1/Jobagent", chunks(), **{"x-requestId": "chunked"})
    problem(answer, 413, 1014)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/jsonx"],
)
@pytest.mark.usefixtures("unchanged")
def test_wrong_or_missing_content_type(client: ContractClient, content_type: str | None) -> None:
    headers = {
        "Authorization": f"Bearer {client.token}",
        "x-requestId": "ct",
        "x-civilRegistrationIdentifier": ORDINARY,
    }
    if content_type:
        headers["content-type"] = content_type
    answer = client.http.post("/v1/Jobagent", content=b"{}", headers=headers)
    assert answer.status_code in (400, 415)
    problem(answer, answer.status_code, 1014)


@pytest.mark.usefixtures("unchanged")
def test_a_valid_body_without_content_type_is_415(client: ContractClient) -> None:
    # connexion would validate it as JSON, then hand the handler bytes (a 500 before the fix)
    headers = {
        "Authorization": f"Bearer {client.token}",
        "x-requestId": "untyped",
        "x-civilRegistrationIdentifier": ORDINARY,
    }
    answer = client.http.post("/v1/Jobagent", content=json.dumps(VALID).encode(), headers=headers)
    problem(answer, 415, 1014)


@pytest.mark.parametrize("spelling", ["Application/JSON", "APPLICATION/JSON; charset=utf-8"])
def test_a_media_type_in_capitals_is_json_and_validated(
    client: ContractClient, spelling: str
) -> None:
    # media types are case-insensitive; connexion skipped validating such a body before the fix
    invalid = raw_post(
        client,
        "/v1/Jobagent",
        b'{"titel": "", "soegeparametre": {}}',
        **{"content-type": spelling, "x-requestId": "capitals-1"},
    )
    problem(invalid, 400, 1014)
    valid = raw_post(
        client,
        "/v1/Jobagent",
        json.dumps(VALID).encode(),
        **{"content-type": spelling, "x-requestId": "capitals-2"},
    )
    assert valid.status_code == 201, valid.text
    assert client.get(valid.headers["location"]).json()["titel"] == "Lager"


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/Jobagent/{KNOWN}%0A",
        f"/v1/Jobagent/{KNOWN[:-1]}%00",
        "/v1/Jobagent/%0A%0D",
        "/v1/Jobagent/..%2F..%2Fetc%2Fpasswd",
        f"/v1/Jobagent/{KNOWN}%20",
        "/v1/Jobagent/" + "a" * 5000,
    ],
)
@pytest.mark.usefixtures("unchanged")
def test_control_characters_in_path_parameters(client: ContractClient, path: str) -> None:
    answer = client.http.delete(
        path,
        headers={
            "Authorization": f"Bearer {client.token}",
            "x-civilRegistrationIdentifier": OWNER,
            "x-requestId": "path",
        },
    )
    assert answer.status_code in (400, 404), answer.text
    problem(answer, answer.status_code, 1014 if answer.status_code == 400 else None)


@pytest.mark.parametrize(
    ("email", "fejlkode"),
    [
        ("a%0A@example.dk", 1014),
        ("a@example.dk%0A", 1014),
        ("%0D@x", 9158),
        ("a b@x", 9158),
        ("a@" + "b" * 65, 9158),
        ("a@x%09", 9158),
    ],
)
def test_line_breaks_and_white_space_in_the_email_path(
    client: ContractClient, email: str, fejlkode: int
) -> None:
    problem(client.get(f"/v1/Jobagent/email/{email}", cpr=None), 400, fejlkode)


def test_a_chunked_body_under_the_limit_is_read(client: ContractClient) -> None:
    def chunks() -> Any:
        yield json.dumps(VALID).encode()

    answer = raw_post(client, "/v1/Jobagent", chunks(), **{"x-requestId": "chunked-small"})
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "cpr",
    [
        "",
        " 1507851234",
        "1507851234 ",
        "150785-1234",
        "15078512345",
        "150785123",
        "1507851２34",
        "3002901234",
        "2902011234",
        "3106901234",
        "0013901234",
        "0100901234",
        "1513901234",
        "0101575000",
    ],  # the last: 1 Jan 2057 (seventh digit 5), in the future
)
def test_every_cpr_edge_is_1001(client: ContractClient, cpr: str) -> None:
    answer = client.http.get(
        "/v1/Jobagent",
        headers={
            "Authorization": f"Bearer {client.token}",
            "x-civilRegistrationIdentifier": cpr.encode(),
        },
    )
    problem(answer, 400, 1001)
