"""The memory store: every sandbox in this process, for one worker (the default). Bounded: only
admitted sandboxes are kept (sandboxes.py: a cap per client and in all), and each journal at
most JOURNAL_SIZE entries and JOURNAL_BYTES of them."""

from __future__ import annotations

import functools
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from jobagent_mock.foundations import jsontext
from jobagent_mock.journal.drift import Departure, drift_row
from jobagent_mock.stores.base import (
    DEFAULT_SANDBOX,
    JOURNAL_SIZE,
    NO_DECLARED_READS,
    CitizenSelector,
    DeclaredReads,
    Outcome,
    Sandbox,
    SeededStore,
    outcome_row,
    step_taken,
)
from jobagent_mock.stores.sandboxes import Caps, Refusal

# a journal keeps its entries as JSON text, newest first, within this many characters
JOURNAL_BYTES = 2 * 1024 * 1024


@dataclass
class _Journal:
    entries: deque[str] = field(default_factory=lambda: deque(maxlen=JOURNAL_SIZE))
    size: int = 0

    def add(self, text: str) -> None:
        if len(self.entries) == self.entries.maxlen:
            self.size -= len(self.entries[-1])
        self.entries.appendleft(text)
        self.size += len(text)
        while self.size > JOURNAL_BYTES and len(self.entries) > 1:
            self.size -= len(self.entries.pop())


class MemoryStore(SeededStore):
    def __init__(self, seed_jobagents: list[dict[str, Any]]) -> None:
        super().__init__(seed_jobagents)
        self._sandboxes: dict[str, Sandbox] = {}
        self._journals: dict[str, _Journal] = {}
        # sandbox -> outcome -> [count, last x-requestId]
        self._outcomes: dict[str, dict[Outcome, list[Any]]] = {}
        self._admitted: dict[str, tuple[str, float]] = {}
        # sandbox -> scenario id -> hits
        self._steps: dict[str, dict[str, int]] = {}
        # One lock for everything: requests are short, and it makes each operation atomic.
        self._lock = threading.RLock()

    @contextmanager
    def _exclusive_sandbox(
        self,
        key: str,
        reads: DeclaredReads = NO_DECLARED_READS,  # noqa: ARG002 (no round trip to save: read as asked)
    ) -> Iterator[Sandbox]:
        with self._lock:
            sandbox = self._sandboxes.get(key)
            if sandbox is None:  # admitted (sandboxes.py) before its first write
                sandbox = self._sandboxes[key] = self.fresh()
                self._steps.pop(key, None)  # a fresh sandbox (new, or reset) has no hits
            yield sandbox

    def _read(self, key: str) -> AbstractContextManager[Sandbox]:
        """The sandbox under the lock, or the fixtures' for one nobody wrote to: a read creates
        nothing."""
        return _Read(self._lock, self._sandboxes, key, self._unwritten)

    @functools.cached_property
    def _unwritten(self) -> Sandbox:
        """What every sandbox nobody wrote to reads, made once: a read changes nothing it is
        given (a write gets a sandbox of its own, _exclusive_sandbox), so it need not copy the
        fixtures."""
        return self.fresh()

    # admissions (sandboxes.py): key -> (client, last use)
    def admit(self, key: str, client: str, now: float, caps: Caps) -> Refusal:
        with self._lock:
            if key in self._admitted:
                self._admitted[key] = (client, now)
                return None
            for idle in [
                k for k, (_, used) in self._admitted.items() if now - used > caps.idle_ttl
            ]:
                self.reset(idle)
            if sum(1 for c, _ in self._admitted.values() if c == client) >= caps.per_client:
                return "per client"
            if len(self._admitted) >= caps.total:
                return "in all"
            self._admitted[key] = (client, now)
            return None

    def is_admitted(self, key: str) -> bool:
        return key in self._admitted

    def release(self, key: str | None) -> None:
        with self._lock:
            if key is None:
                self._admitted.clear()
            else:
                self._admitted.pop(key, None)

    def _keep_changes(self, key: str, sandbox: Sandbox) -> None:
        """Changes are made in place: kept already."""

    def _discard_changes(self, key: str) -> None:
        """Nothing to undo: rolling back in place would mean copying a sandbox every write, and
        the rules check everything before they store anything, so only a bug leaves a part."""

    def _ping(self) -> None:
        """This process is the store: it answers while anything does."""

    def snapshot(
        self,
        key: str = DEFAULT_SANDBOX,
        citizen: CitizenSelector = None,  # noqa: ARG002 (held under the lock: every read is of one moment)
    ) -> AbstractContextManager[Sandbox]:
        return self._read(key)

    def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._sandboxes.clear()
                self._journals.clear()
                self._outcomes.clear()
                self._steps.clear()
                self._admitted.clear()
            else:
                self._sandboxes.pop(key, None)
                self._journals.pop(key, None)
                self._outcomes.pop(key, None)
                self._steps.pop(key, None)
                self._admitted.pop(key, None)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        text = jsontext.dumps(entry)  # text: one object, never walked by the GC
        with self._lock:
            journal = self._journals.get(key)
            if journal is None:
                journal = self._journals[key] = _Journal()
            journal.add(text)

    def journal(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            found = self._journals.get(key)
            texts = list(found.entries) if found else []
        return [json.loads(text) for text in texts]

    def clear_journal(self, key: str) -> None:
        with self._lock:
            self._journals.pop(key, None)

    def count_outcome(self, key: str, outcome: Outcome, request_id: str | None) -> None:
        with self._lock:
            if key not in self._outcomes:
                self._outcomes[key] = {}
            counted = self._outcomes[key].setdefault(outcome, [0, None])
            counted[0] += 1
            counted[1] = request_id or counted[1]

    def outcomes(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            counted = dict(self._outcomes.get(key, {}))
        return [outcome_row(outcome, n, last) for outcome, (n, last) in counted.items()]

    def take_step(self, key: str, scenario_id: str, steps: int, repeat: bool) -> int | None:
        with self._lock:
            hits = self._steps.setdefault(key, {}).get(scenario_id, 0) + 1
            taken = step_taken(hits, steps, repeat)
            if taken is not None:
                self._steps[key][scenario_id] = hits
            return taken

    def steps_taken(self, key: str) -> dict[str, int]:
        with self._lock:
            return dict(self._steps.get(key, {}))

    # the proxy's drift report: this process's lines (one worker: the memory store's only use)
    @functools.cached_property
    def _drift(self) -> dict[tuple[str, str, str, str], tuple[Departure, int, str, str]]:
        return {}

    def count_drift(self, seen: list[tuple[Departure, str]]) -> None:
        with self._lock:
            for departure, at in seen:
                _, count, first, _ = self._drift.get(departure.key, (departure, 0, at, at))
                self._drift[departure.key] = (departure, count + 1, first, at)

    def drift(self) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self._drift.values())
        return [drift_row(departure, count, first, last) for departure, count, first, last in lines]

    def clear_drift(self) -> None:
        with self._lock:
            self._drift.clear()


class _Read:
    """A read's sandbox under the store's lock: a context manager of two calls, made every
    request, where a generator's costs several."""

    __slots__ = ("_lock", "_sandboxes", "_key", "_unwritten")

    def __init__(
        self, lock: threading.RLock, sandboxes: dict[str, Sandbox], key: str, unwritten: Sandbox
    ) -> None:
        self._lock, self._sandboxes, self._key, self._unwritten = lock, sandboxes, key, unwritten

    def __enter__(self) -> Sandbox:
        self._lock.acquire()
        return self._sandboxes.get(self._key) or self._unwritten

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()
