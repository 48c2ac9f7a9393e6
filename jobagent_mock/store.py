"""All mutable state, in plain Python: per sandbox, then per citizen; one lock; an exact reset()."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobagent_mock.clock import Clock
from jobagent_mock.errors import ReplayedRequest
from jobagent_mock.journal import Journal

DEFAULT_SANDBOX = "default"
REQUEST_ID_RETENTION = timedelta(days=7)


@dataclass
class Sandbox:
    """One isolated world: what one client (and sandbox header) sees and changes."""

    clock: Clock = field(default_factory=Clock)
    # cpr -> jobagentIdentifier (lower case) -> JobagentResponseDto
    jobagents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # cpr -> enrollments made through the mock
    enrollments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # cpr -> bookings made through the mock
    bookings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # (moedetilbudId, slot start in ISO form) of every booked slot
    taken_slots: set[tuple[str, str]] = field(default_factory=set)
    # x-requestId -> when it was first accepted (mock time)
    request_ids: dict[str, datetime] = field(default_factory=dict)
    journal: Journal = field(default_factory=Journal)

    def owner_of(self, jobagent_id: str) -> str | None:
        return next((cpr for cpr, agents in self.jobagents.items() if jobagent_id in agents), None)

    def claim_request_id(self, request_id: str) -> None:
        """Remember an accepted x-requestId; one seen within 7 days of mock time is refused."""
        now = self.clock.now()
        self.request_ids = {
            rid: seen for rid, seen in self.request_ids.items() if now - seen < REQUEST_ID_RETENTION
        }
        if request_id in self.request_ids:
            raise ReplayedRequest(None, f"The x-requestId {request_id} was received before.")
        self.request_ids[request_id] = now


class Store:
    def __init__(self, seed_jobagents: list[dict[str, Any]]) -> None:
        self._seed = copy.deepcopy(seed_jobagents)
        self._sandboxes: dict[str, Sandbox] = {}
        # One lock for everything: requests are short, and it makes each operation atomic.
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        """The sandbox, held exclusively for the duration of one operation."""
        with self._lock:
            sandbox = self._sandboxes.get(key)
            if sandbox is None:
                sandbox = self._sandboxes[key] = self._fresh()
            yield sandbox

    def reset(self, key: str | None = None) -> None:
        """Back to the fixtures: one sandbox, or every sandbox when key is None."""
        with self._lock:
            if key is None:
                self._sandboxes.clear()
            else:
                self._sandboxes.pop(key, None)

    def sandbox_keys(self) -> list[str]:
        with self._lock:
            return sorted(self._sandboxes)

    def _fresh(self) -> Sandbox:
        sandbox = Sandbox()
        for record in copy.deepcopy(self._seed):
            agent = record["jobagent"]
            jobagent_id = agent["jobagentIdentifier"].lower()
            sandbox.jobagents.setdefault(record["cpr"], {})[jobagent_id] = agent
        return sandbox
