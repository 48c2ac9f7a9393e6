"""The journal writer: entries written behind the answers, in batches, none lost or reordered."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from jobagent_mock import recorder
from jobagent_mock.recorder import Recorder


def test_every_item_is_written_once_in_order_and_flush_waits_for_them() -> None:
    written: list[int] = []
    gate = threading.Event()

    def write(batch: list[int]) -> None:
        gate.wait(10)
        written.extend(batch)

    writer = Recorder(write)
    for n in range(100):
        assert writer.add(n)
    gate.set()
    writer.flush()
    assert written == list(range(100))


def test_a_failed_batch_is_logged_and_the_next_goes_through(caplog: Any) -> None:
    written: list[str] = []

    def write(batch: list[str]) -> None:
        if "bad" in batch:
            raise ConnectionError("store down")
        written.extend(batch)

    writer = Recorder(write)
    writer.add("bad")
    writer.flush()
    writer.add("good")
    writer.flush()
    assert written == ["good"]
    assert "could not journal 1 requests" in caplog.text


def test_a_full_backlog_asks_the_caller_to_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "BACKLOG_LIMIT", 3)
    gate = threading.Event()
    writer: Recorder[int] = Recorder(lambda _batch: gate.wait(10) and None)
    assert [writer.add(n) for n in range(4)] == [True, True, False, False]
    gate.set()
    writer.flush()
    assert writer.add(5)
