"""The journal writer: entries written in batches, none lost or reordered; a failed batch retried
entry by entry, what still fails counted; the writer outlives any failure, and a stopped one is a
503, not a wait for ever."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from jobagent_mock.foundations.batch_writer import Batches, WriterStopped
from jobagent_mock.journal.recorder import Recorder
from jobagent_mock.stores.base import StoreUnavailable


def test_every_item_is_written_once_in_order_and_its_future_answers_after() -> None:
    written: list[int] = []
    gate = threading.Event()

    def write(batch: list[int], _dropped: int) -> None:
        gate.wait(10)
        written.extend(batch)

    writer = Recorder(write)
    futures = [writer.add(n) for n in range(100)]
    assert not futures[-1].done()  # held by the gate: nothing is answered before it is written
    gate.set()
    for future in futures:
        future.result(10)
    writer.flush()
    assert written == list(range(100))


def test_a_failed_batch_is_written_entry_by_entry(caplog: Any) -> None:
    written: list[str] = []
    counted: list[int] = []
    gate = threading.Event()

    def write(batch: list[str], dropped: int) -> None:
        gate.wait(10)
        if len(batch) > 1 or batch == ["bad"]:
            raise ValueError("cannot write that")
        written.extend(batch)
        counted.append(dropped)

    writer = Recorder(write)
    for item in ("one", "bad", "two"):
        writer.add(item)
    gate.set()
    writer.flush()
    assert written == ["one", "two"]
    assert sum(counted) == 1  # the drop, counted in the store with the next write
    assert "one by one" in caplog.text


def test_an_outage_drops_the_rest_of_the_batch_and_the_count_reaches_the_store() -> None:
    down = True
    counted: list[int] = []
    written: list[str] = []

    def write(batch: list[str], dropped: int) -> None:
        if down:
            raise StoreUnavailable(None, "down")
        written.extend(batch)
        counted.append(dropped)

    writer = Recorder(write, outages=(StoreUnavailable,))
    first = [writer.add(item) for item in ("a", "b", "c")]
    for future in first:
        assert future.result(10) is None  # answered: the answer leaves, the drop is counted
    assert writer.dropped == 3
    down = False
    writer.add("d").result(10)
    assert written == ["d"] and sum(counted) == 3 and writer.dropped == 0


def test_the_writer_outlives_any_exception_and_a_stopped_one_is_a_503() -> None:
    def write(batch: list[str], _dropped: int) -> None:
        if batch == ["boom"]:
            raise KeyboardInterrupt  # not even an Exception: the writer goes on
        written.extend(batch)

    written: list[str] = []
    writer = Recorder(write)
    writer.add("boom").result(10)
    assert writer.dropped == 1
    writer.add("fine").result(10)
    assert written == ["fine"]

    def run(batch: list[tuple[str, Any]]) -> None:
        for _, future in batch:
            future.set_result(None)

    stopped: Batches[str] = Batches(run, "test writer")
    stopped.submit("x").result(10)
    thread = stopped._thread  # noqa: SLF001 (a writer's death cannot be caused from outside)
    assert thread is not None
    stopped._thread = threading.Thread(target=lambda: None)  # noqa: SLF001
    stopped._thread.start()
    stopped._thread.join()
    with pytest.raises(WriterStopped):
        stopped.submit("y")


def test_in_a_store_batch_a_failed_job_is_retried_alone_then_counted() -> None:
    """Entries gathered into one job of the store's batch; that job failing, each is written
    again in a job of its own, and what fails alone is counted."""
    written: list[str] = []
    counted: list[int] = []
    gate = threading.Event()

    def run(batch: list[tuple[Callable[[], Any], Any]]) -> None:
        gate.wait(10)
        for job, future in batch:
            try:
                future.set_result(job())
            except Exception as exc:  # noqa: BLE001 (answered through the future)
                future.set_exception(exc)

    def write(items: list[str], dropped: int) -> None:
        if any(item.startswith("bad") for item in items):
            raise ValueError("refused")
        written.extend(items)
        counted.append(dropped)

    store_batches: Batches[Callable[[], Any]] = Batches(run, "store writer")
    writer = Recorder(write, store_batches=store_batches)
    futures = [writer.add(item) for item in ("good 1", "bad", "good 2")]
    gate.set()
    for future in futures:
        future.result(10)
    writer.flush()
    assert sorted(written) == ["good 1", "good 2"]
    assert writer.dropped + sum(counted) == 1  # counted here, or in the store by a later write


def test_a_read_waiting_for_a_stopped_writer_is_a_503_not_a_hang() -> None:
    gate = threading.Event()
    writer: Recorder[str] = Recorder(lambda _batch, _dropped: gate.wait(10) and None)
    writer.add("held")  # the writer holds it at the gate
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    writer._batches._thread = dead  # noqa: SLF001 (a writer's death cannot be caused from outside)
    try:
        with pytest.raises(WriterStopped) as stopped:
            writer.flush()
        assert stopped.value.status == 503
    finally:
        gate.set()
