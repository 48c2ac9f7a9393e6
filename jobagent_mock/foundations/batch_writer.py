"""One thread of each process that runs, as one batch, whatever has queued, each caller answered
through a future of its own."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from jobagent_mock.foundations.errors import Unavailable

log = logging.getLogger(__name__)
Job = TypeVar("Job")
Queued = tuple[Job, "Future[Any]"]
# at exit (and on SIGTERM, web/workers.py), a process runs what it still holds for this long
EXIT_FLUSH_SECONDS = 5.0
# how often a caller waiting in `flush` looks whether the thread is still there
ALIVE_CHECK_SECONDS = 0.5


class WriterStopped(Unavailable):
    """The thread that writes this process's batches is gone: a 503, never a wait for ever."""


class Batches(Generic[Job]):
    """`submit` queues a job and returns its future; the thread hands everything queued since its
    last batch to `run`, which answers each job's future. No batch waits to gather more: under
    load jobs queue while the previous batch is written, so batches grow with the load."""

    def __init__(self, run: Callable[[list[Queued[Job]]], None], name: str) -> None:
        self._run, self._name = run, name
        self._queue: list[Queued[Job]] = []
        self._changed = threading.Condition()
        self._submitted = self._finished = 0
        self._thread: threading.Thread | None = None
        self._pid: int | None = None  # the process whose thread runs them (workers spawn)

    def submit(self, job: Job) -> Future[Any]:
        future: Future[Any] = Future()
        with self._changed:
            self._running()
            self._queue.append((job, future))
            self._submitted += 1
            if len(self._queue) == 1:
                self._changed.notify_all()
        return future

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every job submitted so far has run; WriterStopped if the thread is gone."""
        with self._changed:
            target = self._submitted
            waited = 0.0
            while self._finished < target:
                if self._thread is None or not self._thread.is_alive():
                    raise WriterStopped(None, f"The mock's {self._name} has stopped.")
                left = ALIVE_CHECK_SECONDS if timeout is None else timeout - waited
                step = min(ALIVE_CHECK_SECONDS, left)
                if step <= 0:
                    return
                self._changed.wait_for(lambda: self._finished >= target, step)
                waited += step

    def alive(self) -> bool:
        return self._thread is None or self._pid != os.getpid() or self._thread.is_alive()

    def _running(self) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()
            atexit.register(self.flush, EXIT_FLUSH_SECONDS)
        elif self._thread is None or not self._thread.is_alive():
            raise WriterStopped(None, f"The mock's {self._name} has stopped.")

    def _loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._queue))
                queued, self._queue = self._queue, []
            # a job whose caller gave up (a cancelled future) is not run; the rest cannot be
            # cancelled from here on
            batch = [(job, f) for job, f in queued if f.set_running_or_notify_cancel()]
            try:
                self._run(batch)
            except BaseException as exc:  # noqa: BLE001 (the writer outlives whatever a batch raises)
                log.exception("%s: a batch of %d failed", self._name, len(batch))
                failure: BaseException = exc
            else:
                failure = RuntimeError(f"{self._name} left a job unanswered")
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            with self._changed:
                self._finished += len(queued)
                self._changed.notify_all()
