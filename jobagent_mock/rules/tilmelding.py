"""Enrollment rules (CreateTilmelding, and TilmeldOgBook's enrollment half), in STAR's order.

Each operation answers with the codes of its own table in the contract (errors.Refusals): where
the two tables name the same condition differently (an existing enrollment is 4644 on
CreateTilmelding, 4316 on TilmeldOgBook), the rule asks the table which code it lists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import Fejlkode, Refusals
from jobagent_mock.rules.occupations import OUT_OF_DATE, UNKNOWN, Occupations
from jobagent_mock.rules.persons import Person
from jobagent_mock.stores import Sandbox

ENROLLMENT_DAYS_BACK = 10
# person states a persona can carry that stop an enrollment, in the order STAR checks them
BLOCKING_PERSON_STATES = (
    Fejlkode.DEAD,
    Fejlkode.ABROAD,
    Fejlkode.TEMPORARY_FOREIGN_ADDRESS,
    Fejlkode.ABSENCE_REGISTRATION,
)
# codes a rule below computes from data; a persona listing one demonstrates that rule
COMPUTED = frozenset(
    {
        *BLOCKING_PERSON_STATES,
        Fejlkode.ENROLLMENT_OVERLAP,
        Fejlkode.OPEN_CONTACT_GROUP,
        Fejlkode.CONTACT_GROUP_AGE,
        Fejlkode.AGE_65_WITHOUT_BENEFIT_ONLY,
        Fejlkode.NOT_REGISTERED_WITH_FUND,
        Fejlkode.NOT_A_FUND_MEMBER,
        Fejlkode.INVALID_INSURANCE,
        Fejlkode.WRONG_JOB_CENTRE,
    }
)
INSURED = ("Heltidsforsikret", "Deltidsforsikret")


@dataclass(frozen=True)
class Organisation:
    """The calling organisation, from its token: type (STAR, JobCenter, A-kasse, …) and code."""

    type: str | None = None
    code: str | None = None


def check(
    sandbox: Sandbox,
    person: Person,
    body: dict[str, Any],
    rules: EnrollmentRules,
) -> None:
    """Every enrollment rule; raises the first that refuses."""
    table, today = rules.table, sandbox.clock.today()
    _check_organisation(person, body, rules)
    for fejlkode in BLOCKING_PERSON_STATES:
        if person.triggers(fejlkode):
            raise table.refuse(fejlkode)
    for state in sorted(person.fejlkoder - COMPUTED - rules.computed_elsewhere):
        if table.lists(state):  # a register state this operation's table names
            raise table.refuse(state)
    age = person.age(today)
    if person.triggers(Fejlkode.CONTACT_GROUP_AGE) or age < rules.codelists.get(
        "minimumsalder", 15
    ):
        raise table.refuse(
            Fejlkode.CONTACT_GROUP_AGE,
            f"The citizen is {age} (born {person.born.isoformat()}, read from the CPR number), "
            "an age that does not allow this contact group.",
        )
    _check_codes(person, body, age, rules)
    _check_dates(body, today, table)
    enrolled = person.triggers(Fejlkode.ENROLLMENT_OVERLAP) or person.triggers(
        Fejlkode.OPEN_CONTACT_GROUP
    )
    if enrolled or sandbox.enrollments.get(person.cpr):
        raise table.refuse(table.first(Fejlkode.OPEN_CONTACT_GROUP, Fejlkode.ENROLLMENT_OVERLAP))
    _check_job_wishes(body, rules, today)


@dataclass(frozen=True)
class EnrollmentRules:
    """What the rules read besides the request: the operation's table, the caller, the fixtures."""

    table: Refusals
    organisation: Organisation
    codelists: dict[str, Any]
    occupations: Occupations
    computed_elsewhere: frozenset[int] = frozenset()  # codes another module's rules compute


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
    try:
        return parsed.astimezone(DANISH_TIME)
    except OverflowError:
        # within years 1 to 9999 as written, outside them in Danish time: the first or last
        # instant Python can name, which every date rule finds out of its range (never a 500)
        edge = datetime.max if parsed.year > 1 else datetime.min
        return edge.replace(tzinfo=DANISH_TIME)


def _check_organisation(person: Person, body: dict[str, Any], rules: EnrollmentRules) -> None:
    """What the calling organisation may do (the seed's ActiveOrganisationHeader codes)."""
    table, caller, codelists = rules.table, rules.organisation, rules.codelists
    if caller.type == "JobCenter" and table.lists(Fejlkode.WRONG_JOB_CENTRE):
        if person.kommune is not None and str(person.kommune) != caller.code:
            raise table.refuse(
                Fejlkode.WRONG_JOB_CENTRE,
                f"The citizen belongs to the job centre of {person.kommune}.",
            )
    if caller.type != "A-kasse":
        return
    membership = person.membership
    if table.lists(Fejlkode.NOT_REGISTERED_WITH_FUND) and (
        not membership.member or membership.fund not in (None, caller.code)
    ):
        raise table.refuse(Fejlkode.NOT_REGISTERED_WITH_FUND)
    if table.lists(Fejlkode.CATEGORY_NOT_FOR_FUNDS) and body["klientkategori"] in codelists.get(
        "kategorierIkkeForAkasser", []
    ):
        raise table.refuse(Fejlkode.CATEGORY_NOT_FOR_FUNDS)
    if table.lists(Fejlkode.STATUS_NOT_FOR_FUNDS) and body["ledighedsgrad"] in codelists.get(
        "ledighedsgraderIkkeForAkasser", []
    ):
        raise table.refuse(Fejlkode.STATUS_NOT_FOR_FUNDS)


