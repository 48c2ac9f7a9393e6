"""Nothing waits in the event loop: while another worker holds the shared store's write lock,
what needs it waits off the loop, and what does not is answered all the same."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobagent_mock.app import create_app
from jobagent_mock.foundations import fixtures
from jobagent_mock.stores import EVERY_CITIZEN, WouldWait, forbid_waiting, open_store
from jobagent_mock.stores.base import StoreUnavailable
from tests.helpers import ORDINARY, token_for
from tests.live import live_server
from tests.servers import free_port, lock_waiters, start_redis, wait_until

KEY = "event-loop-tests-signing-key-0123456789"
JOBAGENT = {"titel": "Held up", "soegeparametre": {"fritekst": "x"}}


def test_a_held_sqlite_lock_never_holds_the_event_loop(tmp_path: Path) -> None:
    """SQLite has one write lock a file, and every business answer waits for its journal entry
    (written before the answer leaves): while another worker holds that lock, business answers
    wait off the loop, and what needs no write (health, the clock) is answered meanwhile."""
    database = tmp_path / "mock.db"
    app = create_app(signing_key=KEY, store=f"sqlite:{database}")
    other_worker = open_store(f"sqlite:{database}", fixtures.load().jobagents)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        token = token_for(http, "star-jobnet")
        headers = {"Authorization": f"Bearer {token}", "x-civilRegistrationIdentifier": ORDINARY}
        for sandbox in ({}, {"x-mock-sandbox": "x"}):  # admitted (a write) before the lock is held
            assert http.get("/v1/Jobagent", headers={**headers, **sandbox}).status_code == 200
        answers: dict[str, Any] = {}
        held, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            with other_worker.transaction("held"):
                held.set()
                release.wait(30)

        def send(name: str, method: str, **kwargs: Any) -> None:
            answers[name] = httpx.request(method, f"{base}/v1/Jobagent", timeout=30, **kwargs)

        writing = {"json": JOBAGENT, "headers": {**headers, "x-requestId": str(uuid.uuid4())}}
        reading = {"headers": {**headers, "x-mock-sandbox": "x"}}
        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        wait_until(held.is_set, "the other worker holds the lock")
        senders = [
            threading.Thread(target=send, args=("write", "POST"), kwargs=writing),
            threading.Thread(target=send, args=("read", "GET"), kwargs=reading),
        ]
        for sender in senders:
            sender.start()
        wait_until(lambda: lock_waiters(f"sqlite:{database}") == 1, "the batch waits")
        try:
            # on the connection the answers before the lock came on: it is free once they are
            # whole, and an answer is whole only once its entry is written
            # (web/journal_middleware.py)
            health = http.get("/__admin/health", timeout=5)
            clock = http.get("/__admin/clock", headers=headers, timeout=5)
            assert all(sender.is_alive() for sender in senders), "answers wait for the lock"
        finally:
            release.set()
            holder.join()
            for sender in senders:
                sender.join()
        journal = http.get("/__admin/requests", headers=headers).json()["requests"]
    assert health.status_code == 200 and clock.status_code == 200
    assert answers["write"].status_code == 201  # and it went through once the lock was free
    assert answers["read"].status_code == 200 and answers["read"].json()["jobagenter"]
    # newest first: the write, once the lock was free, then the read that admitted the sandbox
    assert [e["response"]["status"] for e in journal] == [201, 200]


def test_where_nothing_may_wait_a_shared_store_says_so_before_it_does_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `forbid_waiting` (a handler tried in the event loop) a write, and a SQLite read
    that finds the file busy, raise WouldWait at once; a file that fails is still an outage."""
    database = tmp_path / "mock.db"
    store = open_store(f"sqlite:{database}", fixtures.load().jobagents)
    with store.transaction("s") as sandbox:
        sandbox.put_agent(ORDINARY, "a", {"titel": "a"})
    with forbid_waiting():
        with store.snapshot("s", citizen=ORDINARY) as seen:  # WAL: waits for nobody
            assert seen.agents_of(ORDINARY)["a"] == {"titel": "a"}
        with pytest.raises(WouldWait), store.transaction("s"):
            pass
        monkeypatch.setattr(store, "_reader", lambda: _Failing(sqlite3.SQLITE_BUSY))
        with pytest.raises(WouldWait), store.snapshot("s", citizen=ORDINARY):
            pass
        monkeypatch.setattr(store, "_reader", lambda: _Failing(sqlite3.SQLITE_IOERR))
        with pytest.raises(StoreUnavailable), store.snapshot("s", citizen=ORDINARY):
            pass


