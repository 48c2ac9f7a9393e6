"""Jobagent operations through the app: the flows, and every rule with its fejlkode."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.helpers import OTHER, ContractClient, problem

NEW_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


def jobagent(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jobagentIdentifier": NEW_ID,
        "titel": "Lagerarbejde",
        "jobagent": {
            "email": "lise.eksempel@example.dk",
            "udsendelsesinterval": 1,
            "smsNotifikation": False,
        },
        "soegeparametre": {"geografi": {"afstand": {"minafstand": 5, "maxafstand": 30}}},
    }
    body.update(changes)
    return body


def test_create_get_update_verify_delete_then_gone(client: ContractClient) -> None:
    created = client.post("/v1/Jobagent", json=jobagent())
    assert created.status_code == 201
    assert created.content == b""
    assert created.headers["location"] == f"/v1/Jobagent/{NEW_ID}"

    stored = client.get(f"/v1/Jobagent/{NEW_ID}").json()
    assert stored["titel"] == "Lagerarbejde"
    assert stored["jobagent"]["emailVerificeret"] is False
    assert stored["soegeparametre"]["udfraMineKravTilJobsoegning"] is False

    changed = jobagent(titel="Lager og logistik")
    del changed["jobagentIdentifier"]
    assert client.put(f"/v1/Jobagent/{NEW_ID}", json=changed).status_code == 200
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["titel"] == "Lager og logistik"

    assert client.put(f"/v1/Jobagent/{NEW_ID}/VerificereEmail").status_code == 200
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["jobagent"]["emailVerificeret"] is True

    assert client.delete(f"/v1/Jobagent/{NEW_ID}").status_code == 200
    problem(client.get(f"/v1/Jobagent/{NEW_ID}"), 404, 4589)


def test_server_makes_the_identifier_when_the_client_sends_none(client: ContractClient) -> None:
    body = jobagent()
    del body["jobagentIdentifier"]
    location = client.post("/v1/Jobagent", json=body).headers["location"]
    assert client.get(location).json()["titel"] == "Lagerarbejde"


def test_any_text_json_allows_comes_back_as_sent(client: ContractClient) -> None:
    # a lone surrogate is valid JSON text ("\\ud800") that UTF-8 cannot carry: it comes back
    # escaped, as it was sent; Danish letters come back as UTF-8
    titel = "Lærling på Ærø \ud800 og \U0001f600"
    sent = json.dumps(jobagent(titel=titel)).encode()  # ASCII, every other character escaped
    headers = {"Content-Type": "application/json"}
    assert client.post("/v1/Jobagent", content=sent, headers=headers).status_code == 201
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["titel"] == titel
    listed = client.get("/v1/Jobagent").json()["jobagenter"]
    assert titel in [agent["titel"] for agent in listed]


def test_list_shows_the_fixture_saved_searches_and_new_ones(client: ContractClient) -> None:
    before = client.get("/v1/Jobagent").json()["jobagenter"]
    assert len(before) == 2
    client.post("/v1/Jobagent", json=jobagent())
    after = client.get("/v1/Jobagent").json()["jobagenter"]
    assert {a["jobagentIdentifier"] for a in after} - {a["jobagentIdentifier"] for a in before} == {
        NEW_ID
    }


def test_reused_identifier_is_409_and_keeps_the_first(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=jobagent())
    again = client.post("/v1/Jobagent", json=jobagent(titel="Anden"), cpr=OTHER)
    problem(again, 409, None)
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["titel"] == "Lagerarbejde"


def test_another_citizens_jobagent_is_unknown(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=jobagent())
    problem(client.get(f"/v1/Jobagent/{NEW_ID}", cpr=OTHER), 404, 4589)
    problem(client.delete(f"/v1/Jobagent/{NEW_ID}", cpr=OTHER), 404, 4589)
    assert client.get(f"/v1/Jobagent/{NEW_ID}").status_code == 200


def test_update_is_a_full_replacement(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=jobagent())
    replacement = {"titel": "Kun titel", "soegeparametre": {}}
    client.put(f"/v1/Jobagent/{NEW_ID}", json=replacement)
    stored = client.get(f"/v1/Jobagent/{NEW_ID}").json()
    assert "jobagent" not in stored
    assert stored["soegeparametre"] == {"udfraMineKravTilJobsoegning": False}


def test_changing_the_email_unverifies_it(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=jobagent())
    client.put(f"/v1/Jobagent/{NEW_ID}/VerificereEmail")
    same = jobagent(titel="Ny titel")
    client.put(f"/v1/Jobagent/{NEW_ID}", json=same)
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["jobagent"]["emailVerificeret"] is True
    moved = copy.deepcopy(same)
    moved["jobagent"]["email"] = "ny.adresse@example.dk"
    client.put(f"/v1/Jobagent/{NEW_ID}", json=moved)
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["jobagent"]["emailVerificeret"] is False


def test_email_verified_cannot_be_set_by_the_client(client: ContractClient) -> None:
    body = jobagent()
    body["jobagent"]["emailVerificeret"] = True
    client.post("/v1/Jobagent", json=body)
    assert client.get(f"/v1/Jobagent/{NEW_ID}").json()["jobagent"]["emailVerificeret"] is False


def test_verify_works_without_cpr_and_refuses_saved_searches(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=jobagent())
    assert client.put(f"/v1/Jobagent/{NEW_ID}/VerificereEmail", cpr=None).status_code == 200
    saved_search = "8e7d6c5b-4a39-4281-9f0e-d1c2b3a49586"  # fixture, no jobagent part
    problem(client.put(f"/v1/Jobagent/{saved_search}/VerificereEmail"), 404, 4589)
    problem(client.put(f"/v1/Jobagent/{NEW_ID}/VerificereEmail", cpr=OTHER), 404, 4589)


def test_paa_email_matches_case_insensitively_across_citizens(client: ContractClient) -> None:
    client.post("/v1/Jobagent", json=jobagent())
    found = client.get("/v1/Jobagent/email/LISE.Eksempel%40example.DK", cpr=None).json()
    assert [a["jobagentIdentifier"] for a in found["jobagenter"]] == [NEW_ID]
    only_other = client.get("/v1/Jobagent/email/lise.eksempel@example.dk", cpr=OTHER).json()
    assert only_other["jobagenter"] == []


def test_paa_email_refuses_a_malformed_address(client: ContractClient) -> None:
    problem(client.get("/v1/Jobagent/email/not%20an%20address", cpr=None), 400, 9158)


def test_input_names_bind_case_insensitively_and_seed_spellings_work(
    client: ContractClient,
) -> None:
    body = {
        "JobagentIdentifier": NEW_ID,
        "Titel": "Store bogstaver",
        "Jobagent": {
            "EMAIL": "a@example.dk",
            "udesendelsesinterval": 2,
            "smsnotifikation": True,
        },
        "Soegeparametre": {"udMineFraKravTilJobsøgning": True, "ukendtFelt": 1},
    }
    assert client.post("/v1/Jobagent", json=body).status_code == 201
    stored = client.get(f"/v1/Jobagent/{NEW_ID}").json()
    assert stored["jobagent"]["udsendelsesinterval"] == 2
    assert stored["soegeparametre"] == {"udfraMineKravTilJobsoegning": True}


@pytest.mark.parametrize(
    ("soegeparametre", "where"),
    [
        ({"geografi": {"afstand": {"minafstand": 31, "maxafstand": 30}}}, "afstand"),
        ({"geografi": {"rejsetid": {"minafstand": 60, "maxafstand": 30}}}, "rejsetid"),
        (
            {
                "arbejdstid": {
                    "arbejdstidstype": 2,
                    "deltidMinTimer": 30,
                    "deltidMaxTimer": 20,
                }
            },
            "arbejdstid",
        ),
        ({"arbejdstid": {"arbejdstidstype": 2, "deltidMinTimer": 10}}, "arbejdstid"),
    ],
)
def test_rules_across_fields_are_422_1014(
    client: ContractClient, soegeparametre: dict[str, Any], where: str
) -> None:
    body = problem(
        client.post("/v1/Jobagent", json=jobagent(soegeparametre=soegeparametre)), 422, 1014
    )
    assert where in body["detail"]
    problem(client.get(f"/v1/Jobagent/{NEW_ID}"), 404, 4589)


@pytest.mark.parametrize(
    ("change", "fejlkode"),
    [
        ({"soegeparametre": {"geografi": {"afstand": {"maxafstand": -1}}}}, 4698),
        (
            {"soegeparametre": {"arbejdstid": {"arbejdstidstype": 2, "deltidMaxTimer": -5}}},
            4698,
        ),
        (
            {
                "jobagent": {
                    "email": "two@at@example.dk",
                    "udsendelsesinterval": 1,
                    "smsNotifikation": False,
                }
            },
            9158,
        ),
        ({"titel": "x" * 101}, 1014),
        ({"titel": ""}, 1014),
        ({"soegeparametre": {"geografi": {"region": ["9999"]}}}, 1014),
        ({"jobagentIdentifier": "not-a-guid"}, 1014),
        ({"soegeparametre": "none"}, 1014),
    ],
)
def test_contract_violations_carry_the_propertys_fejlkode(
    client: ContractClient, change: dict[str, Any], fejlkode: int
) -> None:
    problem(client.post("/v1/Jobagent", json=jobagent(**change)), 400, fejlkode)


def test_missing_titel_is_1014_and_names_the_field(client: ContractClient) -> None:
    body = jobagent()
    del body["titel"]
    answer = problem(client.post("/v1/Jobagent", json=body), 400, 1014)
    assert "body" in answer["errors"]


def test_dead_citizen_cannot_create_or_update(client: ContractClient) -> None:
    problem(client.post("/v1/Jobagent", json=jobagent(), cpr="0202701405"), 422, 4405)


def test_unknown_hierarchy_element_is_4589(client: ContractClient) -> None:
    areas = {
        "beskaeftigelsesomraade": [
            {"hierarkielementId": "00000000-0000-4000-8000-000000004589", "hierarkitype": 1}
        ]
    }
    answer = client.post("/v1/Jobagent", json=jobagent(soegeparametre={"arbejdsomraade": areas}))
    problem(answer, 422, 4589)


@pytest.mark.parametrize(
    ("cpr", "status", "fejlkode"),
    [
        ("0000000000", 404, 1010),
        ("0101701010", 404, 1010),
        ("3102901234", 400, 1001),
        ("2902831234", 400, 1001),
        ("123", 400, 1001),
        ("0101991234", 200, None),
    ],
)
def test_cpr_header(client: ContractClient, cpr: str, status: int, fejlkode: int | None) -> None:
    answer = client.get("/v1/Jobagent", cpr=cpr)
    if status == 200:
        assert answer.status_code == 200
    else:
        problem(answer, status, fejlkode)


def test_missing_cpr_header_is_1001(client: ContractClient) -> None:
    problem(client.get("/v1/Jobagent", cpr=None), 400, 1001)


def test_a_cpr_in_the_future_is_1001(client: ContractClient) -> None:
    # seventh digit 5 with year 50 is 2050
    problem(client.get("/v1/Jobagent", cpr="0101505000"), 400, 1001)


@pytest.mark.parametrize(
    ("soegeparametre", "warning"),
    [
        (
            {"geografi": {"afstand": {"maxafstand": 9, "fraPostnummer": 8000, "fraKommune": 751}}},
            "fraPostnummer and fraKommune both given: measured from fraPostnummer",
        ),
        ({"arbejdstid": {"arbejdstidstype": 1, "deltidMaxTimer": 20}}, "deltid hours ignored"),
        ({"arbejdstid": {"arbejdstidstype": 1}}, "deltidMaxTimer absent for Fuldtid"),
        ({"geografi": {"rejsetid": {"maxafstand": 30}}}, "rejsetid read as minutes"),
    ],
)
def test_readings_the_seed_leaves_open_are_accepted_with_a_warning(
    client: ContractClient, soegeparametre: dict[str, Any], warning: str
) -> None:
    answer = client.post("/v1/Jobagent", json=jobagent(soegeparametre=soegeparametre))
    assert answer.status_code == 201, answer.text
    assert warning in answer.headers["x-mock-warning"]
    journal = client.http.get(
        "/__admin/requests", headers={"Authorization": f"Bearer {client.token}"}
    ).json()
    assert warning in journal["requests"][0]["response"]["warning"]
