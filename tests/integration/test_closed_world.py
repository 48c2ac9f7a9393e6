"""--closed-world: only the fixtures' people and occupations are known."""

from __future__ import annotations

from typing import Any

import pytest

from jobagent_mock.app import create_app
from tests.helpers import ORDINARY, ContractClient, problem


@pytest.fixture(scope="module")
def closed() -> ContractClient:
    return ContractClient(create_app(closed_world=True, validate_responses=True), "star-jobnet")


def enrollment(concept: str) -> dict[str, Any]:
    return {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "joboensker": [
            {
                "conceptUriDa": concept,
                "harUddannelse": True,
                "jobTargetIdentifier": "0d5e4c3b-2a19-4f8e-b7d6-c5b4a3928170",
            }
        ],
    }


def pin(client: ContractClient) -> None:
    client.http.put(
        "/__admin/clock",
        json={"now": "2026-11-25T10:00:00+01:00"},
        headers={"Authorization": f"Bearer {client.token}"},
    )


def test_only_personas_are_people(closed: ContractClient) -> None:
    assert closed.get("/v1/Jobagent", cpr=ORDINARY).status_code == 200
    problem(closed.get("/v1/Jobagent", cpr="0101991234"), 404, 1010)


def test_only_fixture_occupations_exist(closed: ContractClient) -> None:
    pin(closed)
    problem(closed.post("/v1/Tilmelding", json=enrollment("urn:eksempel:tømrer")), 422, 8281)
    known = enrollment("http://data.star.dk/esco/occupation/sygeplejerske")
    assert closed.post("/v1/Tilmelding", json=known).status_code == 201


def test_only_fixture_hierarchy_elements_exist(closed: ContractClient) -> None:
    def agent(element: str) -> dict[str, Any]:
        return {
            "titel": "x",
            "soegeparametre": {
                "arbejdsomraade": {
                    "beskaeftigelsesomraade": [{"hierarkielementId": element, "hierarkitype": 1}]
                }
            },
        }

    problem(
        closed.post("/v1/Jobagent", json=agent("11111111-2222-4333-8444-555555555555")), 422, 4589
    )
    assert (
        closed.post("/v1/Jobagent", json=agent("9c3b2a10-7d4e-4f5a-8b6c-1e2d3f4a5b6c")).status_code
        == 201
    )


def test_open_world_knows_anybody(client: ContractClient) -> None:
    assert client.get("/v1/Jobagent", cpr="0101991234").json() == {"jobagenter": []}
