"""TilmeldOgBook through the app: the booking rules by fejlkode, and all-or-nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.clock import DANISH_TIME
from tests.helpers import ORDINARY, OTHER, ContractClient, problem

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=DANISH_TIME)  # a Wednesday
AARHUS = "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60"
ODENSE = "4b2a6f3e-7c8d-4e9f-8a1b-2c3d4e5f6071"  # bookable 14 to 28 days ahead, Mon and Wed 10:00
AARHUS_CASEWORKER = "CVR:12345678-RID:87654321"
ODENSE_CASEWORKER = "CVR:87654321-RID:33334444"
SLOT = "2026-11-26T09:00:00+01:00"  # Thursday


@pytest.fixture(autouse=True)
def pinned_clock(engine: Any) -> None:
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(NOW)


def book(client: ContractClient, cpr: str = ORDINARY, **changes: Any) -> Any:
    """Book the Aarhus slot; a change to None leaves that field out."""
    body: dict[str, Any] = {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "bookingStartTime": SLOT,
        "moedetilbudId": AARHUS,
        "samtaleformType": 1,
        "sagsbehandlerEksterntId": AARHUS_CASEWORKER,
    }
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    return client.post("/v1/Tilmelding/TilmeldOgBook", json=body, cpr=cpr)


def test_enrolls_and_books(client: ContractClient) -> None:
    answer = book(client)
    assert answer.status_code == 201, answer.text
    assert answer.json()["indkaldelseId"]


def test_a_booked_slot_is_gone(client: ContractClient) -> None:
    book(client)
    taken = problem(book(client, cpr=OTHER), 409, 4819)
    assert "booked already" in taken["detail"]
    assert book(client, cpr=OTHER, bookingStartTime="2026-11-26T10:00:00+01:00").status_code == 201


def test_a_time_that_is_no_slot_is_not_available(client: ContractClient) -> None:
    never = problem(book(client, bookingStartTime="2026-11-26T09:30:00+01:00"), 409, 4819)
    assert "was never a slot" in never["detail"]
    assert "Monday, Tuesday, Wednesday, Thursday, Friday at 09:00, 10:00" in never["detail"]
    problem(book(client, bookingStartTime="2026-11-28T09:00:00+01:00"), 409, 4819)  # Saturday


def test_slot_times_are_danish_time(client: ContractClient) -> None:
    assert book(client, bookingStartTime="2026-11-26T08:00:00Z").status_code == 201


def test_failed_booking_leaves_no_enrollment(client: ContractClient) -> None:
    problem(book(client, moedetilbudId="5c3b7a4f-8d9e-4fa0-9b2c-3d4e5f607182"), 422, 8108)
    created = client.post(
        "/v1/Tilmelding",
        json={
            "klientkategori": 2,
            "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
            "ledighedsgrad": 1,
        },
    )
    assert created.status_code == 201, "the failed TilmeldOgBook must not have enrolled"


def test_failed_enrollment_books_nothing(client: ContractClient) -> None:
    problem(book(client, ledighedsgrad=3), 422, 6014)  # 4339 is not in TilmeldOgBook's table
    assert book(client, cpr=OTHER).status_code == 201, "the slot must still be free"


def test_an_enrolled_citizen_cannot_enroll_and_book(client: ContractClient) -> None:
    client.post(
        "/v1/Tilmelding",
        json={
            "klientkategori": 2,
            "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
            "ledighedsgrad": 1,
        },
    )
    problem(book(client), 409, 4316)


@pytest.mark.parametrize(
    ("changes", "status", "fejlkode"),
    [
        ({"moedetilbudId": "11111111-2222-4333-8444-555555555555"}, 422, 8108),
        ({"moedetilbudId": "5c3b7a4f-8d9e-4fa0-9b2c-3d4e5f607182"}, 422, 8108),
        (
            {
                "moedetilbudId": "6d4c8b5a-9eaf-4b01-8c3d-4e5f60718293",
                "sagsbehandlerEksterntId": None,
            },
            503,
            4769,
        ),
        (
            {
                "moedetilbudId": "7e5d9c6b-af00-4c12-9d4e-5f60718293a4",
                "sagsbehandlerEksterntId": None,
            },
            422,
            9018,
        ),
        ({"bookingStartTime": "2026-11-24T09:00:00+01:00"}, 422, 4783),
        ({"bookingStartTime": "2026-12-24T09:00:00+01:00"}, 422, 8109),
        (
            {
                "moedetilbudId": ODENSE,
                "sagsbehandlerEksterntId": ODENSE_CASEWORKER,
                "bookingStartTime": "2026-11-30T10:00:00+01:00",
            },
            422,
            8109,
        ),
        ({"sagsbehandlerEksterntId": "CVR:00000000-RID:00000000"}, 422, 4822),
        ({"sagsbehandlerEksterntId": ODENSE_CASEWORKER}, 422, 9003),
        ({"samtaleformType": 7}, 400, 1014),
        ({"moedetilbudId": "abc"}, 400, 1014),
    ],
)
def test_booking_rules(
    client: ContractClient, changes: dict[str, Any], status: int, fejlkode: int
) -> None:
    problem(book(client, **changes), status, fejlkode)


def test_later_slot_of_the_second_option_books(client: ContractClient) -> None:
    answer = book(
        client,
        moedetilbudId=ODENSE,
        sagsbehandlerEksterntId=ODENSE_CASEWORKER,
        bookingStartTime="2026-12-09T10:00:00+01:00",
    )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("cpr", "status", "fejlkode"),
    [
        ("0606701786", 422, 4786),
        ("0808701273", 409, 8273),
        ("1010701111", 503, 8111),
        ("1111501965", 422, 4763),
        ("0712721288", 422, 8288),
        ("0202701405", 422, 4405),
    ],
)
def test_personas(client: ContractClient, cpr: str, status: int, fejlkode: int) -> None:
    problem(book(client, cpr=cpr), status, fejlkode)


def test_4763_states_the_age_it_computed(client: ContractClient) -> None:
    detail = problem(book(client, cpr="1111501965"), 422, 4763)["detail"]
    assert detail.startswith("The citizen is 76 (born 1950-11-11, read from the CPR number)")
    assert "only klientkategori 6 (Tilmeldt uden ydelse)" in detail


def test_one_jobsamtale_per_citizen(client: ContractClient, engine: Any) -> None:
    book(client)
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.enrollments.clear()  # as if the enrollment had ended; the booking stays
    problem(book(client, bookingStartTime="2026-11-26T10:00:00+01:00"), 409, 8273)


def test_a_client_written_from_the_seeds_table_gets_the_same_201(
    client: ContractClient, engine: Any
) -> None:
    """The seed's names (x-seed-example) and the canonical ones: both enroll and book."""
    media = spec.operations()["TilmeldOgBook"].spec["requestBody"]["content"]["application/json"]
    seed_names = media["x-seed-example"]["value"]
    danish_names = media["examples"]["danske-navne"]["value"]
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(datetime(2026, 11, 27, 9, 0, tzinfo=DANISH_TIME))
    seed_answer = client.post("/v1/Tilmelding/TilmeldOgBook", json=seed_names, cpr=ORDINARY)
    assert seed_answer.status_code == 201, seed_answer.text
    assert "Profession read as joboensker" in seed_answer.headers["x-mock-warning"]
    assert "EnrollmentDate read as tilmeldingsdato" in seed_answer.headers["x-mock-warning"]
    danish_answer = client.post("/v1/Tilmelding/TilmeldOgBook", json=danish_names, cpr=OTHER)
    assert danish_answer.status_code == 201, danish_answer.text
    assert " read as " not in danish_answer.headers["x-mock-warning"]
    booked = {b["start"] for b in bookings(engine)}
    assert booked == {"2026-12-01T09:00:00+01:00", "2026-12-01T10:00:00+01:00"}


