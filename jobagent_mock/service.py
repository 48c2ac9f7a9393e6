"""The engine's front door: one method per business operation, each one atomic in its sandbox.

Handlers translate HTTP into exactly one call here; nothing here knows HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from jobagent_mock.control import ControlPlane
from jobagent_mock.foundations.errors import NotFound, Refusals
from jobagent_mock.foundations.fixtures import Fixtures
from jobagent_mock.journal import entries
from jobagent_mock.journal.drift import Upstream
from jobagent_mock.rules import booking, idempotency, jobagenter, scenarios, tilmelding
from jobagent_mock.rules.occupations import Occupations
from jobagent_mock.rules.persons import Directory, Person
from jobagent_mock.rules.tilmelding import Organisation
from jobagent_mock.stores import (
    DEFAULT_SANDBOX,
    EVERY_CITIZEN,
    CitizenSelector,
    DeclaredReads,
    MemoryStore,
    Sandbox,
    Store,
)
from jobagent_mock.stores.sandboxes import DEFAULT_CAPS, Admissions, Caps

CREATE, ENROLL_AND_BOOK = "CreateTilmelding", "TilmeldOgBook"
Result = TypeVar("Result")


@dataclass(frozen=True)
class Caller:
    """Who is asking: their sandbox, the citizen named by the CPR header, the x-requestId."""

    sandbox: str = DEFAULT_SANDBOX
    cpr: str | None = None
    request_id: str | None = None
    organisation: Organisation = Organisation()
    operation_id: str | None = None  # what scenarios match on


class Mock:
    def __init__(
        self,
        fixtures: Fixtures,
        closed_world: bool = False,
        store: Store | None = None,
        caps: Caps | None = None,
    ) -> None:
        self.fixtures = fixtures
        self.directory = Directory(fixtures.personas, closed_world)
        self.occupations = Occupations(fixtures.occupations, closed_world)
        self.options = {o["moedetilbudId"]: o for o in fixtures.moedetilbud}
        self.store = store or MemoryStore(fixtures.jobagents)
        # the gate of every new sandbox: the web side admits a business request's, the control
        # plane a clock change's
        self.sandboxes = Admissions(self.store, caps or DEFAULT_CAPS)
        self.control = ControlPlane(self.store, self.sandboxes)
        # set when serving as a proxy (`serve --upstream`): health names it, drift reports on it
        self.upstream: Upstream | None = None

    # Jobagent
    def get_jobagenter(self, caller: Caller) -> dict[str, Any]:
        with self._citizen(caller) as (sandbox, person):
            return {"jobagenter": jobagenter.list_for(sandbox, person.cpr)}

    def get_jobagent(self, caller: Caller, jobagent_id: str) -> dict[str, Any]:
        if caller.request_id is not None:
            # a read that claims an x-requestId is a write: a repeat is 412 (seed lines 21-24)
            return self._write(
                caller,
                lambda sandbox, person: jobagenter.get(sandbox, _known(person).cpr, jobagent_id),
                looked_up=jobagent_id,
            )
        with self._citizen(caller) as (sandbox, person):
            return jobagenter.get(sandbox, person.cpr, jobagent_id)

    def get_jobagenter_paa_email(self, caller: Caller, email: str) -> dict[str, Any]:
        with self._maybe_citizen(caller, without_cpr=EVERY_CITIZEN) as (sandbox, person):
            cpr = person.cpr if person else None
            return {"jobagenter": jobagenter.find_by_email(sandbox, email, cpr)}

    def create_jobagent(self, caller: Caller, body: dict[str, Any]) -> str:
        jobagent_id = jobagenter.identifier(body)
        return self._write(
            caller,
            lambda sandbox, person: jobagenter.create(
                sandbox, _known(person), body, self.occupations, jobagent_id
            ),
            looked_up=jobagent_id if body.get("jobagentIdentifier") else None,
            body=body,
        )

    def update_jobagent(self, caller: Caller, jobagent_id: str, body: dict[str, Any]) -> None:
        self._write(
            caller,
            lambda sandbox, person: jobagenter.replace(
                sandbox, _known(person), jobagent_id, body, self.occupations
            ),
            looked_up=jobagent_id.lower(),
            body=body,
        )

    def verify_jobagent_email(self, caller: Caller, jobagent_id: str) -> None:
        self._write(
            caller,
            lambda sandbox, person: jobagenter.verify_email(
                sandbox, person.cpr if person else None, jobagent_id
            ),
            looked_up=jobagent_id.lower(),
        )

    def delete_jobagent(self, caller: Caller, jobagent_id: str) -> None:
        self._write(
            caller,
            lambda sandbox, person: jobagenter.delete(sandbox, _known(person).cpr, jobagent_id),
            looked_up=jobagent_id.lower(),
        )

    # Tilmelding
    def create_tilmelding(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        def enroll(sandbox: Sandbox, person: Person | None) -> dict[str, Any]:
            citizen = _known(person)
            tilmelding.check(sandbox, citizen, body, self._enrollment_rules(caller, CREATE))
            return tilmelding.record(sandbox, citizen, body)

        return self._write(caller, enroll, body=body)

    def tilmeld_og_book(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        """Enroll and book, all or nothing: every rule is checked before anything is stored."""

        def enroll_and_book(sandbox: Sandbox, person: Person | None) -> dict[str, Any]:
            citizen = _known(person)
            rules = self._enrollment_rules(caller, ENROLL_AND_BOOK, booking.COMPUTED)
            booking.check_person(sandbox, citizen, rules.table)
            tilmelding.check(sandbox, citizen, body, rules)
            slot = booking.check_slot(sandbox, citizen, body, self.options, rules.table)
            enrollment = tilmelding.record(sandbox, citizen, body)
            return {
                "serviceReceipt": enrollment["serviceReceipt"],
                "jobCenterReceipt": f"{enrollment['borgerkvitteringstekst']} Mødet er booket.",
                "phone": enrollment["phone"],
                "noSelfActivatingCodeNeeded": True,
                "indkaldelseId": booking.book(sandbox, citizen, slot),
            }

        return self._write(caller, enroll_and_book, body=body)

    def free_slots(
        self, sandbox_key: str, moedetilbud_id: str, first: date | None, last: date | None
    ) -> dict[str, Any]:
        """An interview option's free slots in a sandbox (GET /__admin/slots)."""
        option = self.options.get(moedetilbud_id.lower())
        if option is None:
            detail = f"No interview option {moedetilbud_id} in fixtures/moedetilbud.json."
            raise NotFound(None, detail)
        return {
            "moedetilbudId": option["moedetilbudId"],
            "navn": option["navn"],
            "slots": [
                {"start": slot.isoformat()}
                for slot in self.open_slots(sandbox_key, option["moedetilbudId"], first, last)
            ],
        }

    def open_slots(
        self,
        sandbox_key: str,
        moedetilbud_id: str,
        first: date | None = None,
        last: date | None = None,
    ) -> list[datetime]:
        """The free slots of an option (none of an unknown one), earliest first."""
        option = self.options.get(moedetilbud_id.lower())
        if option is None:
            return []
        with self.store.snapshot(sandbox_key) as sandbox:
            return booking.free_slots(sandbox, option, first, last)

    def today(self, sandbox_key: str) -> date:
        with self.store.snapshot(sandbox_key) as sandbox:
            return sandbox.clock.today()

    def _enrollment_rules(
        self, caller: Caller, operation_id: str, computed: frozenset[int] = frozenset()
    ) -> tilmelding.EnrollmentRules:
        return tilmelding.EnrollmentRules(
            Refusals(operation_id),
            caller.organisation,
            self.fixtures.codelists,
            self.occupations,
            computed,
        )

    def _write(
        self,
        caller: Caller,
        work: Callable[[Sandbox, Person | None], Result],
        looked_up: str | None = None,
        body: Any = None,
    ) -> Result:
        """A write in the caller's sandbox: the x-requestId claimed, the citizen looked up, then
        `work`, all one atomic store write (store.write, which may run it again on a conflict).
        It says up front what it reads: the x-requestId and the job agent it looks up
        (`looked_up`, lower case as stored); no write reads a citizen's whole list, which a
        store reading ahead would then read on every write. A scenario matching the request
        (and `body`) is decided first: the write is dropped, its step taken (once a request,
        however often `attempt` runs), then the write made again or a scripted answer raised."""
        assert caller.request_id is not None, "the contract requires x-requestId here"
        request_id = caller.request_id
        memo = scenarios.memo()

        def attempt(sandbox: Sandbox) -> Result:
            if sandbox.scenarios and not memo.decided:
                found = scenarios.matching(sandbox.scenarios, caller.operation_id, caller.cpr, body)
                if found:
                    raise scenarios.Undecided(found)
            idempotency.claim(sandbox, request_id)
            return work(sandbox, self._person(caller, sandbox))

        reads = DeclaredReads(request_id=request_id, jobagent_id=looked_up)
        try:
            return self.store.write(caller.sandbox, attempt, reads)
        except scenarios.Undecided as undecided:
            self._decide(caller, undecided.candidates, memo)
        return self.store.write(caller.sandbox, attempt, reads)

    def _decide(
        self, caller: Caller, candidates: list[dict[str, Any]], memo: scenarios.Memo
    ) -> None:
        """A step of the oldest matching scenario not used up, one atomic store operation."""
        take = functools.partial(self.store.take_step, caller.sandbox)
        scenarios.decide(memo, candidates, take)

    # the sandbox and the citizen, for a read
    @contextmanager
    def _citizen(self, caller: Caller) -> Iterator[tuple[Sandbox, Person]]:
        with self._maybe_citizen(caller) as (sandbox, person):
            yield sandbox, _known(person)

    @contextmanager
    def _maybe_citizen(
        self, caller: Caller, without_cpr: CitizenSelector = None
    ) -> Iterator[tuple[Sandbox, Person | None]]:
        """A read sees the job agents of the caller's citizen, or without a CPR header those
        `without_cpr` names: a snapshot reads what it is told up front."""
        rows = caller.cpr if caller.cpr is not None else without_cpr
        memo = scenarios.memo()
        with self.store.snapshot(caller.sandbox, citizen=rows) as sandbox:
            found = []
            if sandbox.scenarios and not memo.decided:
                found = scenarios.matching(sandbox.scenarios, caller.operation_id, caller.cpr, None)
            if not found:
                yield sandbox, self._person(caller, sandbox)
                return
        self._decide(caller, found, memo)  # the step decided, the snapshot read again
        with self.store.snapshot(caller.sandbox, citizen=rows) as sandbox:
            yield sandbox, self._person(caller, sandbox)

    def _person(self, caller: Caller, sandbox: Sandbox) -> Person | None:
        """The citizen the CPR header names, as of the sandbox's mock time (noted for the
        journal)."""
        now = sandbox.clock.now()
        entries.note_clock(caller.sandbox, now)
        return self.directory.find(caller.cpr, now.date()) if caller.cpr is not None else None


def _known(person: Person | None) -> Person:
    assert person is not None, "the contract requires the CPR header here"
    return person