def test_a_read_that_would_wait_in_the_loop_is_answered_from_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast lane tries a SQLite read in the event loop; when the store says it would wait,
    the same read is made in a thread, and answered the same."""
    app = create_app(signing_key=KEY, store=f"sqlite:{tmp_path / 'mock.db'}")
    store = app.app.config["JOBAGENT_MOCK_ENGINE"].store
    tried: list[int] = []
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        headers = {
            "Authorization": f"Bearer {token_for(http, 'star-jobnet')}",
            "x-civilRegistrationIdentifier": ORDINARY,
        }
        before = http.get("/v1/Jobagent", headers=headers)
        monkeypatch.setattr(store, "_reader", lambda: _Failing(sqlite3.SQLITE_BUSY, tried))
        after = http.get("/v1/Jobagent", headers=headers)
    assert tried and after.status_code == before.status_code == 200
    assert after.json() == before.json()


class _Failing:
    """A connection whose every statement fails with `code`, as SQLite raises it."""

    def __init__(self, code: int, tried: list[int] | None = None) -> None:
        self.code, self.tried = code, tried if tried is not None else []

    def execute(self, *_: Any) -> Any:
        self.tried.append(self.code)
        failed = sqlite3.OperationalError("database is locked")
        failed.sqlite_errorcode = self.code  # type: ignore[attr-defined]
        raise failed


@pytest.mark.needs_redis
def test_a_redis_read_is_read_ahead_in_the_loop_fresh_and_a_503_when_redis_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A GET on Redis reads the snapshot its handler asks for ahead, asynchronously, in the
    event loop: what another worker wrote just before is seen, and a Redis that is gone is the
    store's 503, as from a thread."""
    with _app_on_redis() as (app, store, other_worker, redis_process):
        read_ahead = store.read_ahead
        asked: list[Any] = []

        async def counted(key: str, citizen: Any) -> Any:
            asked.append(citizen)
            return await read_ahead(key, citizen)

        monkeypatch.setattr(store, "read_ahead", counted)
        with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
            headers = {"Authorization": f"Bearer {token_for(http, 'star-jobnet')}"}
            citizen = {**headers, "x-civilRegistrationIdentifier": ORDINARY}
            http.get("/v1/Jobagent", headers=citizen)  # admits the sandbox: a write, in a thread
            asked.clear()
            before = http.get("/v1/Jobagent", headers=citizen).json()["jobagenter"]
            with other_worker.transaction("star-jobnet") as sandbox:
                sandbox.put_agent(ORDINARY, "late", JOBAGENT_STORED)
            after = http.get("/v1/Jobagent", headers=citizen).json()["jobagenter"]
            found = http.get("/v1/Jobagent/email/late@example.dk", headers=headers)
            assert [a["jobagentIdentifier"] for a in found.json()["jobagenter"]] == ["late"]
            assert asked == [ORDINARY, ORDINARY, EVERY_CITIZEN]
            redis_process.terminate()
            redis_process.wait(timeout=10)
            gone = http.get("/v1/Jobagent", headers=citizen)
        assert len(after) == len(before) + 1 and after[-1]["jobagentIdentifier"] == "late"
        assert gone.status_code == 503 and "redis" in gone.json()["detail"]


