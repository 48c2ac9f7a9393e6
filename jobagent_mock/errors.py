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
}
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
