"""Journal entries of a shared store written behind the answers, in batches, by one thread of
each process: a request neither waits for its entry nor hops a thread to write it."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
Item = TypeVar("Item")
# Past this many entries not yet written (a store that is slow or down), `add` asks its caller
# to wait for the writer (off the event loop): the backlog stays bounded, and nothing is dropped.
BACKLOG_LIMIT = 10_000
# at exit, a worker writes what it still holds for at most this long
EXIT_FLUSH_SECONDS = 5.0
# The writer lets entries gather this long before it writes them (unless a reader is waiting):
# under load one write then carries dozens, where writing each as it came would cost a wake-up
# and a round trip or commit per request. Another process sees an entry this much later.
GATHER_SECONDS = 0.002


class Recorder(Generic[Item]):
    def __init__(self, write: Callable[[list[Item]], None]) -> None:
        self._write = write
        self._pending: list[Item] = []
        self._added = self._written = 0
        self._changed = threading.Condition()
        self._writer_pid: int | None = None  # the process whose thread writes (workers spawn)
        self._awaited = False  # a reader waits in flush: write at once

    def add(self, item: Item) -> bool:
        """Queue an item; False when the backlog is full and the caller should `flush`."""
        with self._changed:
            if self._writer_pid != os.getpid():
                self._writer_pid = os.getpid()
                threading.Thread(target=self._run, name="journal-writer", daemon=True).start()
                atexit.register(self.flush, EXIT_FLUSH_SECONDS)
            self._pending.append(item)
            self._added += 1
            if len(self._pending) == 1:  # the writer may be idle; while it gathers, let it be
                self._changed.notify_all()
            return self._added - self._written < BACKLOG_LIMIT

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every item added so far is written (or failed to be, and was logged)."""
        with self._changed:
            target = self._added
            if self._written < target:
                self._awaited = True
                self._changed.notify_all()
            self._changed.wait_for(lambda: self._written >= target, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                self._changed.wait_for(lambda: self._awaited, GATHER_SECONDS)
                batch, self._pending, self._awaited = self._pending, [], False
            try:
                self._write(batch)
            except Exception:  # the journal must never stop: the next batch may go through
                log.exception("could not journal %d requests", len(batch))
            with self._changed:
                self._written += len(batch)
                self._changed.notify_all()