def bookings(engine: Any) -> list[dict[str, Any]]:
    with engine.store.snapshot("star-jobnet") as sandbox:
        return [b for cpr in (ORDINARY, OTHER) for b in sandbox.bookings.get(cpr, [])]


def test_free_slots_are_those_a_booking_takes(client: ContractClient) -> None:
    """GET /__admin/slots: bookable slots from the sandbox's now on, a booked one gone."""

    def slots(**query: str) -> list[str]:
        answer = client.http.get(
            "/__admin/slots",
            params={"moedetilbudId": AARHUS, **query},
            headers={"Authorization": f"Bearer {client.token}"},
        )
        assert answer.status_code == 200, answer.text
        return [slot["start"] for slot in answer.json()["slots"]]

    today = slots(to="2026-11-25")
    assert today == [
        "2026-11-25T11:00:00+01:00",
        "2026-11-25T13:00:00+01:00",
        "2026-11-25T14:00:00+01:00",
    ]  # 10:00 has begun
    assert SLOT in slots(**{"from": "2026-11-26", "to": "2026-11-26"})
    assert book(client).status_code == 201
    thursday = slots(**{"from": "2026-11-26", "to": "2026-11-26"})
    assert SLOT not in thursday and len(thursday) == 4
    assert not slots(**{"from": "2026-11-28", "to": "2026-11-29"})  # a weekend
    assert slots()[-1] == "2026-12-23T14:00:00+01:00"  # the option's last day: today + 28


def test_slots_of_an_unknown_option_are_404(client: ContractClient) -> None:
    answer = client.http.get(
        "/__admin/slots",
        params={"moedetilbudId": "00000000-0000-4000-8000-000000000000"},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert problem(answer, 404, None)["detail"].startswith("No interview option")
