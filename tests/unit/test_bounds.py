"""Bounded memory (issue 14): the memory store's sandboxes (least recently used forgotten), a
journal's size, and a sandbox's request ids, on every store; and a failing SQLite file as an
outage (503)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from jobagent_mock.foundations import fixtures
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import ReplayedRequest, TooManySandboxes
from jobagent_mock.rules import idempotency
from jobagent_mock.stores import MemoryStore, open_store
from jobagent_mock.stores.base import StoreUnavailable
from jobagent_mock.stores.memory import JOURNAL_BYTES
from jobagent_mock.stores.sandboxes import Admissions, Caps
from jobagent_mock.stores.sqlite import REQUEST_ID_TRIM_EVERY, SqliteStore

SEED = fixtures.load().jobagents
CPR = "0101991234"
LONG_AGO = datetime(2000, 1, 1, tzinfo=DANISH_TIME)


def test_a_read_creates_no_sandbox_and_a_cap_drops_none() -> None:
    store = MemoryStore(SEED)
    gate = Admissions(store, Caps(total=3, per_client=3))
    for name in ("c/a", "c/b", "c/c"):
        gate.admit(name)
        with store.transaction(name) as sandbox:
            sandbox.enrollments[CPR] = [{"in": name}]
        store.record(name, {"in": name})
    for name in (f"other/{n}" for n in range(50)):  # reads of sandboxes nobody admitted
        with store.snapshot(name) as sandbox:
            assert CPR not in sandbox.enrollments
        assert store.journal(name) == []
    with pytest.raises(TooManySandboxes):
        gate.admit("c/d")
    for name in ("c/a", "c/b", "c/c"):  # nothing dropped for the refused one
        with store.snapshot(name) as sandbox:
            assert sandbox.enrollments[CPR] == [{"in": name}]
        assert store.journal(name) == [{"in": name}]
    store.reset("c/b")
    gate.release("c/b")
    gate.admit("c/d")  # the reset freed a place


def test_a_journal_keeps_its_newest_entries_within_its_size() -> None:
    store = MemoryStore(SEED)
    big = "x" * (JOURNAL_BYTES // 10)
    for n in range(50):
        store.record("s", {"n": n, "body": big})
    kept = store.journal("s")
    assert [e["n"] for e in kept] == list(range(49, 49 - len(kept), -1))  # newest first
    assert 5 <= len(kept) < 10


def test_a_sandbox_keeps_its_newest_request_ids(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past REQUEST_IDS_KEPT, the oldest ids are forgotten (a replay of one is accepted again);
    the newest are always refused. SQLite cuts back once in REQUEST_ID_TRIM_EVERY claims."""
    keep = 10
    monkeypatch.setattr(idempotency, "REQUEST_IDS_KEPT", keep)
    store = open_store(store_url, SEED)
    claims = 3 * REQUEST_ID_TRIM_EVERY
    for n in range(claims):
        with store.transaction("ids") as sandbox:
            idempotency.claim(sandbox, f"r{n}")
    for n in range(claims - keep, claims):
        with pytest.raises(ReplayedRequest), store.transaction("ids") as sandbox:
            idempotency.claim(sandbox, f"r{n}")
    with store.transaction("ids") as sandbox:
        idempotency.claim(sandbox, "r0")  # long forgotten: accepted again
    slack = REQUEST_ID_TRIM_EVERY if store_url.startswith("sqlite") else 0
    # a transaction: reading request ids forgets the stale ones, a write a snapshot may not make
    with store.transaction("ids") as sandbox:
        remembered = sum(
            sandbox.request_id_seen(f"r{n}", LONG_AGO) is not None for n in range(claims)
        )
    assert remembered <= keep + slack


def test_a_sqlite_file_that_fails_is_a_503_naming_it(tmp_path: Path) -> None:
    """What SQLite raises when its file cannot be read or written (a lost or full disk) is the
    store's outage: StoreUnavailable (503), naming the file, from every kind of call."""
    store = open_store(f"sqlite:{tmp_path / 'mock.db'}", SEED)
    assert isinstance(store, SqliteStore)

    def lost_disk() -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    store._db = lost_disk  # type: ignore[method-assign]
    for call in (
        store.check,
        lambda: store.journal("s"),
        lambda: store.record("s", {"n": 1}),
        lambda: store.reset("s"),
        lambda: store.transaction("s").__enter__(),
        lambda: store.snapshot("s").__enter__(),
    ):
        with pytest.raises(StoreUnavailable, match=str(tmp_path / "mock.db")) as refused:
            call()
        assert refused.value.status == 503
