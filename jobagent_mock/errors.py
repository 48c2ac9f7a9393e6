"""The one error table: each kind of refusal with its HTTP status, raised as one exception family.

The texts of STAR's fejlkoder live in the contract (x-fejlkoder); this module only says which
kind of refusal yields which status, so the engine can refuse without knowing HTTP.
"""

from __future__ import annotations

from typing import ClassVar

from jobagent_mock import spec

# kind of refusal -> HTTP status (DESIGN.md, "Errors")
# (401 and 415 are connexion's own refusals, rendered by web/problems.py)
STATUS_BY_KIND = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "replayed": 412,
    "too_large": 413,
    "rule": 422,
    "unavailable": 503,
}
# how long a client should wait before trying a 503 again (Retry-After)
RETRY_AFTER_SECONDS = 5
# fejlkode of a contract violation with no code of its own
FAILED_TO_VALIDATE = 1014
# fejlkode of a refused scope or organisation
NOT_AUTHORIZED = 4575


class Fejl(Exception):
    """A refusal. `fejlkode` is STAR's code, or None where STAR documents none."""

    kind: ClassVar[str] = "invalid"

    def __init__(
        self,
        fejlkode: int | None,
        detail: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        self.fejlkode = fejlkode
        self.errors = errors
        self.detail = detail or (self.beskrivelse or "")
        super().__init__(f"{fejlkode}: {self.detail}")

    @property
    def status(self) -> int:
        return STATUS_BY_KIND[self.kind]

    @property
    def fejltekst(self) -> str | None:
        entry = spec.fejlkode_catalogue().get(self.fejlkode) if self.fejlkode else None
        return entry[0] if entry else None

    @property
    def beskrivelse(self) -> str | None:
        entry = spec.fejlkode_catalogue().get(self.fejlkode) if self.fejlkode else None
        return entry[1] if entry else None


class InvalidInput(Fejl):
    kind = "invalid"


class Forbidden(Fejl):
    kind = "forbidden"


class NotFound(Fejl):
    kind = "not_found"


class Conflict(Fejl):
    kind = "conflict"


class ReplayedRequest(Fejl):
    kind = "replayed"


class TooLarge(Fejl):
    kind = "too_large"


class RuleViolation(Fejl):
    kind = "rule"


class Unavailable(Fejl):
    """A system STAR depends on (or the mock's own store) cannot be reached: try again later."""

    kind = "unavailable"


_KIND_BY_STATUS = {status: kind for kind, status in STATUS_BY_KIND.items()}
_CLASS_BY_KIND: dict[str, type[Fejl]] = {
    cls.kind: cls
    for cls in (InvalidInput, Forbidden, NotFound, Conflict, RuleViolation, Unavailable)
}


def refusal(status: int, fejlkode: int, detail: str | None = None) -> Fejl:
    """The refusal of a fejlkode that the contract documents under `status`."""
    return _CLASS_BY_KIND[_KIND_BY_STATUS[status]](fejlkode, detail)


class Refusals:
    """An operation's table of fejlkoder as the contract documents it: which codes it can
    answer past the contract, and with which status. Rules refuse through it, so that each
    operation answers only codes of its own table, with the status its contract gives."""

    def __init__(self, operation_id: str) -> None:
        self.operation_id = operation_id
        self.statuses = spec.rule_statuses(operation_id)

    def lists(self, fejlkode: int) -> bool:
        return fejlkode in self.statuses

    def first(self, *fejlkoder: int) -> int:
        """The first of several candidate codes that this operation's table lists."""
        return next(code for code in fejlkoder if code in self.statuses)

    def refuse(self, fejlkode: int, detail: str | None = None) -> Fejl:
        return refusal(self.statuses[fejlkode], fejlkode, detail)
