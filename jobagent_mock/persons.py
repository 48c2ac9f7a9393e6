"""Who a CPR number names: the personas of fixtures/personas.json, or else an ordinary resident.

Open world (the default): every well-formed CPR that is no persona is a living resident with a
Jobnet CV. Closed world: only the personas are known; everybody else is 1010.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from jobagent_mock import cpr as cprs
from jobagent_mock.errors import Fejlkode, InvalidInput, NotFound


@dataclass(frozen=True)
class Person:
    cpr: str
    born: date
    fejlkoder: frozenset[int]

    def triggers(self, fejlkode: int) -> bool:
        return fejlkode in self.fejlkoder

    def age(self, today: date) -> int:
        return cprs.age(self.born, today)


class Directory:
    def __init__(self, personas: list[dict[str, Any]], closed_world: bool = False) -> None:
        self._personas = {p["cpr"]: frozenset(p["fejlkoder"]) for p in personas}
        self.closed_world = closed_world

    def find(self, cpr: str, today: date) -> Person:
        """The person, or InvalidInput 1001 (no real date) or NotFound 1010 (nobody)."""
        if not cprs.is_valid(cpr, today):
            raise InvalidInput(
                Fejlkode.INVALID_CPR, f"{cprs_masked(cpr)} names no past calendar date"
            )
        fejlkoder = self._personas.get(cpr)
        if cpr == cprs.UNKNOWN or (fejlkoder is None and self.closed_world):
            raise NotFound(Fejlkode.UNKNOWN_CPR)
        if fejlkoder is not None and Fejlkode.UNKNOWN_CPR in fejlkoder:
            raise NotFound(Fejlkode.UNKNOWN_CPR)
        born = cprs.birth_date(cpr)
        assert born is not None  # is_valid() said so
        return Person(cpr, born, fejlkoder or frozenset())


def cprs_masked(cpr: str) -> str:
    """A CPR as DDMMYY-xxxx, for messages and logs."""
    return f"{cpr[:6]}-xxxx" if len(cpr) == 10 else "the cpr"
