"""Sandboxes per client and per x-mock-sandbox, and the /__admin control plane."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ORDINARY, ContractClient, problem, sandboxed, token_for

NEW = {
    "jobagentIdentifier": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "titel": "Kun her",
    "soegeparametre": {},
}


def titles(client: ContractClient) -> list[str]:
    return sorted(a["titel"] for a in client.get("/v1/Jobagent").json()["jobagenter"])


def admin(client: ContractClient, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {client.token}", **kwargs.pop("headers", {})}
    return client.http.request(method, f"/__admin{path}", headers=headers, **kwargs)


def test_two_sandbox_headers_never_see_each_other(client: ContractClient) -> None:
    job_a, job_b = sandboxed(client, "ci-a"), sandboxed(client, "ci-b")
    assert job_a.post("/v1/Jobagent", json=NEW).status_code == 201
    assert "Kun her" in titles(job_a)
    assert "Kun her" not in titles(job_b)
    assert "Kun her" not in titles(client)
    assert job_b.post("/v1/Jobagent", json=NEW).status_code == 201  # same id, other world


def test_two_clients_never_see_each_other(app: Any, client: ContractClient) -> None:
    jobcentre = ContractClient(app, "jobcenter-aarhus")
    body = {"klientkategori": 2, "tilmeldingsdato": "2026-11-25T08:00:00+01:00", "ledighedsgrad": 1}
    for who in (client, jobcentre):
        admin(who, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    assert client.post("/v1/Tilmelding", json=body).status_code == 201
    assert jobcentre.post("/v1/Tilmelding", json=body).status_code == 201  # no 4316 here


def test_request_ids_count_per_sandbox(client: ContractClient) -> None:
    fixed = {"x-requestId": "same-in-both"}
    assert sandboxed(client, "a").post("/v1/Jobagent", json=NEW, headers=fixed).status_code == 201
    assert sandboxed(client, "b").post("/v1/Jobagent", json=NEW, headers=fixed).status_code == 201
    problem(sandboxed(client, "a").post("/v1/Jobagent", json=NEW, headers=fixed), 412, None)


@pytest.mark.parametrize("name", ["", "x" * 65, "with space", "semi;colon", "a/b"])
def test_a_bad_sandbox_name_is_1014(client: ContractClient, name: str) -> None:
    problem(sandboxed(client, name).get("/v1/Jobagent"), 400, 1014)


def test_reset_restores_only_the_callers_sandbox(client: ContractClient) -> None:
    job_a, job_b = sandboxed(client, "a"), sandboxed(client, "b")
    job_a.post("/v1/Jobagent", json=NEW)
    job_b.post("/v1/Jobagent", json=NEW)
    assert admin(client, "POST", "/reset", headers={"x-mock-sandbox": "a"}).status_code == 204
    assert "Kun her" not in titles(job_a)
    assert "Kun her" in titles(job_b)


def test_reset_of_everything_needs_mock_admin(app: Any, client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=NEW)
    problem(admin(client, "POST", "/reset?scope=all"), 403, 4575)
    operator = ContractClient(app, "mock-admin")
    assert admin(operator, "POST", "/reset?scope=all").status_code == 204
    assert "Kun her" not in titles(client)


def test_admin_needs_a_token(client: ContractClient) -> None:
    problem(client.http.post("/__admin/reset"), 401, None)
    problem(client.http.get("/__admin/requests"), 401, None)


def test_journal_newest_first_filtered_and_masked(client: ContractClient) -> None:
    client.get("/v1/Jobagent")
    client.post("/v1/Jobagent", json=dict(NEW, titel=f"Til {ORDINARY}"))
    client.get("/v1/Jobagent/email/x@example.dk", cpr="0101701010")
    entries = admin(client, "GET", "/requests").json()["requests"]
    assert [e["operationId"] for e in entries] == [
        "GetJobagenterPaaEmail",
        "CreateJobagent",
        "GetJobagenter",
    ]
    assert entries[0]["response"]["status"] == 404  # the unknown persona
    created = entries[1]
    assert created["request"]["headers"]["authorization"] == "[redacted]"
    assert created["request"]["headers"]["x-civilregistrationidentifier"] == "150785-xxxx"
    assert "150785-xxxx" in created["request"]["body"] and ORDINARY not in str(entries)
    only_posts = admin(client, "GET", "/requests?operationId=CreateJobagent&status=201").json()
    assert [e["operationId"] for e in only_posts["requests"]] == ["CreateJobagent"]


def test_journal_time_filter_and_clearing(client: ContractClient) -> None:
    admin(client, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    client.get("/v1/Jobagent")
    admin(client, "PUT", "/clock", json={"advanceSeconds": 3600})
    client.get("/v1/Jobagent")
    later = admin(client, "GET", "/requests", params={"since": "2026-11-25T10:30:00+01:00"})
    assert len(later.json()["requests"]) == 1
    assert admin(client, "DELETE", "/requests").status_code == 204
    assert admin(client, "GET", "/requests").json() == {"requests": [], "count": 0}


def test_journal_is_per_sandbox(client: ContractClient) -> None:
    sandboxed(client, "a").get("/v1/Jobagent")
    assert admin(client, "GET", "/requests").json()["requests"] == []
    mine = admin(client, "GET", "/requests", headers={"x-mock-sandbox": "a"}).json()
    assert len(mine["requests"]) == 1


def test_clock_pins_advances_and_releases(client: ContractClient) -> None:
    assert admin(client, "GET", "/clock").json()["pinned"] is False
    pinned = admin(client, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"}).json()
    assert pinned == {"now": "2026-11-25T10:00:00+01:00", "pinned": True}
    moved = admin(client, "PUT", "/clock", json={"advanceSeconds": 86400}).json()
    assert moved["now"] == "2026-11-26T10:00:00+01:00"
    assert admin(client, "DELETE", "/clock").json()["pinned"] is False


def test_the_clock_drives_the_enrollment_date_rule(client: ContractClient) -> None:
    body = {"klientkategori": 2, "tilmeldingsdato": "2026-11-25T08:00:00+01:00", "ledighedsgrad": 1}
    admin(client, "PUT", "/clock", json={"now": "2026-11-26T10:00:00+01:00"})
    problem(client.post("/v1/Tilmelding", json=body), 422, 4749)  # a day later
    admin(client, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    assert client.post("/v1/Tilmelding", json=body).status_code == 201


def test_the_clock_drives_the_booking_date_rule(client: ContractClient) -> None:
    body = {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "bookingStartTime": "2026-11-26T09:00:00+01:00",
        "moedetilbudId": "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60",
        "samtaleformType": 1,
    }
    admin(client, "PUT", "/clock", json={"now": "2026-11-27T10:00:00+01:00"})
    problem(client.post("/v1/Tilmelding/TilmeldOgBook", json=body), 422, 4783)
    admin(client, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    assert client.post("/v1/Tilmelding/TilmeldOgBook", json=body).status_code == 201


def test_request_ids_expire_after_seven_days_of_mock_time(client: ContractClient) -> None:
    admin(client, "PUT", "/clock", json={"now": "2026-11-01T10:00:00+01:00"})
    once = {"x-requestId": "weekly"}
    assert client.post("/v1/Jobagent", json=NEW, headers=once).status_code == 201
    admin(client, "PUT", "/clock", json={"advanceSeconds": 7 * 86400})
    other = dict(NEW, jobagentIdentifier="1f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
    assert client.post("/v1/Jobagent", json=other, headers=once).status_code == 201


def test_personas_and_health_need_no_token(client: ContractClient) -> None:
    personas = client.http.get("/__admin/personas").json()
    dead = {
        "cpr": "0202701405",
        "description": "Død borger: 4405",
        "descriptionEn": "A dead citizen: 4405",
        "fejlkoder": [4405],
    }
    assert dead in personas
    assert all(p["descriptionEn"] for p in personas)  # every persona in Danish and English
    assert client.http.get("/__admin/health").json() == {"status": "ok", "journalDropped": 0}


def test_swagger_ui_authorize_flow_token_request(client: ContractClient) -> None:
    # what Swagger UI's Authorize button sends for client credentials: Basic auth + scopes
    token = token_for(client.http, "star-jobnet", scope="match.jobagent.read")
    answer = client.http.get(
        "/v1/Jobagent",
        headers={"Authorization": f"Bearer {token}", "x-civilRegistrationIdentifier": ORDINARY},
    )
    assert answer.status_code == 200
