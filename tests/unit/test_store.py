"""The store: fixtures seeded per sandbox, an exact reset, request ids kept 7 days of mock time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from jobagent_mock.foundations import fixtures
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import ReplayedRequest
from jobagent_mock.rules import idempotency
from jobagent_mock.stores import MemoryStore as Store

SEED = fixtures.load().jobagents


def snapshot(store: Store, key: str) -> dict[str, dict[str, dict[str, object]]]:
    with store.transaction(key) as sandbox:
        return {cpr: sandbox.agents_of(cpr) for cpr in sandbox.citizens() if sandbox.agents_of(cpr)}


def clear(sandbox: Any) -> None:
    for cpr in sandbox.citizens():
        for jobagent_id in sandbox.agents_of(cpr):
            sandbox.remove_agent(cpr, jobagent_id)


def test_reset_restores_the_fixtures_exactly() -> None:
    store = Store(SEED)
    pristine = snapshot(store, "a")
    with store.transaction("a") as sandbox:
        owner = sandbox.citizens()[0]
        jobagent_id, record = next(iter(sandbox.agents_of(owner).items()))
        sandbox.put_agent(owner, jobagent_id, {**record, "titel": "changed"})
        sandbox.put_agent("0101991234", "x", {"titel": "new"})
        idempotency.claim(sandbox, "r1")
    store.reset("a")
    assert snapshot(store, "a") == pristine
    with store.transaction("a") as sandbox:
        idempotency.claim(sandbox, "r1")  # forgotten by the reset


def test_a_reader_gets_a_copy_of_its_own() -> None:
    store = Store(SEED)
    with store.transaction("a") as sandbox:
        owner = sandbox.citizens()[0]
        for record in sandbox.agents_of(owner).values():
            record["titel"] = "changed by a reader"
    assert snapshot(store, "a") == snapshot(Store(SEED), "a")


def test_sandboxes_never_share_state() -> None:
    store = Store(SEED)
    with store.transaction("a") as sandbox:
        clear(sandbox)
    assert snapshot(store, "b") != {}
    store.reset("b")
    assert snapshot(store, "a") == {}


def test_a_write_to_a_sandbox_read_before_is_its_own() -> None:
    store = Store(SEED)

    def read(key: str) -> dict[str, dict[str, dict[str, object]]]:
        with store.snapshot(key) as sandbox:
            return {cpr: sandbox.agents_of(cpr) for cpr in sandbox.citizens()}

    seeded = read("a")
    assert read("b") == seeded != {}
    with store.transaction("a") as sandbox:
        clear(sandbox)
    assert read("b") == seeded and read("c") == seeded
    assert not any(read("a").values())
    with store.transaction("b") as sandbox:
        assert {cpr: sandbox.agents_of(cpr) for cpr in sandbox.citizens()} == seeded


def test_reset_of_everything() -> None:
    store = Store(SEED)
    for key in ("a", "b"):
        with store.transaction(key) as sandbox:
            clear(sandbox)
    store.reset()
    assert snapshot(store, "a") == snapshot(store, "b") != {}


def test_request_ids_are_kept_seven_days_of_mock_time() -> None:
    store = Store(SEED)
    with store.transaction() as sandbox:
        sandbox.clock.pin(datetime(2026, 11, 1, 12, 0, tzinfo=DANISH_TIME))
        idempotency.claim(sandbox, "r1")
        sandbox.clock.advance(timedelta(days=6, hours=23))
        with pytest.raises(ReplayedRequest):
            idempotency.claim(sandbox, "r1")
        sandbox.clock.advance(timedelta(hours=1))
        idempotency.claim(sandbox, "r1")