JOBAGENT_STORED = {
    "jobagentIdentifier": "late",
    "titel": "Late",
    "jobagent": {
        "email": "late@example.dk",
        "emailVerificeret": False,
        "udsendelsesinterval": 1,
        "smsNotifikation": False,
    },
    "soegeparametre": {"udfraMineKravTilJobsoegning": False},
}


@pytest.mark.needs_redis
def test_a_redis_write_is_made_in_the_loop_and_run_again_when_another_worker_came_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A write on Redis reads and commits with the asyncio client in the event loop (no thread
    hop): its handler runs on the loop's thread. Another worker that changes the sandbox between
    its read and its commit makes it read and run again: one job agent, its x-requestId claimed
    once, the other worker's change kept. A Redis that is gone is the store's 503."""
    import asyncio

    with _app_on_redis() as (app, store, other_worker, redis_process):
        write, read, commit = store.write, store._read_in_loop, store._commit_in_loop
        in_loop: list[bool] = []
        steps: list[str] = []

        async def counted_read(*args: Any) -> None:
            steps.append("read")
            await read(*args)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            try:
                in_loop.append(asyncio.get_running_loop() is not None)
            except RuntimeError:
                in_loop.append(False)
            return write(*args, **kwargs)

        async def overtaken(*args: Any) -> None:
            steps.append("commit")
            if not other_worker_wrote:  # once: the other worker commits first
                other_worker_wrote.append(True)
                other_worker.write("star-jobnet", lambda s: s.clock.pin(PINNED))
            await commit(*args)

        other_worker_wrote: list[bool] = []
        monkeypatch.setattr(store, "write", recorded)
        monkeypatch.setattr(store, "_commit_in_loop", overtaken)
        monkeypatch.setattr(store, "_read_in_loop", counted_read)
        with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
            headers = {
                "Authorization": f"Bearer {token_for(http, 'star-jobnet')}",
                "x-civilRegistrationIdentifier": ORDINARY,
            }
            # the sandbox admitted first: a process's first request of a sandbox takes the
            # full stack (stores/sandboxes.py), the lane only those after it
            assert http.get("/v1/Jobagent", headers=headers).status_code == 200
            steps.clear()
            created = http.post(
                "/v1/Jobagent", json=JOBAGENT, headers={**headers, "x-requestId": "once"}
            )
            again = http.post(
                "/v1/Jobagent", json=JOBAGENT, headers={**headers, "x-requestId": "once"}
            )
            listed = http.get("/v1/Jobagent", headers=headers).json()["jobagenter"]
            clock = http.get("/__admin/clock", headers=headers).json()
            # the first: read, overtaken at its commit, read and run again, kept; the replay:
            # read, refused, nothing to commit
            assert steps == ["read", "commit", "read", "commit", "read"]
            redis_process.terminate()
            redis_process.wait(timeout=10)
            gone = http.post(
                "/v1/Jobagent", json=JOBAGENT, headers={**headers, "x-requestId": "gone"}
            )
        assert created.status_code == 201 and again.status_code == 412
        assert [a["titel"] for a in listed].count("Held up") == 1
        assert clock["pinned"] and other_worker_wrote == [True]
        assert in_loop and all(in_loop)
        assert gone.status_code == 503 and "redis" in gone.json()["detail"]


PINNED = datetime.fromisoformat("2026-11-25T10:00:00+01:00")


@contextmanager
def _app_on_redis() -> Iterator[tuple[Any, Any, Any, subprocess.Popen[bytes]]]:
    """The app on a Redis of its own, its store, another worker's store on the same Redis, and
    the Redis process (a test may stop it)."""
    port = free_port()
    redis_process = start_redis(port)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        app = create_app(signing_key=KEY, store=url)
        store = app.app.config["JOBAGENT_MOCK_ENGINE"].store
        yield app, store, open_store(url, fixtures.load().jobagents), redis_process
    finally:
        redis_process.terminate()
        redis_process.wait(timeout=10)
