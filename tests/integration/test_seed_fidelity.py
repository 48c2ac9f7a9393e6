"""What a partner writes from the seed alone binds (issue 24): .NET's date-times without an
offset, the seed's optional fields left out, its collection shape; every relaxed or invented
rule is said in x-mock-warning; GetJobagent's x-requestId and a body on a read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from jobagent_mock.foundations.clock import DANISH_TIME
from tests.helpers import ORDINARY, OTHER, ContractClient, problem
from tests.integration.test_shared_stores import (  # noqa: F401 (fixtures)
    _close_sessions,
    in_parallel,
    session,
    two_workers,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=DANISH_TIME)  # a Wednesday
AARHUS = "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60"
ODENSE_CASEWORKER = "CVR:87654321-RID:33334444"
WARNING = "x-mock-warning"
ENROLL, BOOK = "/v1/Tilmelding", "/v1/Tilmelding/TilmeldOgBook"


@pytest.fixture(autouse=True)
def pinned_clock(engine: Any) -> None:
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(NOW)


def enrollment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "joboensker": [
            {
                "conceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
                "harUddannelse": True,
                "aarSidstBrugt": 2024,
                "maanederMedErfaring": 12,
                "jobTargetIdentifier": "0d5e4c3b-2a19-4f8e-b7d6-c5b4a3928170",
            }
        ],
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def booking(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "bookingStartTime": "2026-11-26T09:00:00+01:00",
        "moedetilbudId": AARHUS,
        "samtaleformType": 1,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def warning(answer: Any) -> str:
    return str(answer.headers.get(WARNING, ""))


# 1. date-times as ASP.NET reads them
@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        (ENROLL, "tilmeldingsdato", "2026-11-25T08:00:00"),
        (ENROLL, "tilmeldingsdato", "2026-11-25T08:00"),
        (ENROLL, "tilmeldingsdato", "2026-11-25T08:00:00.1234567"),
        (BOOK, "tilmeldingsdato", "2026-11-25T08:00:00"),
        (BOOK, "bookingStartTime", "2026-11-26T09:00:00"),
    ],
)
def test_a_date_time_without_an_offset_is_danish_local_time(
    client: ContractClient, path: str, field: str, value: str
) -> None:
    body = enrollment(**{field: value}) if path == ENROLL else booking(**{field: value})
    answer = client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    assert f"{field} {value} read as Danish local time (+01:00)" in warning(answer)


def test_haendelsesdato_without_an_offset_is_compared_in_danish_time(
    client: ContractClient,
) -> None:
    # 08:30 Danish time is after tilmeldingsdato's 08:00+01:00, so 8063; as UTC it would not be
    late = client.post(ENROLL, json=enrollment(haendelsesdato="2026-11-25T08:30:00"))
    problem(late, 422, 8063)
    assert "haendelsesdato 2026-11-25T08:30:00 read as Danish local time" in warning(late)
    early = client.post(ENROLL, json=enrollment(haendelsesdato="2026-11-25T07:30:00"))
    assert early.status_code == 201, early.text


def test_summer_time_is_danish_summer_time(client: ContractClient, engine: Any) -> None:
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(datetime(2026, 7, 1, 10, 0, tzinfo=DANISH_TIME))
    answer = client.post(ENROLL, json=enrollment(tilmeldingsdato="2026-07-01T00:30:00"))
    assert answer.status_code == 201, answer.text  # 2026-06-30T22:30Z: today in Denmark
    assert "read as Danish local time (+02:00)" in warning(answer)


@pytest.mark.parametrize(
    "value",
    ["2026-11-25T07:00:00Z", "2026-11-25T08:00:00+01:00", "2026-11-25T08:00:00.1234567+01:00"],
)
def test_offsets_stay_accepted_and_unsaid(client: ContractClient, value: str) -> None:
    answer = client.post(ENROLL, json=enrollment(tilmeldingsdato=value))
    assert answer.status_code == 201, answer.text
    assert "local time" not in warning(answer)


@pytest.mark.parametrize("value", ["27-11-2026", "2026-11-25T25:00:00", "2026-13-01T08:00:00"])
def test_what_is_no_date_time_is_still_refused(client: ContractClient, value: str) -> None:
    problem(client.post(ENROLL, json=enrollment(tilmeldingsdato=value)), 400, 1014)


# 2. moedetilbudId 0-1
def test_without_moedetilbud_id_the_first_option_with_the_slot_free_books_it(
    client: ContractClient, engine: Any
) -> None:
    answer = client.post(BOOK, json=booking(moedetilbudId=None))
    assert answer.status_code == 201, answer.text
    assert f"moedetilbudId absent: booked on interview option {AARHUS}" in warning(answer)
    with engine.store.snapshot("star-jobnet") as sandbox:
        assert (AARHUS, "2026-11-26T09:00:00+01:00") in sandbox.taken_slots


def test_without_moedetilbud_id_the_caseworker_chooses_among_the_options(
    client: ContractClient,
) -> None:
    # Odense's option (Mondays and Wednesdays at 10:00, 14 to 28 days ahead) allows this caseworker
    answer = client.post(
        BOOK,
        json=booking(
            moedetilbudId=None,
            bookingStartTime="2026-12-09T10:00:00+01:00",
            sagsbehandlerEksterntId=ODENSE_CASEWORKER,
        ),
    )
    assert answer.status_code == 201, answer.text
    assert "4b2a6f3e-7c8d-4e9f-8a1b-2c3d4e5f6071" in warning(answer)


def test_without_moedetilbud_id_a_time_no_option_has_free_is_4819(client: ContractClient) -> None:
    assert client.post(BOOK, json=booking(moedetilbudId=None)).status_code == 201
    taken = problem(client.post(BOOK, json=booking(moedetilbudId=None), cpr=OTHER), 409, 4819)
    assert "No interview option has 2026-11-26T09:00:00+01:00 free" in taken["detail"]
    past = booking(moedetilbudId=None, bookingStartTime="2026-11-24T09:00:00+01:00")
    problem(client.post(BOOK, json=past, cpr=OTHER), 422, 4783)


# 3. relaxed rules and invented bounds are said
def test_a_booking_job_wish_without_year_and_months_is_accepted_and_said(
    client: ContractClient,
) -> None:
    wish = {
        "conceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
        "HasEducation": True,
    }
    answer = client.post(BOOK, json=booking(joboensker=[wish]))
    assert answer.status_code == 201, answer.text
    said = warning(answer)
    assert "aarSidstBrugt absent: TilmeldOgBook's seed table requires YearLastUsed" in said
    assert "maanederMedErfaring absent" in said
    full = {**wish, "YearLastUsed": 2024, "MonthsOfExperience": 3}
    assert "absent" not in warning(client.post(BOOK, json=booking(joboensker=[full]), cpr=OTHER))


def test_a_refusal_by_an_invented_bound_says_so(client: ContractClient) -> None:
    wish = {**enrollment()["joboensker"][0], "maanederMedErfaring": 1201}
    answer = client.post(ENROLL, json=enrollment(joboensker=[wish]))
    refused = problem(answer, 400, 1014)
    assert "(a provisional bound, not the seed's: maximum 1200 months" in refused["detail"]
    place = "body.joboensker[0].maanederMedErfaring"
    assert f"{place} refused by a provisional bound (maximum)" in warning(answer)


def test_a_refusal_by_a_seed_bound_does_not(client: ContractClient) -> None:
    wish = {**enrollment()["joboensker"][0], "maanederMedErfaring": -1}
    answer = client.post(ENROLL, json=enrollment(joboensker=[wish]))
    assert "provisional" not in problem(answer, 400, 4698)["detail"]
    assert "provisional bound" not in warning(answer)


def test_a_refusal_by_an_invented_rule_says_so(client: ContractClient) -> None:
    answer = client.post(ENROLL, json=enrollment(klientkategori=1, joboensker=None))
    refused = problem(answer, 422, 7062)
    assert "A provisional rule: which categories need a job wish" in refused["detail"]
    assert "7062 refused by a provisional rule" in warning(answer)


# 4. the seed's collection shape
@pytest.mark.parametrize("path", [ENROLL, BOOK])
def test_the_seeds_collection_shape_binds(client: ContractClient, path: str) -> None:
    wishes = (
        enrollment()["joboensker"]
        if path == ENROLL
        else [
            {
                "conceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
                "harUddannelse": True,
                "aarSidstBrugt": 2024,
                "maanederMedErfaring": 1,
            }
        ]
    )
    base = enrollment() if path == ENROLL else booking()
    body = {
        **{k: v for k, v in base.items() if k != "joboensker"},
        "Joboensker": {"JoboenskeDto": wishes},
    }
    answer = client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    assert "Joboensker: {JoboenskeDto: [...]} read as the list" in warning(answer)


def test_the_collection_shape_binds_its_contents_too(client: ContractClient) -> None:
    wish = {**enrollment()["joboensker"][0], "aarSidstBrugt": 1899}
    body = enrollment(joboensker={"JoboenskeDto": [wish]})
    problem(client.post(ENROLL, json=body), 400, 4710)


# 5. the seed's reads
def agent_path(client: ContractClient) -> str:
    first = client.get("/v1/Jobagent").json()["jobagenter"][0]
    return f"/v1/Jobagent/{first['jobagentIdentifier']}"


def test_get_jobagent_answers_412_to_a_repeated_request_id(client: ContractClient) -> None:
    path = agent_path(client)
    once = client.get(path, headers={"x-requestId": "read-1"})
    assert once.status_code == 200, once.text
    assert "x-requestId absent" not in warning(once)
    problem(client.get(path, headers={"x-requestId": "read-1"}), 412, None)
    assert client.get(path, headers={"x-requestId": "read-2"}).status_code == 200


def test_get_jobagent_without_request_id_says_the_seed_has_one(client: ContractClient) -> None:
    answer = client.get(agent_path(client))
    assert answer.status_code == 200
    assert "x-requestId absent: GetJobagent's seed row (lines 21-24, occurrence 1)" in warning(
        answer
    )


def test_a_request_id_claimed_by_a_read_is_claimed_for_writes_too(client: ContractClient) -> None:
    client.get(agent_path(client), headers={"x-requestId": "shared-1"})
    problem(client.post(ENROLL, json=enrollment(), headers={"x-requestId": "shared-1"}), 412, None)


def test_a_body_on_a_read_is_said(client: ContractClient) -> None:
    path = agent_path(client)
    body = json.dumps({"jobagentidentifier": path.rsplit("/", 1)[1]})
    answer = client.get(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert "the body of this GET ignored" in warning(answer)
    assert "body" not in warning(client.get(path))


def test_a_longer_request_id_than_the_seeds_46_is_refused_on_a_read(client: ContractClient) -> None:
    problem(client.get(agent_path(client), headers={"x-requestId": "x" * 47}), 400, 1014)


# Done means: a client written from the seed's tables alone, as .NET writes JSON
def test_a_create_tilmelding_written_from_the_seeds_rows_alone_enrolls(
    client: ContractClient,
) -> None:
    # lines 59-121: the seed's names, its collection shape, DateTime of kind Unspecified ("o")
    body = {
        "KlientKategori": 2,
        "Tilmeldingsdato": "2026-11-25T08:00:00.0000000",
        "Ledighedsgrad": 1,
        "Haendelsesdato": "2026-11-25T07:30:00.0000000",
        "Emailadresse": "borger.eksempel@example.dk",
        "Joboensker": {
            "JoboenskeDto": [
                {
                    "ConceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
                    "HarUddannelse": True,
                    "AarSidstBrugt": 2024,
                    "maanederMedErfaring": 12,
                    "jobTargetIdentifier": "0d5e4c3b-2a19-4f8e-b7d6-c5b4a3928170",
                }
            ]
        },
    }
    answer = client.post(ENROLL, json=body)
    assert answer.status_code == 201, answer.text


def test_a_tilmeld_og_book_written_from_the_seeds_rows_alone_books(client: ContractClient) -> None:
    # lines 453-485: the legacy names, no moedetilbudId, BookingStartTime without an offset
    body = {
        "Klientkategori": 2,
        "EnrollmentDate": "2026-11-25T00:00:00",
        "CurrentUnemploymentStatusTypeIdentifier": 1,
        "Profession": {
            "ProfessionType": [
                {
                    "ConceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
                    "HasEducation": False,
                    "YearLastUsed": 2024,
                    "MonthsOfExperience": 12,
                }
            ]
        },
        "BookingStartTime": "2026-11-26T09:00:00",
        "sagsbehandlerEksterntId": "CVR:12345678-RID:87654321",
        "SamtaleformType": 1,
    }
    answer = client.post(BOOK, json=body)
    assert answer.status_code == 201, answer.text
    said = warning(answer)
    assert "EnrollmentDate read as tilmeldingsdato" in said
    assert "bookingStartTime 2026-11-26T09:00:00 read as Danish local time (+01:00)" in said
    assert "moedetilbudId absent: booked on interview option" in said


@pytest.mark.slow
def test_a_read_claims_its_request_id_once_across_workers(two_workers: str) -> None:  # noqa: F811
    """GetJobagent's x-requestId is claimed through the write path: on two workers sharing
    SQLite or Redis, one of a burst of reads with one id answers, the others are 412."""
    http = session(two_workers)
    cpr = {"x-civilRegistrationIdentifier": ORDINARY}
    first = http.get("/v1/Jobagent", headers=cpr).json()["jobagenter"][0]
    path = f"/v1/Jobagent/{first['jobagentIdentifier']}"

    def read(_: int) -> int:
        return http.get(path, headers={**cpr, "x-requestId": "raced-read"}).status_code

    assert sorted(in_parallel(12, read)) == [200] + [412] * 11
