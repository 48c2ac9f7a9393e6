"""What every store keeps and offers: the Sandbox, the typed Store protocol, and the one rule of
a transaction (kept on success and on a refusal, dropped on anything unexpected)."""

from __future__ import annotations

import copy
import enum
import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol, TypeVar

from jobagent_mock.foundations import jsontext
from jobagent_mock.foundations.batch_writer import Batches
from jobagent_mock.foundations.clock import Clock
from jobagent_mock.foundations.errors import Fejl, Unavailable
from jobagent_mock.journal.drift import Departure
from jobagent_mock.stores.sandboxes import Caps, Refusal

DEFAULT_SANDBOX = "default"
JOURNAL_SIZE = 500
# an answer as coverage counts it: operationId, status, fejlkode (0 when it carries none)
Outcome = tuple[str, int, int]
# a journal entry of a sandbox; an outcome counted in a sandbox, with its x-requestId
Entry = tuple[str, dict[str, Any]]
Counted = tuple[str, Outcome, str | None]


class _Every(enum.Enum):
    CITIZEN = "every citizen"


EVERY_CITIZEN: Final = _Every.CITIZEN
# The job agents a snapshot reads besides the sandbox's small parts: one citizen's (their CPR),
# every citizen's, or none. Said up front, so a store that reads over the network (Redis) reads
# all of it at one moment, in one round trip.
CitizenSelector = str | _Every | None


@dataclass(frozen=True)
class DeclaredReads:
    """What a transaction will look up, said up front: a store that reads over the network
    (Redis) reads it with the lock, in the same round trip; the others may ignore it."""

    request_id: str | None = None  # the x-requestId it claims
    jobagent_id: str | None = None  # the job agent whose owner it asks (owner_of)
    citizen: CitizenSelector = None  # whose job agents it reads (a CPR, EVERY_CITIZEN or none)


NO_DECLARED_READS = DeclaredReads()
Result = TypeVar("Result")
# What a write does to a sandbox: it may run more than once (a store that commits optimistically
# runs it again on a conflict), so it changes nothing but the sandbox it is given.
Work = Callable[["Sandbox"], Result]


