"""Scenarios through the app: scripted answers only as the contract documents them, one step a
matching request, nothing stored by a scripted answer, and the journal's verification."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import ORDINARY, OTHER, ContractClient, problem
from tests.integration.test_tilmelding import enrollment

JOBAGENT = "/v1/Jobagent"


def admin(client: ContractClient, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {client.token}", **kwargs.pop("headers", {})}
    return client.http.request(method, f"/__admin{path}", headers=headers, **kwargs)


def script(client: ContractClient, **definition: Any) -> dict[str, Any]:
    answer = admin(client, "POST", "/scenarios", json=definition)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == f"/__admin/scenarios/{answer.json()['id']}"
    return dict(answer.json())


def enroll(client: ContractClient, cpr: str = ORDINARY, request_id: str | None = None) -> Any:
    headers = {"x-requestId": request_id} if request_id else {}
    return client.post("/v1/Tilmelding", json=enrollment(), cpr=cpr, headers=headers)


def requests(client: ContractClient, query: str) -> dict[str, Any]:
    answer = admin(client, "GET", f"/requests?{query}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.usefixtures("pinned_clock")
def test_the_retry_story(client: ContractClient) -> None:
    """Two 503/9147 with Retry-After, then the enrollment is made; the journal counts three and
    names the scenario on the first two."""
    scenario = script(
        client,
        operationId="CreateTilmelding",
        match={"cpr": ORDINARY, "body": {"klientkategori": 1}},
        respond=[{"fejlkode": 9147}, {"fejlkode": 9147}],
    )
    for _ in range(2):
        refused = enroll(client)
        problem(refused, 503, 9147)
        assert refused.headers["Retry-After"] == "5"
    assert enroll(client).status_code == 201
    journal = requests(client, "operationId=CreateTilmelding")
    assert journal["count"] == 3
    assert [e.get("scenario") for e in journal["requests"]] == [
        None,
        scenario["id"],
        scenario["id"],
    ]
    assert requests(client, f"scenario={scenario['id']}")["count"] == 2
    assert requests(client, "fejlkode=9147")["count"] == 2
    shown = admin(client, "GET", f"/scenarios/{scenario['id']}").json()
    assert (shown["hits"], shown["remaining"]) == (2, 0)


@pytest.fixture
def pinned_clock(client: ContractClient) -> None:
    admin(client, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"})


@pytest.mark.usefixtures("pinned_clock")
def test_a_scripted_answer_stores_nothing_and_claims_no_request_id(client: ContractClient) -> None:
    script(client, operationId="CreateTilmelding", respond=[{"fejlkode": 9147}])
    problem(enroll(client, request_id="retried-1"), 503, 9147)
    assert enroll(client, request_id="retried-1").status_code == 201  # not 412: never claimed
    problem(enroll(client), 409, 4644)  # the one enrollment made is the second's


def test_a_match_selects_by_citizen_and_by_body_field_in_any_spelling(
    client: ContractClient,
) -> None:
    script(
        client,
        operationId="GetJobagenter",
        match={"cpr": OTHER},
        respond=[{"status": 404}],
        then="repeat",
    )
    script(
        client,
        operationId="CreateJobagent",
        match={"body": {"TITEL": "Scripted"}},
        respond=[{"fejlkode": 4405}],
        then="repeat",
    )
    assert client.get(JOBAGENT, cpr=ORDINARY).status_code == 200
    problem(client.get(JOBAGENT, cpr=OTHER), 404, 1010)  # the status's example
    body = {"titel": "Scripted", "soegeparametre": {}}
    problem(client.post(JOBAGENT, json=body), 422, 4405)
    assert client.post(JOBAGENT, json={**body, "titel": "Other"}).status_code == 201


def test_the_oldest_match_wins_and_a_used_up_one_gives_way(client: ContractClient) -> None:
    first = script(client, operationId="GetJobagenter", respond=[{"status": 404}])
    second = script(client, operationId="GetJobagenter", respond=[{"fejlkode": 1001}])
    problem(client.get(JOBAGENT), 404, 1010)
    problem(client.get(JOBAGENT), 400, 1001)
    assert client.get(JOBAGENT).status_code == 200  # both used up: the rules answer
    hits = {s["id"]: s["hits"] for s in admin(client, "GET", "/scenarios").json()["scenarios"]}
    assert hits == {first["id"]: 1, second["id"]: 1}


def test_pass_and_latency_answer_normally_and_count_a_step(client: ContractClient) -> None:
    scenario = script(
        client,
        operationId="GetJobagenter",
        respond=[{"pass": True}, {"latencyMs": 1}, {"latencyMs": 1, "status": 404}],
    )
    assert client.get(JOBAGENT).status_code == 200
    assert client.get(JOBAGENT).status_code == 200
    problem(client.get(JOBAGENT), 404, 1010)
    assert admin(client, "GET", f"/scenarios/{scenario['id']}").json()["hits"] == 3
    journal = requests(client, f"scenario={scenario['id']}")
    assert journal["count"] == 3  # named by the scenario; only the scripted 404 is forced
    assert [e.get("forced", False) for e in journal["requests"]] == [True, False, False]


def test_an_unauthenticated_request_stays_401_and_takes_no_step(client: ContractClient) -> None:
    scenario = script(client, operationId="GetJobagenter", respond=[{"status": 404}])
    answer = client.http.get(JOBAGENT, headers={"x-civilRegistrationIdentifier": ORDINARY})
    assert answer.status_code == 401
    assert admin(client, "GET", f"/scenarios/{scenario['id']}").json()["hits"] == 0


def test_scenarios_are_listed_deleted_and_cleared_by_reset(client: ContractClient) -> None:
    kept = script(client, operationId="GetJobagenter", respond=[{"status": 404}], then="repeat")
    gone = script(client, operationId="GetJobagent", respond=[{"fejlkode": 4589}])
    listed = admin(client, "GET", "/scenarios").json()["scenarios"]
    assert [s["id"] for s in listed] == [kept["id"], gone["id"]]
    assert listed[0]["remaining"] is None  # repeats until deleted
    assert admin(client, "DELETE", f"/scenarios/{gone['id']}").status_code == 204
    assert admin(client, "GET", f"/scenarios/{gone['id']}").status_code == 404
    assert admin(client, "DELETE", f"/scenarios/{gone['id']}").status_code == 404
    other = admin(client, "GET", "/scenarios", headers={"x-mock-sandbox": "other"})
    assert other.json() == {"scenarios": []}  # per sandbox
    assert admin(client, "POST", "/reset").status_code == 204
    assert admin(client, "GET", "/scenarios").json() == {"scenarios": []}
    assert client.get(JOBAGENT).status_code == 200


@pytest.mark.parametrize(
    ("definition", "names"),
    [
        ({"operationId": "Nope", "respond": [{"pass": True}]}, ["CreateTilmelding", "GetJobagent"]),
        ({"operationId": "GetJobagent", "respond": [{"fejlkode": 4819}]}, ["1010", "4589"]),
        ({"operationId": "GetJobagent", "respond": [{"status": 503}]}, ["200", "404"]),
        (
            {"operationId": "GetJobagent", "respond": [{"fejlkode": 4589, "status": 400}]},
            ["404"],
        ),
        ({"operationId": "GetJobagent", "respond": [{"fault": "boom"}]}, ["reset", "slow"]),
        ({"operationId": "GetJobagent", "respond": []}, ["non-empty"]),
        ({"operationId": "GetJobagent", "respond": [{"latencyMs": 60001}]}, ["60000"]),
        (
            {"operationId": "CreateJobagent", "match": {"body": {"nope": 1}}, "respond": [{}]},
            ["non-empty", "minProperties"],
        ),
        (
            {
                "operationId": "CreateJobagent",
                "match": {"body": {"nope": 1}},
                "respond": [{"pass": True}],
            },
            ["titel", "soegeparametre"],
        ),
        ({"operationId": "GetJobagent", "respond": [{"fault": "reset", "status": 404}]}, []),
    ],
)
def test_what_the_contract_does_not_document_is_a_400_naming_what_it_does(
    client: ContractClient, definition: dict[str, Any], names: list[str]
) -> None:
    answer = admin(client, "POST", "/scenarios", json=definition)
    assert answer.status_code == 400, answer.text
    assert answer.json()["fejlkode"] == 1014
    detail = answer.json()["detail"]
    assert not names or any(name in detail for name in names), detail
    assert admin(client, "GET", "/scenarios").json() == {"scenarios": []}


def test_a_sandbox_holds_at_most_100_scenarios(client: ContractClient) -> None:
    for _ in range(100):
        script(client, operationId="GetJobagenter", respond=[{"pass": True}])
    answer = admin(
        client, "POST", "/scenarios", json={"operationId": "GetJobagenter", "respond": [{}]}
    )
    assert answer.status_code == 400
    refused = admin(
        client,
        "POST",
        "/scenarios",
        json={"operationId": "GetJobagenter", "respond": [{"pass": True}]},
    )
    assert refused.status_code == 400 and "at most 100" in refused.json()["detail"]


def test_prefer_fault_names_the_faults(client: ContractClient) -> None:
    answer = client.get(JOBAGENT, headers={"Prefer": "fault=boom"})
    problem(answer, 400, 1014)
    assert "reset, empty, malformed, slow" in answer.json()["detail"]


def test_the_cpr_filter_matches_the_masked_journal_and_never_echoes_it(
    client: ContractClient,
) -> None:
    client.get(JOBAGENT, cpr=ORDINARY)
    client.get(JOBAGENT, cpr=OTHER)
    answer = admin(client, "GET", f"/requests?cpr={ORDINARY}")
    assert answer.json()["count"] == 1
    assert ORDINARY not in answer.text


def test_coverage_counts_forced_answers_apart(client: ContractClient) -> None:
    script(client, operationId="GetJobagenter", respond=[{"status": 404}])
    client.get(JOBAGENT)  # scripted 404/1010
    client.get(JOBAGENT, headers={"Prefer": "code=404"})  # forced by Prefer
    client.get(JOBAGENT, cpr="0101991234")  # a natural 200
    found = admin(client, "GET", "/coverage").json()
    operation = next(o for o in found["operations"] if o["operationId"] == "GetJobagenter")
    outcomes = {(o["status"], o["fejlkode"]): o for o in operation["outcomes"]}
    assert (outcomes[404, 1010]["count"], outcomes[404, 1010]["forced"]) == (2, 2)
    assert outcomes[404, 1010]["exercised"] and not outcomes[404, 1010]["exercisedNaturally"]
    assert outcomes[200, None]["exercisedNaturally"]
    totals = found["totals"]
    assert totals["exercised"] == totals["exercisedNaturally"] + 1


STEPS = st.fixed_dictionaries(
    {},
    optional={
        "fejlkode": st.integers(-5, 10_000),
        "status": st.integers(0, 700),
        "latencyMs": st.integers(-1, 70_000),
        "fault": st.sampled_from(["reset", "empty", "malformed", "slow", "boom"]),
        "pass": st.sampled_from([True, False, None, 1]),
        "other": st.text(max_size=5),
    },
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
DEFINITIONS = st.fixed_dictionaries(
    {},
    optional={
        "operationId": st.sampled_from(["CreateTilmelding", "GetJobagent", "TilmeldOgBook", ""])
        | st.text(max_size=12),
        "match": st.fixed_dictionaries(
            {},
            optional={
                "cpr": st.text(max_size=12) | st.integers(),
                "body": st.dictionaries(
                    st.sampled_from(["klientkategori", "KlientKategori", "titel", "a.b", ""])
                    | st.text(max_size=12),
                    JSON,
                    max_size=3,
                )
                | JSON,
            },
        )
        | JSON,
        "respond": st.lists(STEPS, max_size=3) | JSON,
        "then": st.sampled_from(["pass", "repeat", "again"]) | JSON,
    },
)


@given(definition=DEFINITIONS | JSON)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_scenario_input_is_a_5xx(client: ContractClient, definition: Any) -> None:
    answer = admin(client, "POST", "/scenarios", json=definition)
    assert answer.status_code in (201, 400), answer.text
    if answer.status_code == 201:
        scenario_id = answer.json()["id"]
        assert admin(client, "GET", f"/scenarios/{scenario_id}").status_code == 200
        assert admin(client, "DELETE", f"/scenarios/{scenario_id}").status_code == 204


def test_the_console_and_the_docs_site_show_the_scenario_operations(
    client: ContractClient, tmp_path: Any
) -> None:
    from jobagent_mock.contract import docs

    served = client.http.get("/__admin/openapi.json").json()
    assert {"post", "get"} <= served["paths"]["/scenarios"].keys()
    assert {"get", "delete"} <= served["paths"]["/scenarios/{id}"].keys()
    assert client.http.get("/__admin/ui/").status_code == 200
    docs.build_site(tmp_path)
    page = (tmp_path / "admin.html").read_text(encoding="utf-8")
    assert all(op in page for op in ("PostScenarios", "GetScenarios", "DeleteScenario"))


@given(scenario_id=st.text(max_size=80))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_scenario_id_is_a_5xx(client: ContractClient, scenario_id: str) -> None:
    from urllib.parse import quote

    path = f"/scenarios/{quote(scenario_id, safe='')}"
    for method in ("GET", "DELETE"):
        assert admin(client, method, path).status_code < 500
