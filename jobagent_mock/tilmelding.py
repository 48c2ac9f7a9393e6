"""Enrollment rules (CreateTilmelding), in STAR's order, each naming its fejlkode."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from jobagent_mock.clock import DANISH_TIME
from jobagent_mock.errors import Conflict, Fejlkode, RuleViolation
from jobagent_mock.occupations import OUT_OF_DATE, UNKNOWN, Occupations
from jobagent_mock.persons import Person
from jobagent_mock.stores import Sandbox

ENROLLMENT_DAYS_BACK = 10
# person states a persona can carry that stop an enrollment, in the order STAR checks them
BLOCKING_PERSON_STATES = (
    Fejlkode.DEAD,
    Fejlkode.ABROAD,
    Fejlkode.TEMPORARY_FOREIGN_ADDRESS,
    Fejlkode.ABSENCE_REGISTRATION,
)


def check(
    sandbox: Sandbox,
    person: Person,
    body: dict[str, Any],
    codelists: dict[str, Any],
    occupations: Occupations,
) -> None:
    """Every enrollment rule; raises the first that refuses."""
    today = sandbox.clock.today()
    for fejlkode in BLOCKING_PERSON_STATES:
        if person.triggers(fejlkode):
            raise RuleViolation(fejlkode)
    age = person.age(today)
    if person.triggers(Fejlkode.CONTACT_GROUP_AGE) or age < codelists.get("minimumsalder", 15):
        raise RuleViolation(
            Fejlkode.CONTACT_GROUP_AGE, f"Age {age} does not allow a contact group."
        )
    _check_codes(body, age, codelists)
    _check_date(body["tilmeldingsdato"], today)
    if person.triggers(Fejlkode.ENROLLMENT_OVERLAP) or sandbox.enrollments.get(person.cpr):
        raise Conflict(Fejlkode.ENROLLMENT_OVERLAP)
    _check_job_wishes(body, codelists, occupations, today)


def record(sandbox: Sandbox, person: Person, body: dict[str, Any]) -> dict[str, Any]:
    """Store the enrollment; returns the CreateTilmeldingResponseDto."""
    enrollment_id = str(uuid.uuid4())
    sandbox.enrollments.setdefault(person.cpr, []).append({"id": enrollment_id, **body})
    start = local_date(body["tilmeldingsdato"]).strftime("%d-%m-%Y")
    return {
        "createdItemIdentifier": enrollment_id,
        "serviceReceipt": receipt(sandbox),
        "borgerkvitteringstekst": f"Du er nu tilmeldt som ledig fra {start}.",
        "phone": "70 12 34 56",
        "noSelfActivatingCodeNeeded": True,
    }


def receipt(sandbox: Sandbox) -> dict[str, str]:
    return {
        "eventDate": sandbox.clock.now().isoformat(timespec="seconds"),
        "messageIdentifier": str(uuid.uuid4()),
    }


def local_date(timestamp: str) -> date:
    return local_time(timestamp).date()


def local_time(timestamp: str) -> datetime:
    """An RFC 3339 timestamp (validated by the contract) in Danish time."""
    parsed = datetime.fromisoformat(timestamp.replace("z", "Z").replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=DANISH_TIME)
    return parsed.astimezone(DANISH_TIME)


def _check_codes(body: dict[str, Any], age: int, codelists: dict[str, Any]) -> None:
    kategori, grad = body["klientkategori"], body["ledighedsgrad"]
    uden_ydelse = codelists["udenYdelseKategori"]
    if grad == codelists["ikkeLedigGrad"] and kategori != uden_ydelse:
        raise RuleViolation(Fejlkode.NOT_UNEMPLOYED_NEEDS_NO_BENEFIT)
    if grad not in codelists["lovligeKombinationer"].get(str(kategori), []):
        raise RuleViolation(
            Fejlkode.ILLEGAL_COMBINATION,
            f"klientkategori {kategori} cannot have ledighedsgrad {grad}.",
        )
    if age >= codelists.get("udenYdelseFraAlder", 65) and kategori != uden_ydelse:
        raise RuleViolation(Fejlkode.AGE_65_WITHOUT_BENEFIT_ONLY)


def _check_date(tilmeldingsdato: str, today: date) -> None:
    enrolled = local_date(tilmeldingsdato)
    earliest = today - timedelta(days=ENROLLMENT_DAYS_BACK)
    if not earliest <= enrolled <= today:
        raise RuleViolation(
            Fejlkode.DATE_OUT_OF_RANGE,
            f"tilmeldingsdato {enrolled} is not between {earliest} and {today}.",
        )


def _check_job_wishes(
    body: dict[str, Any], codelists: dict[str, Any], occupations: Occupations, today: date
) -> None:
    wishes = body.get("joboensker", [])
    if not wishes and body["klientkategori"] in codelists["kategorierDerKraeverJoboensker"]:
        raise RuleViolation(Fejlkode.PROFESSION_REQUIRED)
    seen: set[str] = set()
    for index, wish in enumerate(wishes):
        if wish.get("aarSidstBrugt", today.year) > today.year:
            where = f"body.joboensker[{index}].aarSidstBrugt"
            why = f"{wish['aarSidstBrugt']} lies after {today.year}"
            raise RuleViolation(Fejlkode.INVALID_YEAR, f"{where}: {why}", {where: [why]})
        concept = wish["conceptUriDa"]
        if concept.lower() in seen:
            raise RuleViolation(
                Fejlkode.DUPLICATE_CONCEPT, f"conceptUriDa {concept} is given twice."
            )
        seen.add(concept.lower())
        status = occupations.concept_status(concept)
        if status in (UNKNOWN, OUT_OF_DATE):
            fejlkode = (
                Fejlkode.OCCUPATION_UNKNOWN
                if status == UNKNOWN
                else Fejlkode.OCCUPATION_OUT_OF_DATE
            )
            raise RuleViolation(fejlkode, f"conceptUriDa {concept}: {status}.")
