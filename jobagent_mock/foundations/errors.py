"""The one error table: every fejlkode the code names (Fejlkode), and each kind of refusal with
its HTTP status, raised as one exception family.

The texts of STAR's fejlkoder live in the contract (x-fejlkoder), which tests/unit/test_errors.py
holds Fejlkode to; the engine refuses without knowing HTTP, and only web/problems.py renders.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar

from jobagent_mock.foundations import readings, spec


class Fejlkode(IntEnum):
    """STAR's codes that a rule or a check of this project raises by name. (A contract violation's
    code is the contract's own x-fejlkode, read by web/contract_violations.py.)"""

    INVALID_CPR = 1001
    UNKNOWN_CPR = 1010
    FAILED_TO_VALIDATE = 1014
    ENROLLMENT_OVERLAP = 4316
    PROFESSION_INVALID = 4318
    INVALID_INSURANCE = 4321
    DATE_OUT_OF_RANGE = 4338
    NOT_UNEMPLOYED_NEEDS_NO_BENEFIT = 4339
    NOT_REGISTERED_WITH_FUND = 4385
    DEAD = 4405
    NOT_A_FUND_MEMBER = 4417
    NOT_AUTHORIZED = 4575
    UNKNOWN_IDENTIFIER = 4589
    CATEGORY_NOT_ENROLLABLE = 4641
    OPEN_CONTACT_GROUP = 4644
    INVALID_YEAR = 4710
    ABROAD = 4720
    TEMPORARY_FOREIGN_ADDRESS = 4725
    MUST_BE_TODAY = 4749
    ABSENCE_REGISTRATION = 4750
    AGE_65_WITHOUT_BENEFIT_ONLY = 4763
    BOOKING_UNREACHABLE = 4769
    BOOKING_IN_PAST = 4783
    NO_JOBNET_CV = 4786
    SLOT_TAKEN = 4819
    CASEWORKER_UNKNOWN = 4822
    WRONG_JOB_CENTRE = 6005
    ILLEGAL_COMBINATION = 6014
    CONTACT_GROUP_AGE = 6033
    PROFESSION_REQUIRED = 7062
    EVENT_AFTER_START = 8063
    OPTION_UNKNOWN = 8108
    OPTION_DATE_RANGE = 8109
    LOOKUP_FAILED = 8111
    HAS_JOBSAMTALE = 8273
    OCCUPATION_UNKNOWN = 8281
    OCCUPATION_OUT_OF_DATE = 8282
    AFTER_INTERVIEW_DEADLINE = 8288
    CASEWORKER_NOT_ALLOWED = 9003
    BOOKING_NOT_CONFIGURED = 9018
    CATEGORY_NOT_FOR_FUNDS = 9299
    STATUS_NOT_FOR_FUNDS = 9300
    DUPLICATE_CONCEPT = 9439


# kept as names of their own: they are the codes of refusals outside any business rule
# fejlkode of a contract violation with no code of its own
FAILED_TO_VALIDATE = Fejlkode.FAILED_TO_VALIDATE
# fejlkode of a refused scope or organisation
NOT_AUTHORIZED = Fejlkode.NOT_AUTHORIZED


class Fejl(Exception):
    """A refusal. `fejlkode` is STAR's code, or None where STAR documents none."""

    # (401 and 415 are connexion's own refusals, rendered by web/problems.py)
    status: ClassVar[int] = 400

    def __init__(
        self,
        fejlkode: int | None,
        detail: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        self.fejlkode = None if fejlkode is None else int(fejlkode)
        self.errors = errors
        self.detail = detail or (self.beskrivelse or "")
        super().__init__(f"{fejlkode}: {self.detail}")

    @property
    def beskrivelse(self) -> str | None:
        entry = spec.fejlkode_catalogue().get(self.fejlkode) if self.fejlkode else None
        return entry[1] if entry else None


class InvalidInput(Fejl):
    status = 400


class Forbidden(Fejl):
    status = 403


class NotFound(Fejl):
    status = 404


class Conflict(Fejl):
    status = 409


class ReplayedRequest(Fejl):
    status = 412


class TooLarge(Fejl):
    status = 413


class RuleViolation(Fejl):
    status = 422


class TooManySandboxes(Fejl):
    """A new sandbox past a cap (per client, or in all): RFC 6585's 429, saying how to free one."""

    status = 429


class HeadersTooLarge(Fejl):
    """Request headers past what the mock reads (RFC 6585 section 5)."""

    status = 431


class Unavailable(Fejl):
    """A system STAR depends on cannot be reached: the same request may succeed later."""

    status = 503


class UpstreamFailed(Fejl):
    """The proxy's upstream (`serve --upstream`) could not be reached or broke off its answer."""

    status = 502


class UpstreamTimedOut(Fejl):
    """The proxy's upstream did not answer within `--upstream-timeout`."""

    status = 504


# how long a client should wait before trying a 503 again (Retry-After)
RETRY_AFTER_SECONDS = 5
_BY_STATUS: dict[int, type[Fejl]] = {
    kind.status: kind for kind in (InvalidInput, Forbidden, NotFound, Conflict, RuleViolation)
} | {Unavailable.status: Unavailable}


def refusal(status: int, fejlkode: int, detail: str | None = None) -> Fejl:
    """The refusal of a fejlkode that the contract documents under `status`."""
    return _BY_STATUS[status](fejlkode, detail)


class Refusals:
    """An operation's table of fejlkoder as the contract documents it: which codes it can
    answer past the contract, and with which status. Rules refuse through it, so that each
    operation answers only codes of its own table, with the status its contract gives."""

    def __init__(self, operation_id: str) -> None:
        self.operation_id = operation_id
        self.statuses = spec.rule_statuses(operation_id)
        # code -> why the rule that refuses with it is the mock's reading (x-provisional-rules)
        self.provisional = spec.provisional_rules(operation_id)

    def lists(self, fejlkode: int) -> bool:
        return fejlkode in self.statuses

    def first(self, *fejlkoder: int) -> int:
        """The first of several candidate codes that this operation's table lists."""
        return next(code for code in fejlkoder if code in self.statuses)

    def refuse(self, fejlkode: int, detail: str | None = None) -> Fejl:
        """The refusal; one by a rule the seed does not state says so, in its detail and in
        x-mock-warning (RECONSTRUCTION.md D-56)."""
        refused = refusal(self.statuses[fejlkode], fejlkode, detail)
        if reason := self.provisional.get(fejlkode):
            readings.note(f"{fejlkode} refused by a provisional rule, not the seed's")
            refused.detail = f"{refused.detail} (A provisional rule: {reason}.)"
        return refused
