"""The memory store: every sandbox in this process, for one worker (the default). Bounded: at
most `max_sandboxes` sandboxes (the least recently used is forgotten, as if reset), and each
journal at most JOURNAL_SIZE entries and JOURNAL_BYTES of them."""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from jobagent_mock import jsontext
from jobagent_mock.drift import Departure, drift_row
from jobagent_mock.stores.base import (
    DEFAULT_SANDBOX,
    JOURNAL_SIZE,
    NOTHING_AHEAD,
    Ahead,
    Outcome,
    Rows,
    Sandbox,
    SeededStore,
    outcome_row,
    step_taken,
)

DEFAULT_MAX_SANDBOXES = 1000
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
    def __init__(
        self, seed_jobagents: list[dict[str, Any]], max_sandboxes: int = DEFAULT_MAX_SANDBOXES
    ) -> None:
        super().__init__(seed_jobagents)
        # least recently used first: a sandbox or journal used moves to the end
        self._sandboxes: OrderedDict[str, Sandbox] = OrderedDict()
        self._journals: OrderedDict[str, _Journal] = OrderedDict()
        self.max_sandboxes = max_sandboxes
        # sandbox -> outcome -> [count, last x-requestId]; bounded like the sandboxes
        self._outcomes: OrderedDict[str, dict[Outcome, list[Any]]] = OrderedDict()
        # sandbox -> scenario id -> hits; bounded like the sandboxes
        self._steps: OrderedDict[str, dict[str, int]] = OrderedDict()
        # One lock for everything: requests are short, and it makes each operation atomic.
        self._lock = threading.RLock()

    @contextmanager
    def _held(
        self,
        key: str,
        ahead: Ahead = NOTHING_AHEAD,  # noqa: ARG002 (no round trip to save: read as asked)
    ) -> Iterator[Sandbox]:
        with self._lock:
            sandbox = self._sandboxes.get(key)
            if sandbox is None:
                sandbox = self._sandboxes[key] = self.fresh()
                self._steps.pop(key, None)  # a fresh sandbox (new, or forgotten) has no hits
                self._forget_the_least_recent(self._sandboxes)
            self._sandboxes.move_to_end(key)
            yield sandbox

    def _forget_the_least_recent(self, kept: OrderedDict[str, Any]) -> None:
        """Past max_sandboxes, the least recently used is forgotten: back to the fixtures."""
        while len(kept) > self.max_sandboxes:
            kept.popitem(last=False)

    def _keep(self, key: str, sandbox: Sandbox) -> None:
        """Changes are made in place: kept already."""

    def _drop(self, key: str) -> None:
        """Nothing to undo: rolling back in place would mean copying a sandbox every write, and
        the rules check everything before they store anything, so only a bug leaves a part."""

    def _ping(self) -> None:
        """This process is the store: it answers while anything does."""

    def snapshot(
        self,
        key: str = DEFAULT_SANDBOX,
        citizen: Rows = None,  # noqa: ARG002 (held under the lock: every read is of one moment)
    ) -> AbstractContextManager[Sandbox]:
        return self._held(key)

    def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._sandboxes.clear()
                self._journals.clear()
                self._outcomes.clear()
                self._steps.clear()
            else:
                self._sandboxes.pop(key, None)
                self._journals.pop(key, None)
                self._outcomes.pop(key, None)
                self._steps.pop(key, None)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        text = jsontext.dumps(entry)  # text: one object, never walked by the GC
        with self._lock:
            journal = self._journals.get(key)
            if journal is None:
                journal = self._journals[key] = _Journal()
                self._forget_the_least_recent(self._journals)
            self._journals.move_to_end(key)
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
                self._forget_the_least_recent(self._outcomes)
            self._outcomes.move_to_end(key)
            counted = self._outcomes[key].setdefault(outcome, [0, None])
            counted[0] += 1
            counted[1] = request_id or counted[1]

    def outcomes(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            counted = dict(self._outcomes.get(key, {}))
        return [outcome_row(outcome, n, last) for outcome, (n, last) in counted.items()]

    def take_step(self, key: str, scenario_id: str, steps: int, repeat: bool) -> int | None:
        with self._lock:
            if key not in self._steps:
                self._steps[key] = {}
                self._forget_the_least_recent(self._steps)
            self._steps.move_to_end(key)
            hits = self._steps[key].get(scenario_id, 0) + 1
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
