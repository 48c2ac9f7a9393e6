"""Journal entries of a shared store written before their answers leave, in batches with whatever
else this process queued; a failed batch retried entry by entry, and what still fails counted."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from jobagent_mock.foundations.batch_writer import (
    ALIVE_CHECK_SECONDS,
    Batches,
    Queued,
    WriterStopped,
)

log = logging.getLogger(__name__)
Item = TypeVar("Item")
# write(items, dropped): the items, and how many entries this process dropped since its last
# write that went through (so that the count itself reaches the store)
Write = Callable[[list[Item], int], None]


class Recorder(Generic[Item]):
    """`add` answers, through its future, once the item is written or, after a retry alone,
    dropped and counted; that future never fails. Items are written in batches: the store's own
    (`store_batches`, whose jobs run in one transaction with the business writes queued beside
    them: SQLite), else by this recorder's thread."""

    def __init__(
        self,
        write: Write[Item],
        outages: tuple[type[BaseException], ...] = (),
        store_batches: Batches[Callable[[], Any]] | None = None,
    ) -> None:
        self._write, self._outages = write, outages
        self._store_batches = store_batches
        self._batches: Batches[Item] = Batches(self._write_batch, "journal writer")
        self._lock = threading.Condition()
        self._added = self._settled = 0
        self._dropped = 0  # dropped by this process and not yet counted in the store
        # items for the store's next batch: one job writes them all, in one savepoint
        self._gathered: list[tuple[Item, Future[None]]] = []

    @property
    def dropped(self) -> int:
        """Entries this process dropped whose count has not reached the store yet."""
        return self._dropped

    def add(self, item: Item) -> Future[None]:
        """Queue an item; its future is answered once the item is written or dropped."""
        settled: Future[None] = Future()
        with self._lock:
            self._added += 1
        try:
            if self._store_batches is None:
                self._batches.submit(item).add_done_callback(
                    lambda written: self._settle(settled, written)
                )
            else:
                self._gather(item, settled)
        except Exception:  # a stopped writer: the answer still leaves, and the entry is counted
            log.exception("could not queue a journal entry")
            self._drop(1)
            self._settle(settled)
        return settled

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every item added so far is written or dropped; WriterStopped (a 503) when
        the thread that writes them is gone."""
        writer = self._store_batches or self._batches
        with self._lock:
            target, waited = self._added, 0.0
            while self._settled < target:
                if not writer.alive():
                    raise WriterStopped(None, "The mock's journal writer has stopped.")
                left = ALIVE_CHECK_SECONDS if timeout is None else timeout - waited
                if left <= 0:
                    return
                step = min(ALIVE_CHECK_SECONDS, left)
                self._lock.wait_for(lambda: self._settled >= target, step)
                waited += step

    def _settle(self, future: Future[None], written: Future[Any] | None = None) -> None:
        if written is not None and written.exception() is not None:
            # the writer's batch failed past its own retries (foundations/batch_writer.py logged it)
            self._drop(1)
        future.set_result(None)
        with self._lock:
            self._settled += 1
            self._lock.notify_all()

    def _drop(self, count: int) -> None:
        with self._lock:
            self._dropped += count

    def _take_dropped(self) -> int:
        with self._lock:
            dropped, self._dropped = self._dropped, 0
            return dropped

    def _written(self, items: list[Item]) -> None:
        """One write of the items, carrying the drop count along; a failure keeps the count."""
        dropped = self._take_dropped()
        try:
            self._write(items, dropped)
        except BaseException:
            self._drop(dropped)
            raise

    def _gather(self, item: Item, mine: Future[None]) -> None:
        """Into the store's next batch, with the items gathered beside it: one job (and one
        savepoint) writes them all; should it fail, each is written again alone."""
        assert self._store_batches is not None
        with self._lock:
            self._gathered.append((item, mine))
            if len(self._gathered) > 1:
                return  # the job queued for the first of them takes this one too
        taken: list[tuple[Item, Future[None]]] = []

        def job() -> None:
            self._written([each for each, _ in self._take(taken)])

        try:
            self._store_batches.submit(job).add_done_callback(
                functools.partial(self._gathered_done, taken)
            )
        except Exception:
            for _, settled in self._take(taken):
                if settled is not mine:  # `add` counts its own
                    self._drop(1)
                    self._settle(settled)
            raise

    def _gathered_done(self, taken: list[tuple[Item, Future[None]]], written: Future[Any]) -> None:
        failure = written.exception()
        for item, settled in taken or self._take(taken):  # none taken: the job never ran
            if failure is None:
                self._settle(settled)
            else:
                self._alone(item, settled)

    def _take(self, taken: list[tuple[Item, Future[None]]]) -> list[tuple[Item, Future[None]]]:
        with self._lock:
            taken.extend(self._gathered)
            self._gathered = []
        return taken

    def _alone(self, item: Item, settled: Future[None]) -> None:
        """An item whose batch failed, once more in a job (a savepoint) of its own; should that
        fail too, dropped and counted."""
        assert self._store_batches is not None

        def done(written: Future[Any]) -> None:
            if written.exception() is None:
                self._settle(settled)
            else:
                log.error("could not journal a request (%r): dropped", written.exception())
                self._drop(1)
                self._settle(settled)

        try:
            self._store_batches.submit(lambda: self._written([item])).add_done_callback(done)
        except Exception as exc:  # noqa: BLE001 (a stopped writer: counted, and answered)
            log.error("could not journal a request (%r): dropped", exc)
            self._drop(1)
            self._settle(settled)

    def _write_batch(self, batch: list[Queued[Item]]) -> None:
        """This recorder's thread: the batch in one write; failing that, each item alone."""
        items = [item for item, _ in batch]
        try:
            self._written(items)
        except Exception as exc:  # noqa: BLE001 (each item is tried again alone)
            log.warning("could not journal %d requests at once (%r): one by one", len(items), exc)
            self._one_by_one(items)
        for _, future in batch:
            future.set_result(None)

    def _one_by_one(self, items: list[Item]) -> None:
        for index, item in enumerate(items):
            try:
                self._written([item])
            except self._outages as exc:
                # the store is down: trying each of the rest would hold each answer for a timeout
                log.error("could not journal %d requests (%r): dropped", len(items) - index, exc)
                self._drop(len(items) - index)
                return
            except Exception as exc:  # noqa: BLE001 (this entry alone: the next may go through)
                log.error("could not journal a request (%r): dropped", exc)
                self._drop(1)