def _check_codes(person: Person, body: dict[str, Any], age: int, rules: EnrollmentRules) -> None:
    table, codelists = rules.table, rules.codelists
    kategori, grad = body["klientkategori"], body["ledighedsgrad"]
    if kategori in codelists.get("ikkeTilmeldingsKategorier", []):
        raise table.refuse(
            Fejlkode.CATEGORY_NOT_ENROLLABLE, f"klientkategori {kategori} is not enrolled."
        )
    uden_ydelse = codelists["udenYdelseKategori"]
    if grad == codelists["ikkeLedigGrad"] and kategori != uden_ydelse:
        raise table.refuse(
            table.first(Fejlkode.NOT_UNEMPLOYED_NEEDS_NO_BENEFIT, Fejlkode.ILLEGAL_COMBINATION)
        )
    if grad not in codelists["lovligeKombinationer"].get(str(kategori), []):
        raise table.refuse(
            Fejlkode.ILLEGAL_COMBINATION,
            f"klientkategori {kategori} cannot have ledighedsgrad {grad}.",
        )
    if table.lists(Fejlkode.AGE_65_WITHOUT_BENEFIT_ONLY) and kategori != uden_ydelse:
        limit = codelists.get("udenYdelseFraAlder", 65)
        if age >= limit:
            raise table.refuse(
                Fejlkode.AGE_65_WITHOUT_BENEFIT_ONLY,
                f"The citizen is {age} (born {person.born.isoformat()}, read from the CPR number);"
                f" from {limit} only klientkategori {uden_ydelse} (Tilmeldt uden ydelse) enrolls"
                f" through Jobnet, not {kategori}.",
            )
    if kategori == codelists.get("dagpengeKategori"):
        _check_membership(person, table)


def _check_membership(person: Person, table: Refusals) -> None:
    """A Dagpengemodtager is an insured member of an a-kasse."""
    membership = person.membership
    if table.lists(Fejlkode.NOT_A_FUND_MEMBER) and not membership.member:
        raise table.refuse(Fejlkode.NOT_A_FUND_MEMBER)
    if table.lists(Fejlkode.INVALID_INSURANCE) and membership.insurance not in INSURED:
        raise table.refuse(
            Fejlkode.INVALID_INSURANCE, f"The insurance category is {membership.insurance}."
        )


def _check_dates(body: dict[str, Any], today: date, table: Refusals) -> None:
    enrolled = local_date(body["tilmeldingsdato"])
    if table.lists(Fejlkode.MUST_BE_TODAY):
        if enrolled != today:
            raise table.refuse(
                Fejlkode.MUST_BE_TODAY, f"tilmeldingsdato {enrolled} is not {today}."
            )
    else:
        earliest = today - timedelta(days=ENROLLMENT_DAYS_BACK)
        if not earliest <= enrolled <= today:
            raise table.refuse(
                Fejlkode.DATE_OUT_OF_RANGE,
                f"tilmeldingsdato {enrolled} is not between {earliest} and {today}.",
            )
    event = body.get("haendelsesdato")
    if event is not None and local_time(event) > local_time(body["tilmeldingsdato"]):
        raise table.refuse(
            Fejlkode.EVENT_AFTER_START, f"haendelsesdato {event} lies after tilmeldingsdato."
        )


def _check_job_wishes(body: dict[str, Any], rules: EnrollmentRules, today: date) -> None:
    table, codelists = rules.table, rules.codelists
    wishes = body.get("joboensker", [])
    if not wishes and body["klientkategori"] in codelists["kategorierDerKraeverJoboensker"]:
        raise table.refuse(Fejlkode.PROFESSION_REQUIRED)
    seen: set[str] = set()
    for index, wish in enumerate(wishes):
        where = f"body.joboensker[{index}]"
        if wish.get("aarSidstBrugt", today.year) > today.year:
            why = f"{wish['aarSidstBrugt']} lies after {today.year}"
            error = table.refuse(Fejlkode.INVALID_YEAR, f"{where}.aarSidstBrugt: {why}")
            error.errors = {f"{where}.aarSidstBrugt": [why]}
            raise error
        concept = wish["conceptUriDa"]
        if concept.lower() in seen:
            code = table.first(Fejlkode.DUPLICATE_CONCEPT, Fejlkode.PROFESSION_INVALID)
            raise table.refuse(code, f"conceptUriDa {concept} is given twice.")
        seen.add(concept.lower())
        _check_keys(wish, where, rules)


def _check_keys(wish: dict[str, Any], where: str, rules: EnrollmentRules) -> None:
    """The ESCO STAR keys of one job wish, and its Jobnet identifier."""
    table, occupations = rules.table, rules.occupations
    alias = wish.get("aliasIdentifier")
    if alias is not None and not occupations.alias_is_known(alias):
        raise table.refuse(
            Fejlkode.PROFESSION_INVALID, f"{where}.aliasIdentifier {alias} is unknown."
        )
    concept = wish["conceptUriDa"]
    status = occupations.concept_status(concept)
    if status == UNKNOWN:
        raise table.refuse(Fejlkode.OCCUPATION_UNKNOWN, f"conceptUriDa {concept}: {status}.")
    if status == OUT_OF_DATE:
        code = table.first(Fejlkode.OCCUPATION_OUT_OF_DATE, Fejlkode.PROFESSION_INVALID)
        raise table.refuse(code, f"conceptUriDa {concept}: {status}.")
    target = wish.get("jobTargetIdentifier")
    if target is not None and table.lists(Fejlkode.UNKNOWN_IDENTIFIER):
        if not occupations.job_target_is_known(target):
            raise table.refuse(
                Fejlkode.UNKNOWN_IDENTIFIER, f"{where}.jobTargetIdentifier {target}."
            )