class WouldWait(Exception):
    """A store call made where nothing may wait (the event loop, `forbid_waiting`) would have
    waited for another process: nothing was done, make the call again in a thread, or read
    `snapshot` (key, citizen) ahead (`Store.read_ahead`) and make it again in the loop; or the
    write was queued (`queued`), to be awaited before the call is made again; or await `resume`
    (a step of a write: its read, its commit) and make it again in the loop."""

    def __init__(
        self,
        why: str,
        snapshot: tuple[str, CitizenSelector] | None = None,
        queued: Future[Any] | None = None,
        resume: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(why)
        self.snapshot = snapshot
        # a write the store queued instead (SQLite's group commit): await it, then make the
        # call again under `forbid_waiting(written=queued)`, where the write answers from it
        self.queued = queued
        self.resume = resume


# set where nothing may wait: what was done ahead for the call, by the store that did it (the
# snapshots read ahead, by (key, citizen); a write's progress)
_WAITING_FORBIDDEN: ContextVar[dict[Any, Any] | None] = ContextVar(
    "store_waiting_forbidden", default=None
)


# set with it: a write queued ahead for this call (WouldWait.queued), done
_WRITTEN_AHEAD: ContextVar[Future[Any] | None] = ContextVar("store_written_ahead", default=None)


@contextmanager
def forbid_waiting(
    read: dict[Any, Any] | None = None, written: Future[Any] | None = None
) -> Iterator[None]:
    """Store calls in here raise WouldWait where they would wait (a lock, the network); a
    snapshot `read` ahead by (key, citizen) is answered from it, a write from the one
    `written` ahead. Pass the same dict to every call of one request: a store keeps there what
    it did ahead for it."""
    token = _WAITING_FORBIDDEN.set({} if read is None else read)
    written_token = _WRITTEN_AHEAD.set(written)
    try:
        yield
    finally:
        _WRITTEN_AHEAD.reset(written_token)
        _WAITING_FORBIDDEN.reset(token)


def written_ahead() -> Future[Any] | None:
    """The write queued ahead for this context (`forbid_waiting(written=...)`), if any."""
    return _WRITTEN_AHEAD.get()


def waiting_forbidden() -> bool:
    return _WAITING_FORBIDDEN.get() is not None


def prefetched_snapshot(key: str, citizen: CitizenSelector) -> Sandbox | None:
    """The snapshot read ahead for this context (`forbid_waiting(read=...)`), if any."""
    found: Sandbox | None = (_WAITING_FORBIDDEN.get() or {}).get((key, citizen))
    return found


def done_ahead() -> dict[Any, Any]:
    """What was done ahead for this call (`forbid_waiting`), for a store to add to."""
    done = _WAITING_FORBIDDEN.get()
    assert done is not None, "only where waiting is forbidden"
    return done


class NotAsked(RuntimeError):
    """A snapshot was read beyond the rows it was opened for: a bug in the reader, never a
    reason for another round trip (which could see a later write)."""


def outcome_row(outcome: Outcome, count: int, last_request_id: str | None) -> dict[str, Any]:
    """An outcome as every store's `outcomes()` returns it."""
    operation_id, status, fejlkode = outcome
    return {
        "operationId": operation_id,
        "status": status,
        "fejlkode": fejlkode,
        "count": count,
        "lastRequestId": last_request_id,
    }


class StoreUnavailable(Unavailable):
    """The mock's own store cannot be reached: a 503 the same request may pass once it is back,
    never a 500 that calls it a bug."""


@dataclass
class Sandbox:
    """One isolated world: what one client (and sandbox header) sees and changes.

    Job agents and request ids, the parts that grow with use, are reached through methods, so
    a shared store can keep them as rows. In memory a job agent is kept as its JSON text: one
    string instead of a tree of dicts the garbage collector would walk, again and again, in
    full collections that grow with the sandbox (long pauses: bench/results.md); and every
    reader gets a copy of its own.
    """

    clock: Clock = field(default_factory=Clock)
    # cpr -> jobagentIdentifier (lower case) -> JobagentResponseDto as JSON
    jobagents: dict[str, dict[str, str]] = field(default_factory=dict)
    # cpr -> enrollments made through the mock
    enrollments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # cpr -> bookings made through the mock
    bookings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # (moedetilbudId, slot start in ISO form) of every booked slot
    taken_slots: set[tuple[str, str]] = field(default_factory=set)
    # x-requestId -> when it was first accepted (mock time), oldest first
    request_ids: dict[str, datetime] = field(default_factory=dict)
    # jobagentIdentifier -> its citizen, so owner_of need not look through every citizen
    owners: dict[str, str] = field(default_factory=dict)
    # the scenarios (rules/scenarios.py), oldest first: few, read with every snapshot and write
    scenarios: list[dict[str, Any]] = field(default_factory=list)

    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        """The citizen's job agents by (lower-case) identifier, in the order they came."""
        return {i: json.loads(text) for i, text in self.jobagents.get(cpr, {}).items()}

    def agent_of(self, cpr: str, jobagent_id: str) -> dict[str, Any] | None:
        """One of the citizen's job agents, by (lower-case) identifier: only it is decoded."""
        text = self.jobagents.get(cpr, {}).get(jobagent_id)
        return None if text is None else json.loads(text)

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        self.jobagents.setdefault(cpr, {})[jobagent_id] = jsontext.dumps(record)
        self.owners[jobagent_id] = cpr

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:
        del self.jobagents[cpr][jobagent_id]
        self.owners.pop(jobagent_id, None)

    def owner_of(self, jobagent_id: str) -> str | None:
        return self.owners.get(jobagent_id)

    def citizens(self) -> list[str]:
        """Every citizen with a job agent."""
        return list(self.jobagents)

    def request_id_seen(self, request_id: str, forget_before: datetime) -> datetime | None:
        """When an x-requestId was first accepted, after forgetting those accepted at or before
        `forget_before` (the rule is rules/idempotency.py's)."""
        # oldest first (insertion order), so forgetting stops at the first fresh one
        while self.request_ids:
            oldest, first_seen = next(iter(self.request_ids.items()))
            if first_seen > forget_before:
                break
            del self.request_ids[oldest]
        seen = self.request_ids.get(request_id)
        return None if seen is None or seen <= forget_before else seen

    def remember_request_id(self, request_id: str, at: datetime, keep: int) -> None:
        """Remember an accepted id; of more than `keep`, the oldest are forgotten."""
        self.request_ids.pop(request_id, None)  # to the end: the order stays oldest first
        self.request_ids[request_id] = at
        while len(self.request_ids) > keep:
            del self.request_ids[next(iter(self.request_ids))]


class Store(Protocol):
    """What the engine asks of a store. `transaction` holds a sandbox exclusively; `snapshot`
    reads one consistent state of it (its small parts and the job agents of `citizen`: a CPR,
    EVERY_CITIZEN or None; a store may raise NotAsked on a read beyond those); `reset` restores
    the fixtures exactly."""

    # True when a call can wait for another process (a lock, the network): the web side then
    # calls it off the event loop
    shared: bool
    # True when a snapshot of a shared store can be read without waiting, or else raises
    # WouldWait under `forbid_waiting` (SQLite's WAL): the web side may try a read in the loop
    reads_in_loop: bool
    # True when `read_ahead` reads a snapshot without blocking the loop (Redis, asynchronously)
    reads_ahead: bool
    # what the store's client raises when the store cannot be reached
    outages: tuple[type[BaseException], ...]
    # the thread of this process that group-commits the store's writes, if it has one (SQLite):
    # a job submitted runs in its next transaction, so the journal joins the business writes
    batches: Batches[Callable[[], Any]] | None
    # True when `write` under `forbid_waiting` raises WouldWait with a `resume` for each step
    # that waits (Redis: its read and its commit, asynchronously): the web side makes the write
    # in the event loop
    writes_in_loop: bool

    async def read_ahead(self, key: str, citizen: CitizenSelector) -> Sandbox:
        """The snapshot `snapshot(key, citizen)` would read, read in the event loop without
        blocking it, for `forbid_waiting(read=...)` to answer from."""
        ...

    def transaction(
        self, key: str = DEFAULT_SANDBOX, reads: DeclaredReads = NO_DECLARED_READS
    ) -> AbstractContextManager[Sandbox]: ...

    def write(
        self, key: str, work: Work[Result], reads: DeclaredReads = NO_DECLARED_READS
    ) -> Result:
        """`work` on the sandbox, atomically: what it changed is kept on success and on a
        refusal (Fejl), dropped on anything else; its result (or refusal) is the write's."""
        ...

    def snapshot(
        self, key: str = DEFAULT_SANDBOX, citizen: CitizenSelector = None
    ) -> AbstractContextManager[Sandbox]: ...

    def reset(self, key: str | None = None) -> None:
        """Back to the fixtures: one sandbox, or every sandbox when key is None."""

    def record(self, key: str, entry: dict[str, Any]) -> None:
        """Add an entry to the sandbox's journal, which keeps the newest JOURNAL_SIZE."""

    def record_all(self, entries: list[Entry], outcomes: list[Counted]) -> None:
        """Journal entries (oldest first) and count outcomes, of any sandboxes: one write where
        the store can make it one."""

    def journal(self, key: str) -> list[dict[str, Any]]:
        """The sandbox's journal, newest first."""

    def clear_journal(self, key: str) -> None: ...

    def count_outcome(self, key: str, outcome: Outcome, request_id: str | None) -> None:
        """Count an answer the sandbox got, remembering its x-requestId; unlike the journal,
        never capped: kept until the sandbox is reset."""

    def outcomes(self, key: str) -> list[dict[str, Any]]:
        """Every outcome the sandbox got: operationId, status, fejlkode (0: none), count and
        lastRequestId."""

    def check(self) -> None:
        """Nothing when the store answers; StoreUnavailable (naming the store) when it does not."""

    def take_step(self, key: str, scenario_id: str, steps: int, repeat: bool) -> int | None:
        """One atomic operation: the scenario's hits + 1 unless its `steps` are used up; the
        0-based step consumed (for `repeat` the last again once used up), None when used up."""

    def steps_taken(self, key: str) -> dict[str, int]:
        """The hits of the sandbox's scenarios, by id (cleared by reset)."""

    # the proxy's drift report (journal/drift.py): one line an (operation, place, kind, value),
    # across every worker and host, never capped (no more lines than the contract has places,
    # times the few codes an upstream sends)
    def count_drift(self, seen: list[tuple[Departure, str]]) -> None:
        """Count departures, each seen at an RFC 3339 time: first and last seen, the newest
        example."""

    def drift(self) -> list[dict[str, Any]]:
        """Every drift line (drift.drift_row)."""

    def clear_drift(self) -> None: ...

    # admissions (sandboxes.py): which sandboxes exist, whose, and when last used
    def admit(self, key: str, client: str, now: float, caps: Caps) -> Refusal: ...

    def is_admitted(self, key: str) -> bool: ...

    def release(self, key: str | None) -> None: ...


def step_taken(hits: int, steps: int, repeat: bool) -> int | None:
    """The step a request takes when it is the scenario's `hits`-th (1-based), the rule every
    store's take_step applies (the Redis and SQLite ones in their own words, atomically)."""
    if hits <= steps:
        return hits - 1
    return steps - 1 if repeat else None


class SeededStore(ABC):
    """The part every store shares: the fixtures a sandbox starts from, and what a transaction
    keeps. Each store says how it holds a sandbox and how it keeps or drops what changed."""

    shared = False
    reads_in_loop = False
    reads_ahead = False
    batches: Batches[Callable[[], Any]] | None = None
    writes_in_loop = False
    # what the store's client raises when the store cannot be reached: a 503 (reachable())
    outages: tuple[type[BaseException], ...] = ()
    # the store as health and a 503 name it (no password)
    description = "memory"

    def __init__(self, seed_jobagents: list[dict[str, Any]]) -> None:
        self._seed = copy.deepcopy(seed_jobagents)

    @contextmanager
    def transaction(
        self, key: str = DEFAULT_SANDBOX, reads: DeclaredReads = NO_DECLARED_READS
    ) -> Iterator[Sandbox]:
        if waiting_forbidden() and self.shared:
            raise WouldWait(f"a transaction on {self.description} may wait for its lock")
        with self.reachable(), self._exclusive_sandbox(key, reads) as sandbox:
            try:
                yield sandbox
            except Fejl:
                self._keep_changes(key, sandbox)  # a refusal keeps what it claimed (an x-requestId)
                raise
            except BaseException:
                # what it changed is forgotten (an outage: never written)
                self._discard_changes(key)
                raise
            self._keep_changes(key, sandbox)

    def write(
        self, key: str, work: Work[Result], reads: DeclaredReads = NO_DECLARED_READS
    ) -> Result:
        with self.transaction(key, reads) as sandbox:
            return work(sandbox)

    @contextmanager
    def reachable(self) -> Iterator[None]:
        """Around every call of the store: its client's outage as StoreUnavailable."""
        try:
            yield
        except self.outages as exc:
            raise StoreUnavailable(
                None,
                f"The mock's store ({self.description}) cannot be reached: "
                f"{type(exc).__name__}. Try again when it is back.",
            ) from exc

    def check(self) -> None:
        with self.reachable():
            self._ping()

    async def read_ahead(self, key: str, citizen: CitizenSelector) -> Sandbox:
        raise NotImplementedError(f"{self.description} reads no snapshot ahead")

    def record_all(self, entries: list[Entry], outcomes: list[Counted]) -> None:
        for key, entry in entries:
            self.record(key, entry)
        for key, outcome, request_id in outcomes:
            self.count_outcome(key, outcome, request_id)

    @abstractmethod
    def record(self, key: str, entry: dict[str, Any]) -> None: ...

    @abstractmethod
    def count_outcome(self, key: str, outcome: Outcome, request_id: str | None) -> None: ...

    @abstractmethod
    def _ping(self) -> None:
        """A round trip to the store."""

    @abstractmethod
    def _exclusive_sandbox(
        self, key: str, reads: DeclaredReads = NO_DECLARED_READS
    ) -> AbstractContextManager[Sandbox]:
        """The sandbox, held exclusively until the context ends."""

    @abstractmethod
    def _keep_changes(self, key: str, sandbox: Sandbox) -> None:
        """Make what the transaction changed last."""

    @abstractmethod
    def _discard_changes(self, key: str) -> None:
        """Forget what the transaction changed (an unexpected failure: a bug, a lost store)."""

    def fresh(self) -> Sandbox:
        """A sandbox as the fixtures make it. A shared store answers every read of a sandbox
        nobody has written to with one: built from the fixtures' job agents encoded once, not
        copied and encoded again on every read."""
        agents, owners = self._fresh_agents
        return Sandbox(jobagents={cpr: dict(a) for cpr, a in agents.items()}, owners=dict(owners))

    @functools.cached_property
    def _fresh_agents(self) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        sandbox = Sandbox()
        for cpr, jobagent_id, agent in self.seed():
            sandbox.put_agent(cpr, jobagent_id, agent)
        return sandbox.jobagents, sandbox.owners

    def seed(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """The fixture job agents: citizen, identifier (lower case), record."""
        for record in copy.deepcopy(self._seed):
            agent = record["jobagent"]
            yield record["cpr"], agent["jobagentIdentifier"].lower(), agent
