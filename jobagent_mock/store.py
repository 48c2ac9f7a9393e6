"""All mutable state, in plain Python: sandboxes of citizens' data, each changed atomically, with
an exact reset(). The memory store serves one process; stores.py holds the shared ones."""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobagent_mock.clock import Clock
from jobagent_mock.errors import ReplayedRequest

DEFAULT_SANDBOX = "default"
REQUEST_ID_RETENTION = timedelta(days=7)
JOURNAL_SIZE = 500


@dataclass
class Sandbox:
    """One isolated world: what one client (and sandbox header) sees and changes.

    Job agents and request ids, the parts that grow with use, are reached through methods, so
    a shared store can keep them as rows. In memory a job agent is kept as its JSON text: one
    string instead of a tree of dicts the garbage collector would walk, again and again, in
    full collections that grow with the sandbox (100 ms pauses after 30,000 creates); and
    every reader gets a copy of its own.
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
    # x-requestId -> when it was first accepted (mock time)
    request_ids: dict[str, datetime] = field(default_factory=dict)
    # jobagentIdentifier -> its citizen, so owner_of need not look through every citizen
    owners: dict[str, str] = field(default_factory=dict)

    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        """The citizen's job agents by (lower-case) identifier, in the order they came."""
        return {i: json.loads(text) for i, text in self.jobagents.get(cpr, {}).items()}

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        self.jobagents.setdefault(cpr, {})[jobagent_id] = json.dumps(record)
        self.owners[jobagent_id] = cpr

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:
        del self.jobagents[cpr][jobagent_id]
        self.owners.pop(jobagent_id, None)

    def owner_of(self, jobagent_id: str) -> str | None:
        return self.owners.get(jobagent_id)

    def citizens(self) -> list[str]:
        """Every citizen with a job agent."""
        return list(self.jobagents)

    def claim_request_id(self, request_id: str) -> None:
        """Remember an accepted x-requestId; one seen within 7 days of mock time is refused."""
        now = self.clock.now()
        # oldest first (insertion order), so forgetting expired ids stops at the first fresh one
        while self.request_ids:
            oldest, first_seen = next(iter(self.request_ids.items()))
            if now - first_seen < REQUEST_ID_RETENTION:
                break
            del self.request_ids[oldest]
        seen = self.request_ids.pop(request_id, None)
        if seen is not None and now - seen < REQUEST_ID_RETENTION:
            self.request_ids[request_id] = seen
            raise ReplayedRequest(None, f"The x-requestId {request_id} was received before.")
        self.request_ids[request_id] = now


class Store:
    """What every store offers. `transaction` holds a sandbox exclusively and keeps what the
    operation changed, also when it ends in a refusal (a claimed x-requestId stays claimed);
    `snapshot` is for reading only."""

    def __init__(self, seed_jobagents: list[dict[str, Any]]) -> None:
        self._seed = copy.deepcopy(seed_jobagents)

    def transaction(self, key: str = DEFAULT_SANDBOX) -> Any:
        raise NotImplementedError

    def snapshot(self, key: str = DEFAULT_SANDBOX) -> Any:
        raise NotImplementedError

    def reset(self, key: str | None = None) -> None:
        """Back to the fixtures: one sandbox, or every sandbox when key is None."""
        raise NotImplementedError

    def record(self, key: str, entry: dict[str, Any]) -> None:
        """Add an entry to the sandbox's journal, which keeps the newest JOURNAL_SIZE."""
        raise NotImplementedError

    def journal(self, key: str) -> list[dict[str, Any]]:
        """The sandbox's journal, newest first."""
        raise NotImplementedError

    def clear_journal(self, key: str) -> None:
        raise NotImplementedError

    def fresh(self) -> Sandbox:
        sandbox = Sandbox()
        for cpr, jobagent_id, agent in self.seed():
            sandbox.put_agent(cpr, jobagent_id, agent)
        return sandbox

    def seed(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """The fixture job agents: citizen, identifier (lower case), record."""
        for record in copy.deepcopy(self._seed):
            agent = record["jobagent"]
            yield record["cpr"], agent["jobagentIdentifier"].lower(), agent


class MemoryStore(Store):
    """State in this process: the default, for one worker."""

    def __init__(self, seed_jobagents: list[dict[str, Any]]) -> None:
        super().__init__(seed_jobagents)
        self._sandboxes: dict[str, Sandbox] = {}
        self._journals: dict[str, deque[dict[str, Any]]] = {}
        # One lock for everything: requests are short, and it makes each operation atomic.
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        with self._lock:
            sandbox = self._sandboxes.get(key)
            if sandbox is None:
                sandbox = self._sandboxes[key] = self.fresh()
            yield sandbox

    snapshot = transaction

    def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._sandboxes.clear()
                self._journals.clear()
            else:
                self._sandboxes.pop(key, None)
                self._journals.pop(key, None)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._journals.setdefault(key, deque(maxlen=JOURNAL_SIZE)).appendleft(entry)

    def journal(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._journals.get(key, ()))

    def clear_journal(self, key: str) -> None:
        with self._lock:
            self._journals.pop(key, None)
