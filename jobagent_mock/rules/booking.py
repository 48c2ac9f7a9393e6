"""Booking rules of TilmeldOgBook (JobnetBookingService's), each naming its fejlkode.

Interview options and their weekly slots come from fixtures/moedetilbud.json, counted from the
mock clock's today, so they never expire.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from jobagent_mock.foundations import readings
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import Fejlkode, Refusals
from jobagent_mock.rules.persons import Person
from jobagent_mock.rules.tilmelding import local_time
from jobagent_mock.stores import Sandbox

# codes check_person computes; a persona listing one demonstrates it
COMPUTED = frozenset(
    {
        Fejlkode.LOOKUP_FAILED,
        Fejlkode.NO_JOBNET_CV,
        Fejlkode.HAS_JOBSAMTALE,
        Fejlkode.AFTER_INTERVIEW_DEADLINE,
    }
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
BOOKING_SYSTEM_FAILURES = {
    "utilgaengeligt": Fejlkode.BOOKING_UNREACHABLE,
    "mangler": Fejlkode.BOOKING_NOT_CONFIGURED,
}


def check_person(sandbox: Sandbox, person: Person, table: Refusals) -> None:
    """The citizen's side of a booking; checked before the enrollment rules."""
    if person.triggers(Fejlkode.LOOKUP_FAILED):
        raise table.refuse(Fejlkode.LOOKUP_FAILED)
    if person.triggers(Fejlkode.NO_JOBNET_CV):
        raise table.refuse(Fejlkode.NO_JOBNET_CV)
    if person.triggers(Fejlkode.HAS_JOBSAMTALE) or sandbox.bookings.get(person.cpr):
        raise table.refuse(Fejlkode.HAS_JOBSAMTALE)


def check_slot(
    sandbox: Sandbox,
    person: Person,
    body: dict[str, Any],
    options: dict[str, dict[str, Any]],
    table: Refusals,
) -> tuple[str, str]:
    """The interview option and slot asked for; returns the slot's key once every rule holds."""
    option: dict[str, Any] | None = None
    if body.get("moedetilbudId") is None:
        option = _option_with_free_slot(sandbox, body, options, table)
    else:
        option = options.get(body["moedetilbudId"].lower())
    if option is None or not option["aktiv"]:
        raise table.refuse(Fejlkode.OPTION_UNKNOWN)
    if option["bookingsystem"] in BOOKING_SYSTEM_FAILURES:
        raise table.refuse(BOOKING_SYSTEM_FAILURES[option["bookingsystem"]])
    _check_caseworker(body.get("sagsbehandlerEksterntId"), option, options, table)
    start = local_time(body["bookingStartTime"])
    today = sandbox.clock.today()
    _check_day(start, option, today, table)
    if person.interview_deadline_days is not None:
        deadline = today + timedelta(days=person.interview_deadline_days)
        if start.date() > deadline:
            raise table.refuse(
                Fejlkode.AFTER_INTERVIEW_DEADLINE, f"The citizen's Jobsamtale is due by {deadline}."
            )
    slot = (option["moedetilbudId"], start.isoformat())
    # the seed has one code for a time that cannot be booked (4819); the detail tells a time
    # that never was a slot from one booked already (RECONSTRUCTION.md D-10)
    if not _is_slot(start, option):
        raise table.refuse(Fejlkode.SLOT_TAKEN, _never_a_slot(start, option))
    if slot in sandbox.taken_slots:
        raise table.refuse(
            Fejlkode.SLOT_TAKEN, f"{start.isoformat()} is booked already: choose another slot."
        )
    return slot


