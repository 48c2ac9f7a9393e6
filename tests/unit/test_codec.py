"""The shared stores' JSON codec: a sandbox's small parts come back as they went, and what a
stranger wrote into a shared store is refused as data, never run as code."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

import pytest

from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.stores import Sandbox, codec


def test_a_sandbox_comes_back_as_it_went() -> None:
    sandbox = Sandbox()
    sandbox.clock.pin(datetime(2026, 3, 1, 9, 30, tzinfo=DANISH_TIME))
    sandbox.clock.advance(timedelta(hours=2))
    sandbox.enrollments["0101991234"] = [{"serviceReceipt": "x", "n": 1}]
    sandbox.bookings["0101991234"] = [{"indkaldelseId": "i", "start": "2026-03-02T09:00:00"}]
    sandbox.taken_slots.add(("opt-1", "2026-03-02T09:00:00+01:00"))

    back = Sandbox(**codec.decode(codec.encode(sandbox)))

    assert back.clock.now() == sandbox.clock.now() and back.clock.is_pinned
    assert back.enrollments == sandbox.enrollments
    assert back.bookings == sandbox.bookings
    assert back.taken_slots == sandbox.taken_slots
    assert codec.encode(back) == codec.encode(sandbox)  # unchanged: not written again


def test_a_running_clock_stays_running() -> None:
    back = Sandbox(**codec.decode(codec.encode(Sandbox())))
    assert not back.clock.is_pinned
    assert abs(back.clock.now() - datetime.now(DANISH_TIME)) < timedelta(seconds=5)


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, ("raise SystemExit('pickle ran code')",))


def test_a_pickle_in_the_store_is_refused_not_run() -> None:
    with pytest.raises(ValueError, match="reset the store"):
        codec.decode(pickle.dumps(_Boom()))
