"""CreateTilmelding through the app: every enrollment rule by its fejlkode, on a pinned clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from jobagent_mock.foundations.clock import DANISH_TIME
from tests.helpers import ORDINARY, ContractClient, problem

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=DANISH_TIME)  # a Wednesday
LAGER = "http://data.star.dk/esco/occupation/lagermedarbejder"


@pytest.fixture(autouse=True)
def pinned_clock(engine: Any) -> None:
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(NOW)


def wish(concept: str = LAGER, **changes: Any) -> dict[str, Any]:
    return {
        "conceptUriDa": concept,
        "harUddannelse": True,
        "jobTargetIdentifier": "0d5e4c3b-2a19-4f8e-b7d6-c5b4a3928170",
        **changes,
    }


def enrollment(**changes: Any) -> dict[str, Any]:
    body = {
        "klientkategori": 1,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "joboensker": [wish()],
    }
    body.update(changes)
    return body


def enroll(client: ContractClient, cpr: str = ORDINARY, **changes: Any) -> Any:
    return client.post("/v1/Tilmelding", json=enrollment(**changes), cpr=cpr)


def test_enrollment_answers_a_receipt(client: ContractClient) -> None:
    answer = enroll(client)
    assert answer.status_code == 201
    body = answer.json()
    assert body["serviceReceipt"]["eventDate"].startswith("2026-11-25T10:00:00")
    assert "25-11-2026" in body["borgerkvitteringstekst"]


def test_a_second_enrollment_meets_an_open_contact_group(client: ContractClient) -> None:
    enroll(client)
    problem(enroll(client), 409, 4644)  # CreateTilmelding's table has 4644, not 4316


@pytest.mark.parametrize(
    ("date", "accepted"),
    [
        ("2026-11-25T23:59:00+01:00", True),
        ("2026-11-25T00:00:00+01:00", True),
        ("2026-11-24T23:59:59+01:00", False),
        ("2026-11-15T08:00:00+01:00", False),
        ("2026-11-26T00:00:00+01:00", False),
        ("2026-11-24T23:30:00+00:00", True),
    ],  # 00:30 on the 25th in Danish time
)
def test_enrollment_date_must_be_today(client: ContractClient, date: str, accepted: bool) -> None:
    answer = enroll(client, tilmeldingsdato=date)
    if accepted:
        assert answer.status_code == 201, answer.text
    else:
        problem(answer, 422, 4749)  # the seed's CreateTilmelding table: "must be of todays date"


def test_event_date_after_the_enrollment_date_is_8063(client: ContractClient) -> None:
    problem(enroll(client, haendelsesdato="2026-11-26T08:00:00+01:00"), 422, 8063)
    assert enroll(client, haendelsesdato="2026-11-20T08:00:00+01:00").status_code == 201


@pytest.mark.parametrize(
    ("cpr", "status", "fejlkode"),
    [
        ("0202701405", 422, 4405),
        ("0303701720", 422, 4720),
        ("0404701725", 422, 4725),
        ("0505701750", 422, 4750),
        ("0909701033", 422, 6033),
        ("0707701316", 409, 4644),
        ("1605714645", 422, 4645),
        ("2401724752", 422, 4752),
        ("0510729147", 503, 9147),
        ("1403714417", 422, 4417),
        ("1201714321", 422, 4321),
        ("0101701010", 404, 1010),
        ("0000000000", 404, 1010),
    ],
)
def test_personas(client: ContractClient, cpr: str, status: int, fejlkode: int) -> None:
    problem(enroll(client, cpr=cpr), status, fejlkode)


def test_under_fifteen_cannot_get_a_contact_group(client: ContractClient) -> None:
    problem(enroll(client, cpr="0101154000"), 422, 6033)  # born 1 Jan 2015


def test_65_or_older_may_enroll_with_benefit_here(client: ContractClient) -> None:
    # 4763 says "from jobnet" and is in TilmeldOgBook's table, not CreateTilmelding's
    assert enroll(client, cpr="1111501965").status_code == 201


def test_not_unemployed_only_without_benefit(client: ContractClient) -> None:
    problem(enroll(client, ledighedsgrad=3), 422, 4339)
    assert enroll(client, klientkategori=6, ledighedsgrad=3).status_code == 201


def test_illegal_category_and_status_combination(client: ContractClient) -> None:
    problem(enroll(client, klientkategori=5, ledighedsgrad=2), 422, 6014)


def test_some_categories_need_a_job_wish(client: ContractClient) -> None:
    problem(enroll(client, joboensker=[]), 422, 7062)
    assert enroll(client, klientkategori=2, joboensker=[]).status_code == 201


@pytest.mark.parametrize(
    ("changes", "fejlkode"),
    [
        ({"klientkategori": 9}, 4313),
        ({"klientkategori": "en"}, 4313),
        ({"ledighedsgrad": 0}, 4314),
        ({"emailadresse": "borger@@example.dk"}, 9158),
        ({"joboensker": [wish(aarSidstBrugt=1800)]}, 4710),
        ({"joboensker": [wish(maanederMedErfaring=-1)]}, 4698),
        ({"tilmeldingsdato": "25-11-2026"}, 1014),
        ({"joboensker": [wish()] * 201}, 1014),
    ],
)
def test_contract_violations(
    client: ContractClient, changes: dict[str, Any], fejlkode: int
) -> None:
    problem(enroll(client, **changes), 400, fejlkode)


def test_missing_category_is_4313(client: ContractClient) -> None:
    body = enrollment()
    del body["klientkategori"]
    problem(client.post("/v1/Tilmelding", json=body), 400, 4313)


def test_year_last_used_in_the_future_is_4710(client: ContractClient) -> None:
    problem(enroll(client, joboensker=[wish(aarSidstBrugt=2027)]), 422, 4710)
    assert enroll(client, joboensker=[wish(aarSidstBrugt=2026)]).status_code == 201


def test_same_concept_twice_is_9439(client: ContractClient) -> None:
    problem(enroll(client, joboensker=[wish(), wish(LAGER.upper())]), 422, 9439)


@pytest.mark.parametrize(
    ("concept", "fejlkode"),
    [
        ("http://data.star.dk/esco/occupation/findes-ikke", 8281),
        ("http://data.star.dk/esco/occupation/udgaaet", 8282),
    ],
)
def test_magic_occupation_keys(client: ContractClient, concept: str, fejlkode: int) -> None:
    problem(enroll(client, joboensker=[wish(concept)]), 422, fejlkode)


def test_any_other_occupation_key_is_accepted(client: ContractClient) -> None:
    assert enroll(client, joboensker=[wish("urn:eksempel:tømrer")]).status_code == 201


def test_pascal_case_input_binds(client: ContractClient) -> None:
    body = {
        "Klientkategori": 2,
        "Tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "Ledighedsgrad": 1,
        "Joboensker": [
            {
                "ConceptUriDa": LAGER,
                "HarUddannelse": False,
                "JobTargetIdentifier": wish()["jobTargetIdentifier"],
            }
        ],
    }
    assert client.post("/v1/Tilmelding", json=body).status_code == 201


def test_failed_enrollment_stores_nothing(client: ContractClient) -> None:
    problem(enroll(client, ledighedsgrad=3), 422, 4339)
    assert enroll(client).status_code == 201


def test_the_seeds_legacy_names_bind_with_a_warning(client: ContractClient) -> None:
    body = {
        "ClientCategoryTypeIdentifier": 1,
        "EnrollmentDate": "2026-11-25T08:00:00+01:00",
        "CurrentUnemploymentStatusTypeIdentifier": 1,
        "Profession": {"ProfessionType": [{**wish(), "HasEducation": True, "YearLastUsed": 2027}]},
    }
    # bound: the year after this one is refused by the rule, so the wish arrived
    answer = client.post("/v1/Tilmelding", json=body)
    problem(answer, 422, 4710)
    warning = answer.headers["x-mock-warning"]
    assert "EnrollmentDate read as tilmeldingsdato" in warning
    assert "Profession read as joboensker" in warning
    assert "YearLastUsed read as aarSidstBrugt" in warning


@pytest.mark.parametrize(
    ("client_id", "cpr", "changes", "fejlkode"),
    [
        ("jobcenter-aarhus", "1504711005", {}, 6005),  # lives in Odense
        ("kommune-odense", "1504711005", {}, None),  # 6005 is about job centres
        ("akasse-eksempel", "1302714385", {}, 4385),  # member of another fund
        ("akasse-eksempel", "1403714417", {}, 4385),  # member of none
        ("akasse-eksempel", ORDINARY, {"klientkategori": 2}, 9299),
        ("akasse-eksempel", ORDINARY, {"ledighedsgrad": 3}, 9300),
        ("akasse-eksempel", ORDINARY, {}, None),
    ],
)
def test_the_callers_organisation_decides(
    app: Any, engine: Any, client_id: str, cpr: str, changes: Any, fejlkode: Any
) -> None:
    with engine.store.transaction(client_id) as sandbox:
        sandbox.clock.pin(NOW)
    caller = ContractClient(app, client_id)
    answer = caller.post("/v1/Tilmelding", json=enrollment(**changes), cpr=cpr)
    if fejlkode is None:
        assert answer.status_code == 201, answer.text
    else:
        problem(answer, 422, fejlkode)


def test_a_provisional_code_is_answered_with_a_warning(client: ContractClient) -> None:
    answer = enroll(client)
    assert answer.status_code == 201
    assert "klientkategori=1 is a provisional code" in answer.headers["x-mock-warning"]


def test_not_enrollable_category_is_4641(client: ContractClient) -> None:
    problem(enroll(client, klientkategori=7), 422, 4641)


def test_unknown_alias_and_job_wish_identifiers(client: ContractClient) -> None:
    alias = "00000000-0000-4000-8000-000000004318"
    problem(enroll(client, joboensker=[wish(aliasIdentifier=alias)]), 422, 4318)
    target = "00000000-0000-4000-8000-000000004589"
    problem(enroll(client, joboensker=[wish(jobTargetIdentifier=target)]), 422, 4589)


def test_the_first_violation_in_document_order_decides(client: ContractClient) -> None:
    wishes = [wish() for _ in range(11)]
    wishes[2]["maanederMedErfaring"] = -1  # 4698, the earlier in the document
    wishes[10]["aarSidstBrugt"] = 1800  # 4710; "10" sorts before "2" as text
    problem(enroll(client, joboensker=wishes), 400, 4698)


def test_an_ignored_field_is_named_in_the_warning(client: ContractClient) -> None:
    answer = enroll(client, samtaleform=1)  # a typo, or a field of another operation
    assert answer.status_code == 201
    assert "samtaleform ignored (no such field here)" in answer.headers["x-mock-warning"]


def test_an_alias_beside_its_own_name_is_ignored_and_said(client: ContractClient) -> None:
    answer = enroll(client, EnrollmentDate="2020-01-01T08:00:00+01:00")
    assert answer.status_code == 201  # tilmeldingsdato, today, counts
    assert "EnrollmentDate ignored (tilmeldingsdato given too)" in answer.headers["x-mock-warning"]