def _option_with_free_slot(
    sandbox: Sandbox, body: dict[str, Any], options: dict[str, dict[str, Any]], table: Refusals
) -> dict[str, Any]:
    """The seed makes moedetilbudId 0-1 (line 477): without one, the first interview option
    (in the fixtures' order) with a working booking system, the caseworker allowed (when one is
    named) and `bookingStartTime` a free slot (RECONSTRUCTION.md D-55). None has it: the
    refusals a named option would get for that time, else 4819."""
    start = local_time(body["bookingStartTime"])
    caseworker = body.get("sagsbehandlerEksterntId")
    day = start.date()
    for option in options.values():
        usable = option["aktiv"] and option["bookingsystem"] not in BOOKING_SYSTEM_FAILURES
        allowed = caseworker is None or caseworker in option["sagsbehandlere"]
        if usable and allowed and start in free_slots(sandbox, option, day, day):
            readings.note(
                f"moedetilbudId absent: booked on interview option {option['moedetilbudId']}"
                f" ({option['navn']}), the first with bookingStartTime free"
            )
            return option
    if caseworker is not None and not any(
        caseworker in o["sagsbehandlere"] for o in options.values()
    ):
        raise table.refuse(Fejlkode.CASEWORKER_UNKNOWN)
    if day < sandbox.clock.today():
        raise table.refuse(Fejlkode.BOOKING_IN_PAST)
    readings.note("moedetilbudId absent: no interview option has bookingStartTime free")
    raise table.refuse(
        Fejlkode.SLOT_TAKEN,
        f"No interview option has {start.isoformat()} free (moedetilbudId absent). "
        "GET /__admin/slots lists an option's free ones.",
    )


def free_slots(
    sandbox: Sandbox, option: dict[str, Any], first: date | None, last: date | None
) -> list[datetime]:
    """The option's slots, not yet begun nor booked in this sandbox, earliest first, within
    first..last (dates) when given."""
    now = sandbox.clock.now().astimezone(DANISH_TIME)
    today = now.date()
    start = max(today + timedelta(days=option["fraDage"]), first or today)
    end = min(today + timedelta(days=option["tilDage"]), last or date.max)
    found = []
    day = start
    while day <= end:
        if day.isoweekday() in option["ugedage"]:
            for at in option["tidspunkter"]:
                hour, minute = map(int, at.split(":"))
                slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=DANISH_TIME)
                taken = (option["moedetilbudId"], slot.isoformat()) in sandbox.taken_slots
                if slot > now and not taken:
                    found.append(slot)
        day += timedelta(days=1)
    return found


def _never_a_slot(start: datetime, option: dict[str, Any]) -> str:
    days = ", ".join(WEEKDAYS[d - 1] for d in option["ugedage"])
    times = ", ".join(option["tidspunkter"])
    return (
        f"{start.isoformat()} was never a slot of this option: its slots start on {days} at "
        f"{times} (Danish time). GET /__admin/slots lists the free ones."
    )


def book(sandbox: Sandbox, person: Person, slot: tuple[str, str]) -> str:
    indkaldelse_id = str(uuid.uuid4())
    sandbox.taken_slots.add(slot)
    sandbox.bookings.setdefault(person.cpr, []).append(
        {"indkaldelseId": indkaldelse_id, "moedetilbudId": slot[0], "start": slot[1]}
    )
    return indkaldelse_id


def _check_caseworker(
    caseworker: str | None,
    option: dict[str, Any],
    options: dict[str, dict[str, Any]],
    table: Refusals,
) -> None:
    if caseworker is None:
        return
    if not any(caseworker in o["sagsbehandlere"] for o in options.values()):
        raise table.refuse(Fejlkode.CASEWORKER_UNKNOWN)
    if caseworker not in option["sagsbehandlere"]:
        raise table.refuse(Fejlkode.CASEWORKER_NOT_ALLOWED)


def _check_day(start: datetime, option: dict[str, Any], today: date, table: Refusals) -> None:
    if start.date() < today:
        raise table.refuse(Fejlkode.BOOKING_IN_PAST)
    first, last = (
        today + timedelta(days=option["fraDage"]),
        today + timedelta(days=option["tilDage"]),
    )
    if not first <= start.date() <= last:
        raise table.refuse(
            Fejlkode.OPTION_DATE_RANGE, f"Bookable from {first.isoformat()} to {last.isoformat()}."
        )


def _is_slot(start: datetime, option: dict[str, Any]) -> bool:
    return (
        start.isoweekday() in option["ugedage"]
        and start.strftime("%H:%M") in option["tidspunkter"]
        and start.second == 0
        and start.microsecond == 0
    )
