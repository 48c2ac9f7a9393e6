"""SQLite's group commit: the writes a process queued while its writer waited go in one
transaction, each kept or dropped on its own (a savepoint), each caller answered after the
commit."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from jobagent_mock.foundations import fixtures
from jobagent_mock.foundations.errors import RuleViolation
from jobagent_mock.rules import idempotency
from jobagent_mock.stores import Sandbox, open_store
from jobagent_mock.stores.sqlite import SqliteStore
from tests.servers import lock_waiters, wait_until

CITIZEN = "0101991234"


def test_writes_queued_together_commit_together_each_kept_or_dropped_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:{tmp_path / 'mock.db'}"
    store = open_store(url, fixtures.load().jobagents)
    other_worker = open_store(url, fixtures.load().jobagents)
    assert isinstance(store, SqliteStore)
    batches: list[int] = []
    commit = store._commit  # noqa: SLF001 (how many writes each batch held)
    monkeypatch.setattr(
        store.batches, "_run", lambda batch: (batches.append(len(batch)), commit(batch))
    )

    def kept(sandbox: Sandbox) -> str:
        idempotency.claim(sandbox, "kept")
        sandbox.put_agent(CITIZEN, "kept", {"titel": "kept"})
        return "kept"

    def refused(sandbox: Sandbox) -> None:
        idempotency.claim(sandbox, "refused")  # a refusal keeps what it did: its claim
        raise RuleViolation(None, "no")

    def broken(sandbox: Sandbox) -> None:
        idempotency.claim(sandbox, "broken")
        sandbox.put_agent(CITIZEN, "broken", {"titel": "broken"})
        _ = 1 / 0

    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with other_worker.transaction("elsewhere"):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    wait_until(held.is_set, "another process holds the lock")
    first = store.write_soon("s", lambda _: None)  # the writer waits with it
    wait_until(lambda: lock_waiters(url) == 1, "the writer waits for the lock")
    futures: dict[str, Any] = {
        work.__name__: store.write_soon("s", work) for work in (kept, refused, broken)
    }
    assert not any(future.done() for future in futures.values())
    release.set()
    holder.join()
    first.result(10)
    assert futures["kept"].result(10) == "kept"
    with pytest.raises(RuleViolation):
        futures["refused"].result(10)
    with pytest.raises(ZeroDivisionError):
        futures["broken"].result(10)
    assert batches[-1] == 3  # one transaction for the three queued behind the first
    with store.snapshot("s", citizen=CITIZEN) as sandbox:
        assert sorted(sandbox.agents_of(CITIZEN)) == ["kept"]

    def claims(sandbox: Sandbox) -> list[str]:
        free = []
        for request_id in ("kept", "refused", "broken"):
            try:
                idempotency.claim(sandbox, request_id)
                free.append(request_id)
            except Exception:  # noqa: BLE001 (a 412: claimed before)
                pass
        return free

    assert store.write("s", claims) == ["broken"]  # the refusal's claim was kept
