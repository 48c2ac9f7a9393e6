"""The memory store: every sandbox in this process, for one worker (the default)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from jobagent_mock.stores.base import DEFAULT_SANDBOX, JOURNAL_SIZE, Sandbox, SeededStore


class MemoryStore(SeededStore):
    def __init__(self, seed_jobagents: list[dict[str, Any]]) -> None:
        super().__init__(seed_jobagents)
        self._sandboxes: dict[str, Sandbox] = {}
        self._journals: dict[str, deque[dict[str, Any]]] = {}
        # One lock for everything: requests are short, and it makes each operation atomic.
        self._lock = threading.RLock()

    @contextmanager
    def _held(self, key: str) -> Iterator[Sandbox]:
        with self._lock:
            sandbox = self._sandboxes.get(key)
            if sandbox is None:
                sandbox = self._sandboxes[key] = self.fresh()
            yield sandbox

    def _keep(self, key: str, sandbox: Sandbox) -> None:
        """Changes are made in place: kept already."""

    def _drop(self, key: str) -> None:
        """Nothing to undo: rolling back in place would mean copying a sandbox every write, and
        the rules check everything before they store anything, so only a bug leaves a part."""

    def _ping(self) -> None:
        """This process is the store: it answers while anything does."""

    def snapshot(self, key: str = DEFAULT_SANDBOX) -> AbstractContextManager[Sandbox]:
        return self._held(key)

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
