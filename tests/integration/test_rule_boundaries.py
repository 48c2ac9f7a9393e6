"""The age and date rules at their edges: the day before, of and after a birthday or a window's
edge, so that `>` written for `>=` (or `<` for `<=`) cannot pass."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jobagent_mock.foundations import cpr
from tests.helpers import ContractClient, problem
from tests.integration.test_tilmeld_og_book import (
    ODENSE,
    ODENSE_CASEWORKER,
    book,
    pinned_clock,  # noqa: F401 (the sandbox's today: Wednesday 2026-11-25)
)


def refused_or_booked(answer: Any, fejlkode: int | None) -> None:
    if fejlkode:
        problem(answer, 422, fejlkode)
    else:
        assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("today", "age"),
    [(date(2026, 11, 24), 64), (date(2026, 11, 25), 65), (date(2026, 11, 26), 65)],
)
def test_an_age_grows_on_the_birthday_itself(today: date, age: int) -> None:
    assert cpr.age(date(1961, 11, 25), today) == age


def test_a_leap_day_birthday_counts_from_the_first_of_march() -> None:
    born = date(1960, 2, 29)
    assert cpr.age(born, date(2025, 2, 28)) == 64
    assert cpr.age(born, date(2025, 3, 1)) == 65


@pytest.mark.parametrize(
    ("born", "refused"),
    [
        ("2611611234", False),  # 65 tomorrow
        ("2511611234", True),  # 65 today
        ("2411611234", True),  # 65 yesterday
    ],
)
def test_4763_from_the_65th_birthday_on(client: ContractClient, born: str, refused: bool) -> None:
    refused_or_booked(book(client, cpr=born), 4763 if refused else None)


@pytest.mark.parametrize(
    ("enrolled", "fejlkode"),
    [
        ("2026-11-14T08:00:00+01:00", 4338),  # 11 days back
        ("2026-11-15T08:00:00+01:00", None),  # 10 days back: the window's first day
        ("2026-11-25T08:00:00+01:00", None),  # today: its last
        ("2026-11-26T08:00:00+01:00", 4338),  # tomorrow
    ],
)
def test_4338_enrollment_window_edges(
    client: ContractClient, enrolled: str, fejlkode: int | None
) -> None:
    answer = book(client, tilmeldingsdato=enrolled, haendelsesdato=None)
    refused_or_booked(answer, fejlkode)


@pytest.mark.parametrize(
    ("start", "fejlkode"),
    [
        ("2026-11-24T09:00:00+01:00", 4783),  # yesterday
        ("2026-11-25T11:00:00+01:00", None),  # today
        ("2026-11-26T09:00:00+01:00", None),  # tomorrow
    ],
)
def test_4783_a_booking_from_today_on(
    client: ContractClient, start: str, fejlkode: int | None
) -> None:
    answer = book(client, bookingStartTime=start)
    refused_or_booked(answer, fejlkode)


@pytest.mark.parametrize(
    ("start", "fejlkode"),
    [
        ("2026-12-08T10:00:00+01:00", 8109),  # 13 days ahead: the day before the first
        ("2026-12-09T10:00:00+01:00", None),  # 14 days ahead: the first bookable day
        ("2026-12-23T10:00:00+01:00", None),  # 28 days ahead: the last
        ("2026-12-24T10:00:00+01:00", 8109),  # 29 days ahead: the day after the last
    ],
)
def test_8109_option_window_edges(client: ContractClient, start: str, fejlkode: int | None) -> None:
    answer = book(
        client,
        moedetilbudId=ODENSE,
        sagsbehandlerEksterntId=ODENSE_CASEWORKER,
        bookingStartTime=start,
    )
    refused_or_booked(answer, fejlkode)
