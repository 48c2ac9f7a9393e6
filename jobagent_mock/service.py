"""The engine's front door: one method per business operation, each one atomic in its sandbox.

Handlers translate HTTP into exactly one call here; nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jobagent_mock import booking, idempotency, jobagenter, journal, tilmelding
from jobagent_mock.control import ControlPlane
from jobagent_mock.errors import NotFound, Refusals
from jobagent_mock.fixtures import Fixtures
from jobagent_mock.occupations import Occupations
from jobagent_mock.persons import Directory, Person
from jobagent_mock.stores import (
    DEFAULT_SANDBOX,
    EVERY_CITIZEN,
    Ahead,
    MemoryStore,
    Rows,
    Sandbox,
    Store,
)
from jobagent_mock.tilmelding import Organisation

CREATE, ENROLL_AND_BOOK = "CreateTilmelding", "TilmeldOgBook"


@dataclass(frozen=True)
class Caller:
    """Who is asking: their sandbox, the citizen named by the CPR header, the x-requestId."""

    sandbox: str = DEFAULT_SANDBOX
    cpr: str | None = None
    request_id: str | None = None
    organisation: Organisation = Organisation()


class Mock:
    def __init__(
        self, fixtures: Fixtures, closed_world: bool = False, store: Store | None = None
    ) -> None:
        self.fixtures = fixtures
        self.directory = Directory(fixtures.personas, closed_world)
        self.occupations = Occupations(fixtures.occupations, closed_world)
        self.options = {o["moedetilbudId"]: o for o in fixtures.moedetilbud}
        self.store = store or MemoryStore(fixtures.jobagents)
        self.control = ControlPlane(self.store)

    # Jobagent
    def get_jobagenter(self, caller: Caller) -> dict[str, Any]:
        with self._citizen(caller) as (sandbox, person):
            return {"jobagenter": jobagenter.list_for(sandbox, person.cpr)}

    def get_jobagent(self, caller: Caller, jobagent_id: str) -> dict[str, Any]:
        with self._citizen(caller) as (sandbox, person):
            return jobagenter.get(sandbox, person.cpr, jobagent_id)

    def get_jobagenter_paa_email(self, caller: Caller, email: str) -> dict[str, Any]:
        with self._maybe_citizen(caller, without_cpr=EVERY_CITIZEN) as (sandbox, person):
            cpr = person.cpr if person else None
            return {"jobagenter": jobagenter.find_by_email(sandbox, email, cpr)}

    def create_jobagent(self, caller: Caller, body: dict[str, Any]) -> str:
        jobagent_id = jobagenter.identifier(body)
        with self._citizen(caller, write=True, looked_up=jobagent_id) as (sandbox, person):
            return jobagenter.create(sandbox, person, body, self.occupations, jobagent_id)

    def update_jobagent(self, caller: Caller, jobagent_id: str, body: dict[str, Any]) -> None:
        with self._citizen(caller, write=True) as (sandbox, person):
            jobagenter.replace(sandbox, person, jobagent_id, body, self.occupations)

    def verify_jobagent_email(self, caller: Caller, jobagent_id: str) -> None:
        with self._maybe_citizen(caller, write=True) as (sandbox, person):
            jobagenter.verify_email(sandbox, person.cpr if person else None, jobagent_id)

    def delete_jobagent(self, caller: Caller, jobagent_id: str) -> None:
        with self._citizen(caller, write=True) as (sandbox, person):
            jobagenter.delete(sandbox, person.cpr, jobagent_id)

    # Tilmelding
    def create_tilmelding(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        with self._citizen(caller, write=True) as (sandbox, person):
            tilmelding.check(sandbox, person, body, self._enrollment_rules(caller, CREATE))
            return tilmelding.record(sandbox, person, body)

    def tilmeld_og_book(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        """Enroll and book, all or nothing: every rule is checked before anything is stored."""
        with self._citizen(caller, write=True) as (sandbox, person):
            rules = self._enrollment_rules(caller, ENROLL_AND_BOOK, booking.COMPUTED)
            booking.check_person(sandbox, person, rules.table)
            tilmelding.check(sandbox, person, body, rules)
            slot = booking.check_slot(sandbox, person, body, self.options, rules.table)
            enrollment = tilmelding.record(sandbox, person, body)
            return {
                "serviceReceipt": enrollment["serviceReceipt"],
                "jobCenterReceipt": f"{enrollment['borgerkvitteringstekst']} Mødet er booket.",
                "phone": enrollment["phone"],
                "noSelfActivatingCodeNeeded": True,
                "indkaldelseId": booking.book(sandbox, person, slot),
            }

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

    # the sandbox, the x-requestId and the citizen, in that order
    @contextmanager
    def _citizen(
        self, caller: Caller, write: bool = False, looked_up: str | None = None
    ) -> Iterator[tuple[Sandbox, Person]]:
        with self._maybe_citizen(caller, write, looked_up=looked_up) as (sandbox, person):
            assert person is not None, "the contract requires the CPR header here"
            yield sandbox, person

    @contextmanager
    def _maybe_citizen(
        self,
        caller: Caller,
        write: bool = False,
        without_cpr: Rows = None,
        looked_up: str | None = None,
    ) -> Iterator[tuple[Sandbox, Person | None]]:
        """A read sees the job agents of the caller's citizen, or without a CPR header those
        `without_cpr` names: a snapshot reads what it is told up front. A write says the
        x-requestId it claims and the job agent it will look up (`looked_up`), which a store
        may read with its lock."""
        if write:
            ahead = Ahead(request_id=caller.request_id, jobagent_id=looked_up)
            hold = self.store.transaction(caller.sandbox, ahead)
        else:
            rows = caller.cpr if caller.cpr is not None else without_cpr
            hold = self.store.snapshot(caller.sandbox, citizen=rows)
        with hold as sandbox:
            if write:
                assert caller.request_id is not None, "the contract requires x-requestId here"
                idempotency.claim(sandbox, caller.request_id)
            now = sandbox.clock.now()
            journal.note_clock(caller.sandbox, now)
            today = now.date()
            person = self.directory.find(caller.cpr, today) if caller.cpr is not None else None
            yield sandbox, person
