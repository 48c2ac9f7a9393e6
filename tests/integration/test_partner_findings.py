"""What a new partner tripped over in the scenario API, the journal's filters and Prefer: each a
400 that names what is allowed, never a silent 201 or a count of 0."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ORDINARY, ContractClient
from tests.integration.test_scenarios import admin


@pytest.mark.parametrize(
    ("definition", "unknown", "allowed"),
    [
        (
            {
                "operationId": "CreateTilmelding",
                "respond": [{"status": 503}],
                "mtach": {"cpr": ORDINARY},
            },
            "mtach",
            ["match", "respond", "then"],
        ),
        (
            {
                "operationId": "CreateTilmelding",
                "match": {"cpr": ORDINARY, "header": {"x": "y"}},
                "respond": [{"status": 503}],
            },
            "header",
            ["cpr", "body"],
        ),
        (
            {"operationId": "GetJobagenter", "respond": [{"pass": True}], "repeat": True},
            "repeat",
            ["then"],
        ),
        (
            {"operationId": "CreateTilmelding", "respond": [{"fejlcode": 9147, "latencyMs": 100}]},
            "fejlcode",
            ["fejlkode", "latencyMs"],
        ),
        (
            {"operationId": "CreateTilmelding", "respond": [{"fejlcode": 9147}]},
            "fejlcode",
            ["fejlkode", "status", "fault"],
        ),
    ],
)
def test_an_unknown_scenario_field_is_a_400_naming_it_and_the_allowed_ones(
    client: ContractClient, definition: dict[str, Any], unknown: str, allowed: list[str]
) -> None:
    answer = admin(client, "POST", "/scenarios", json=definition)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert unknown in detail and all(name in detail for name in allowed), detail
    assert admin(client, "GET", "/scenarios").json() == {"scenarios": []}


def test_a_business_body_still_ignores_unknown_keys_as_asp_net_does(client: ContractClient) -> None:
    from tests.integration.test_tilmelding import enrollment

    admin(client, "PUT", "/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    answer = client.post("/v1/Tilmelding", json={**enrollment(), "mtach": 1}, cpr=ORDINARY)
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("match", "names"),
    [
        ({"cpr": "150785-1234"}, ["150785-1234", "CPR"]),
        ({"body": {"klientkategori": "abc"}}, ["klientkategori", "integer"]),
    ],
)
def test_a_match_value_the_field_cannot_hold_is_a_400(
    client: ContractClient, match: dict[str, Any], names: list[str]
) -> None:
    definition = {"operationId": "CreateTilmelding", "match": match, "respond": [{"status": 503}]}
    answer = admin(client, "POST", "/scenarios", json=definition)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert all(name in detail for name in names), detail


def test_a_match_value_the_field_can_hold_is_taken(client: ContractClient) -> None:
    definition = {
        "operationId": "CreateTilmelding",
        "match": {"cpr": ORDINARY, "body": {"KlientKategori": 1}},
        "respond": [{"status": 503}],
    }
    assert admin(client, "POST", "/scenarios", json=definition).status_code == 201


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("operationId=GetJobagenterr", ["GetJobagenter", "CreateTilmelding"]),
        ("cpr=12", ["ten digits"]),
        ("cpr=150785-1234", ["ten digits"]),
    ],
)
def test_a_journal_filter_with_a_typo_is_a_400_not_a_count_of_0(
    client: ContractClient, query: str, names: list[str]
) -> None:
    client.get("/v1/Jobagent", cpr=ORDINARY)
    answer = admin(client, "GET", f"/requests?{query}")
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert all(name in detail for name in names), detail


def test_a_journal_filter_spelled_right_counts(client: ContractClient) -> None:
    client.get("/v1/Jobagent", cpr=ORDINARY)
    answer = admin(client, "GET", f"/requests?operationId=GetJobagenter&cpr={ORDINARY}")
    assert answer.status_code == 200 and answer.json()["count"] == 1, answer.text


def test_an_undocumented_fejlkode_lists_the_documented_ones_by_status(
    client: ContractClient,
) -> None:
    definition = {"operationId": "CreateTilmelding", "respond": [{"fejlkode": 4819}]}
    answer = admin(client, "POST", "/scenarios", json=definition)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert "404: 1010;" in detail and "409: 4644" in detail and "503: " in detail, detail


def test_several_prefer_header_lines_are_read_as_one_list(client: ContractClient) -> None:
    """As Java's HttpRequest.Builder.header() sends them (RFC 7240: one list, however split)."""
    headers = [
        ("Authorization", f"Bearer {client.token}"),
        ("x-civilRegistrationIdentifier", ORDINARY),
        ("Prefer", "respond-async"),
        ("Prefer", "code=404"),
    ]
    answer = client.http.get("/v1/Jobagent", headers=headers)
    assert answer.status_code == 404, answer.text
    assert answer.json()["fejlkode"] == 1010


@pytest.fixture
def forced_only(client: ContractClient) -> dict[str, Any]:
    """GetJobagent's 404/1010 answered only by a scenario; a natural 200 of GetJobagenter."""
    scripted = {"operationId": "GetJobagent", "respond": [{"status": 404}]}
    admin(client, "POST", "/scenarios", json=scripted)
    client.get("/v1/Jobagent/5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90")
    client.get("/v1/Jobagent", cpr=ORDINARY)
    return dict(admin(client, "GET", "/coverage").json())


def _forced(found: dict[str, Any]) -> dict[str, Any]:
    """GetJobagent's outcome the scenario forced."""
    operation = next(o for o in found["operations"] if o["operationId"] == "GetJobagent")
    return next(o for o in operation["outcomes"] if o["forced"])


def test_every_export_shows_forced_counts(forced_only: dict[str, Any]) -> None:
    from jobagent_mock.contract import coverage

    for form in ("md", "junit", "html"):
        assert "1 forced" in coverage.render(forced_only, form), form


def test_natural_only_counts_only_natural_answers_in_junit_and_the_failure_list(
    forced_only: dict[str, Any],
) -> None:
    from xml.etree import ElementTree

    from jobagent_mock.contract import coverage

    def failed(natural_only: bool) -> list[str]:
        suites = ElementTree.fromstring(coverage.render(forced_only, "junit", natural_only))
        suite = next(s for s in suites if s.get("name") == "GetJobagent")
        return [c.get("name", "") for c in suite if c.find("failure") is not None]

    outcome = _forced(forced_only)
    name = f"404 fejlkode {outcome['fejlkode']}:"
    assert not any(case.startswith(name) for case in failed(natural_only=False))
    assert any(case.startswith(name) for case in failed(natural_only=True))
    lines = coverage.missing_lines(forced_only, natural_only=True)
    line = next(line for line in lines if line.startswith(f"GetJobagent {name}"))
    assert "by the rules" not in line and outcome["howToTrigger"] in line


def test_the_how_never_just_repeats_the_description(forced_only: dict[str, Any]) -> None:
    for operation in forced_only["operations"]:
        for outcome in operation["outcomes"]:
            if not outcome["exercisedNaturally"]:
                how = outcome["howToTrigger"]
                assert how and how != outcome["description"], (operation["operationId"], outcome)
