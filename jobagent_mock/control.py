"""The control plane's engine side: reset, the request journal, coverage and the clock, per
sandbox."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any

from jobagent_mock.contract import coverage
from jobagent_mock.foundations.clock import Clock, OutOfRange
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, InvalidInput, NotFound
from jobagent_mock.foundations.fixtures import Fixtures
from jobagent_mock.journal import entries
from jobagent_mock.journal.recorder import Recorder
from jobagent_mock.rules import scenarios
from jobagent_mock.stores import Sandbox, Store
from jobagent_mock.stores.base import Counted, Entry, Outcome, StoreUnavailable
from jobagent_mock.stores.sandboxes import Admissions

# a journal entry to write: sandbox, entry, the mock time the operation read (None: unread)
Exchange = tuple[str, dict[str, Any], datetime | None]
# Where the count of journal entries a process could not write is kept, as an outcome counted
# in a sandbox no client can name (their keys hold no ':'): every worker's drops, in the store
# every worker reads, cleared only by a reset of every sandbox.
DROPS_SANDBOX = "mock:journal"
DROPPED: Outcome = ("journal entry dropped", 0, 0)


class ControlPlane:
    def __init__(self, store: Store, sandboxes: Admissions | None = None) -> None:
        self._store = store
        self._sandboxes = sandboxes or Admissions(store)
        self._recorder: Recorder[Exchange] = Recorder(
            self._record_all, (StoreUnavailable, *store.outages), store.batches
        )

    def reset(self, sandbox: str | None) -> None:
        """One sandbox back to the fixtures, or every sandbox when None; either frees its place
        among the admitted sandboxes."""
        self._recorder.flush()  # what was answered before the reset is journaled before it
        self._store.reset(sandbox)
        self._sandboxes.release(sandbox)

    def record(self, sandbox: str, entry: dict[str, Any], now: datetime | None = None) -> None:
        """Journal an exchange at the sandbox's mock time: `now` as the operation read it, else
        read here."""
        self._record_all([(sandbox, entry, now)])

    def record_soon(
        self, sandbox: str, entry: dict[str, Any], now: datetime | None = None
    ) -> Future[None]:
        """As `record`, in this process's next batch of writes (a shared store's); the future
        is answered once the entry is written or, retried alone and failed again, counted as
        dropped (`dropped_entries`). It never fails."""
        return self._recorder.add((sandbox, entry, now))

    def dropped_entries(self) -> int:
        """Journal entries the mock could not write: every worker's counted in the store, and
        this process's not yet counted there."""
        counted = self._store.outcomes(DROPS_SANDBOX)
        return sum(row["count"] for row in counted) + self._recorder.dropped

    def _record_all(self, exchanges: list[Exchange], dropped: int = 0) -> None:
        entries: list[Entry] = []
        outcomes: list[Counted] = [(DROPS_SANDBOX, DROPPED, None)] * dropped
        for sandbox, entry, now in exchanges:
            if now is None:
                with self._store.snapshot(sandbox) as state:
                    now = state.clock.now()
            entries.append((sandbox, {"time": now.isoformat(), **entry}))
            counted = coverage.outcome_of(entry)
            if counted is not None:  # beside the journal, and kept past its last 500 entries
                outcomes.append((sandbox, *counted))
        self._store.record_all(entries, outcomes)

    def coverage(self, sandbox: str, fixtures: Fixtures) -> dict[str, Any]:
        """What the sandbox's requests received against what the contract documents."""
        self._recorder.flush()
        return coverage.report(sandbox, self._store.outcomes(sandbox), fixtures)

    def requests(
        self,
        sandbox: str,
        operation_id: str | None = None,
        status: int | None = None,
        since: str | None = None,
        until: str | None = None,
        fejlkode: int | None = None,
        cpr: str | None = None,
        scenario: str | None = None,
    ) -> dict[str, Any]:
        """The journal, newest first, and how many entries the filters selected; `since` and
        `until` are RFC 3339 times (the contract's); `cpr` is matched masked, as kept."""
        # RFC 3339 lets `t` and `z` be lower case; Python reads them in upper case only
        window = [datetime.fromisoformat(t.upper()) if t else None for t in (since, until)]
        self._recorder.flush()
        kept = self._store.journal(sandbox)
        found = entries.select(kept, operation_id, status, *window)
        masked = entries.redact(cpr) if cpr is not None else None
        found = [
            entry
            for entry in found
            if (fejlkode is None or _fejlkode_of(entry) == fejlkode)
            and (masked is None or entries.citizen_of(entry) == masked)
            and (scenario is None or entry.get("scenario") == scenario)
        ]
        return {"requests": found, "count": len(found)}

    def add_scenario(self, sandbox: str, definition: dict[str, Any]) -> dict[str, Any]:
        """A new scenario (scenarios.created refuses what the contract does not document),
        seen by every worker at once: it is part of the sandbox."""

        def add(state: Sandbox) -> dict[str, Any]:
            scenario = scenarios.created(definition, len(state.scenarios))
            state.scenarios = [*state.scenarios, scenario]
            return scenario

        self._sandboxes.admit(sandbox)  # a write: it may create the sandbox (429 at a cap)
        return scenarios.shown(self._store.write(sandbox, add), 0)

    def scenarios(self, sandbox: str) -> list[dict[str, Any]]:
        """The sandbox's scenarios, oldest first, with their hits."""
        with self._store.snapshot(sandbox) as state:
            found = list(state.scenarios)
        hits = self._store.steps_taken(sandbox) if found else {}
        return [scenarios.shown(s, hits.get(s["id"], 0)) for s in found]

    def scenario(self, sandbox: str, scenario_id: str) -> dict[str, Any]:
        found = next((s for s in self.scenarios(sandbox) if s["id"] == scenario_id), None)
        if found is None:
            raise NotFound(None, f"No scenario {scenario_id} in this sandbox.")
        return found

    def delete_scenario(self, sandbox: str, scenario_id: str) -> None:
        def remove(state: Sandbox) -> None:
            kept = [s for s in state.scenarios if s["id"] != scenario_id]
            if len(kept) == len(state.scenarios):
                raise NotFound(None, f"No scenario {scenario_id} in this sandbox.")
            state.scenarios = kept

        self._sandboxes.admit(sandbox)
        self._store.write(sandbox, remove)

    def clear_requests(self, sandbox: str) -> None:
        self._recorder.flush()
        self._store.clear_journal(sandbox)

    def clock(self, sandbox: str) -> dict[str, Any]:
        with self._store.snapshot(sandbox) as state:
            return {"now": state.clock.now().isoformat(), "pinned": state.clock.is_pinned}

    def change_clock(
        self, sandbox: str, now: datetime | None, advance_seconds: int | None
    ) -> dict[str, Any]:
        """Pin and/or advance the clock; a 400 (and the clock unchanged) for a change past the
        range the rules compute with."""

        def change(state: Sandbox) -> None:
            changed = Clock.from_state(state.clock.state())
            try:
                if now is not None:
                    changed.pin(now)
                if advance_seconds:
                    changed.advance(timedelta(seconds=advance_seconds))
            except OutOfRange as exc:
                where = "body.now" if now is not None else "body.advanceSeconds"
                raise InvalidInput(FAILED_TO_VALIDATE, str(exc), {where: [str(exc)]}) from None
            state.clock = changed

        self._sandboxes.admit(sandbox)  # a write: it may create the sandbox (429 at a cap)
        self._store.write(sandbox, change)
        return self.clock(sandbox)

    def release_clock(self, sandbox: str) -> dict[str, Any]:
        self._sandboxes.admit(sandbox)
        self._store.write(sandbox, lambda state: state.clock.release())
        return self.clock(sandbox)


def _fejlkode_of(entry: dict[str, Any]) -> int | None:
    counted = coverage.outcome_of(entry)
    return counted[0][2] or None if counted is not None else None
