"""Who a CPR number names: the personas of fixtures/personas.json, or else an ordinary resident.

Open world (the default): every well-formed CPR that is no persona is a living resident with a
Jobnet CV. Closed world: only the personas are known; everybody else is 1010.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from jobagent_mock.foundations import cpr as cprs
from jobagent_mock.foundations.errors import Fejlkode, InvalidInput, NotFound


@dataclass(frozen=True)
class Membership:
    """A-kasse membership as the registers hold it."""

    member: bool = True
    fund: str | None = None  # None: whichever a-kasse asks
    insurance: str = "Heltidsforsikret"


@dataclass(frozen=True)
class Person:
    cpr: str
    born: date
    fejlkoder: frozenset[int]
    kommune: int | None = None  # None: belongs to whichever job centre asks
    membership: Membership = Membership()
    interview_deadline_days: int | None = None  # an existing Jobsamtale deadline, from today

    def triggers(self, fejlkode: int) -> bool:
        return fejlkode in self.fejlkoder

    def age(self, today: date) -> int:
        return cprs.age(self.born, today)


class Directory:
    def __init__(self, personas: list[dict[str, Any]], closed_world: bool = False) -> None:
        self._personas = {p["cpr"]: p for p in personas}
        self.closed_world = closed_world

    def find(self, cpr: str, today: date) -> Person:
        """The person, or InvalidInput 1001 (no real date) or NotFound 1010 (nobody)."""
        if not cprs.is_valid(cpr, today):
            raise InvalidInput(
                Fejlkode.INVALID_CPR, f"{cprs_masked(cpr)} names no past calendar date"
            )
        persona = self._personas.get(cpr)
        if cpr == cprs.UNKNOWN or (persona is None and self.closed_world):
            raise NotFound(Fejlkode.UNKNOWN_CPR)
        if persona is not None and Fejlkode.UNKNOWN_CPR in persona["fejlkoder"]:
            raise NotFound(Fejlkode.UNKNOWN_CPR)
        born = cprs.birth_date(cpr)
        assert born is not None  # is_valid() said so
        return _person(cpr, born, persona or {})


def _person(cpr: str, born: date, persona: dict[str, Any]) -> Person:
    akasse = persona.get("akasse", {})
    return Person(
        cpr,
        born,
        frozenset(persona.get("fejlkoder", ())),
        kommune=persona.get("kommune"),
        membership=Membership(
            member=akasse.get("medlem", True),
            fund=akasse.get("kode"),
            insurance=akasse.get("forsikringskategori", "Heltidsforsikret"),
        ),
        interview_deadline_days=persona.get("jobsamtaleFristDage"),
    )


def cprs_masked(cpr: str) -> str:
    """A CPR as DDMMYY-xxxx, for messages and logs."""
    return f"{cpr[:6]}-xxxx" if len(cpr) == 10 else "the cpr"
