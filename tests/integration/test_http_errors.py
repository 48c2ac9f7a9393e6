"""Refusals that are not business rules: routing, media types, broken bodies, replayed request ids.

Each gets the contract's Problem body with its status; none gets a 500; nothing stored is lost.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.helpers import ORDINARY, ContractClient, problem

VALID = {
    "jobagentIdentifier": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "titel": "Lager",
    "soegeparametre": {},
}


def headers(client: ContractClient, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {client.token}",
        "x-civilRegistrationIdentifier": ORDINARY,
        "x-requestId": "fixed-id",
        **extra,
    }


def stored_titles(client: ContractClient) -> list[str]:
    return sorted(a["titel"] for a in client.get("/v1/Jobagent").json()["jobagenter"])


def test_unknown_path_is_a_404_problem(client: ContractClient) -> None:
    problem(client.http.get("/v1/Ukendt", headers=headers(client)), 404, None)


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/Jobagent", "GET, POST"),
        ("/v1/Jobagent/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "DELETE, GET, PUT"),
        ("/v1/Tilmelding", "POST"),
    ],
)
def test_405_names_every_allowed_method(client: ContractClient, path: str, allow: str) -> None:
    answer = client.http.patch(path, headers=headers(client))
    problem(answer, 405, None)
    assert answer.headers["allow"] == allow


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b'{"titel": "a", "titel": "b", "soegeparametre": {}}', "application/json", 400),
        (b'{"titel": NaN, "soegeparametre": {}}', "application/json", 400),
        (b"[" * 1000 + b"]" * 1000, "application/json", 400),
        (b"{", "application/json", 400),
        (b"", "application/json", 400),
        (b"titel=x", "application/x-www-form-urlencoded", 415),
        (b"{}", "text/plain", 415),
        (b'{"titel": "a"}', "application/json; charset=latin-99", 400),
    ],
)
def test_broken_bodies_are_refused_and_lose_nothing(
    client: ContractClient, content: bytes, content_type: str, status: int
) -> None:
    before = stored_titles(client)
    answer = client.http.post(
        "/v1/Jobagent", content=content, headers=headers(client, **{"content-type": content_type})
    )
    problem(answer, status, 1014)
    assert stored_titles(client) == before


def test_unknown_query_parameter_is_1014(client: ContractClient) -> None:
    problem(client.get("/v1/Jobagent?side=2"), 400, 1014)


@pytest.mark.parametrize("request_id", ["", "x" * 47])
def test_request_id_is_1_to_46_characters(client: ContractClient, request_id: str) -> None:
    answer = client.post("/v1/Jobagent", json=VALID, headers={"x-requestId": request_id})
    problem(answer, 400, 1014)


def test_missing_request_id_on_a_write_is_1014(client: ContractClient) -> None:
    answer = client.http.post(
        "/v1/Jobagent",
        json=VALID,
        headers={
            "Authorization": f"Bearer {client.token}",
            "x-civilRegistrationIdentifier": ORDINARY,
        },
    )
    problem(answer, 400, 1014)


def test_a_replayed_request_id_is_412_and_changes_nothing(client: ContractClient) -> None:
    first = client.post("/v1/Jobagent", json=VALID, headers={"x-requestId": "once"})
    assert first.status_code == 201
    replay = dict(VALID, titel="Ændret", jobagentIdentifier="1f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
    body = problem(
        client.post("/v1/Jobagent", json=replay, headers={"x-requestId": "once"}), 412, None
    )
    assert body["requestId"] == "once"
    assert "Ændret" not in stored_titles(client)


def test_a_request_id_counts_across_operations_but_not_for_reads(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=VALID, headers={"x-requestId": "shared"})
    assert client.get("/v1/Jobagent", headers={"x-requestId": "shared"}).status_code == 200
    problem(
        client.delete(
            f"/v1/Jobagent/{VALID['jobagentIdentifier']}", headers={"x-requestId": "shared"}
        ),
        412,
        None,
    )


def test_concurrent_requests_with_one_request_id_succeed_once(client: ContractClient) -> None:
    answers: list[Any] = []

    def create(index: int) -> None:
        body = dict(VALID, jobagentIdentifier=f"{index:08d}-4b5a-4968-8776-a5b4c3d2e1f0")
        answers.append(
            client.http.post(
                "/v1/Jobagent", json=body, headers=headers(client, **{"x-requestId": "race"})
            )
        )

    threads = [threading.Thread(target=create, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201] + [412] * 15
    assert stored_titles(client).count("Lager") == 1


def test_concurrent_creates_lose_nothing(client: ContractClient) -> None:
    def create(index: int) -> None:
        body = dict(
            VALID,
            titel=f"Agent {index}",
            jobagentIdentifier=f"{index:08d}-4b5a-4968-8776-a5b4c3d2e1f0",
        )
        client.http.post(
            "/v1/Jobagent", json=body, headers=headers(client, **{"x-requestId": f"id-{index}"})
        )

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    titles = stored_titles(client)
    assert sorted(t for t in titles if t.startswith("Agent ")) == sorted(
        f"Agent {i}" for i in range(20)
    )


@pytest.mark.parametrize(
    ("where", "value", "words"),
    [
        ("cpr", "31028512", "a CPR number: DDMMYY followed by 4 digits"),
        ("email", "ikke-en-adresse", "an e-mail address: up to 191 characters, @, then"),
        ("id", "ikke-en-guid", "a GUID: 8-4-4-4-12 hexadecimal digits"),
    ],
)
def test_a_malformed_value_is_told_in_words_never_as_a_pattern(
    client: ContractClient, where: str, value: str, words: str
) -> None:
    """The detail names the expected form (the contract's x-expected), not a regular expression."""
    paths = {"email": f"/v1/Jobagent/email/{value}", "id": f"/v1/Jobagent/{value}"}
    cpr = value if where == "cpr" else ORDINARY
    body = client.get(paths.get(where, "/v1/Jobagent"), cpr=cpr).json()
    assert words in body["detail"]
    assert "^" not in body["detail"] and "[0-9" not in str(body["errors"])


def test_a_malformed_date_is_told_in_words(client: ContractClient) -> None:
    body = {"klientkategori": 2, "tilmeldingsdato": "27-11-2026", "ledighedsgrad": 1}
    detail = client.post("/v1/Tilmelding", json=body).json()["detail"]
    assert detail == (
        'body.tilmeldingsdato: "27-11-2026" is not a date and time (ISO 8601): '
        "YYYY-MM-DDThh:mm:ss, with an offset (+01:00 or Z), or without one for Danish local time"
    )
