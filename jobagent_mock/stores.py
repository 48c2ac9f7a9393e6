"""Stores shared by several workers: SQLite in WAL mode on one machine, Redis across machines.

Both keep each sandbox as one pickled value, changed under an exclusive lock (SQLite's
BEGIN IMMEDIATE; a Redis lock), and the journal apart from it, so a request does not rewrite
the journal. Pickles are read only from the mock's own store.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobagent_mock.errors import Fejl
from jobagent_mock.store import DEFAULT_SANDBOX, JOURNAL_SIZE, MemoryStore, Sandbox, Store

LOCK_TIMEOUT_SECONDS = 30


def open_store(url: str | None, seed_jobagents: list[dict[str, Any]]) -> Store:
    """`memory` (the default), `sqlite:PATH` or `redis://HOST:PORT[/DB]`."""
    if url in (None, "", "memory"):
        return MemoryStore(seed_jobagents)
    assert url is not None
    if url.startswith("sqlite:"):
        return SqliteStore(Path(url.removeprefix("sqlite:")), seed_jobagents)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, seed_jobagents)
    raise ValueError(f"unknown store {url!r}: use memory, sqlite:PATH or redis://HOST:PORT")


class SqliteStore(Store):
    def __init__(self, path: Path, seed_jobagents: list[dict[str, Any]]) -> None:
        super().__init__(seed_jobagents)
        self._path = path
        self._local = threading.local()
        with self._connection() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sandbox (key TEXT PRIMARY KEY, state BLOB)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS journal "
                "(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, entry TEXT)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS journal_key ON journal (key, id)")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self._path,
                timeout=LOCK_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL survives a killed process (not a lost machine): enough for a mock
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        yield db

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                sandbox = self._load(db, key)
                try:
                    yield sandbox
                finally:
                    # saved on success and on a refusal (which keeps what it claimed)
                    if sys.exc_info()[0] is None or isinstance(sys.exc_info()[1], Fejl):
                        self._save(db, key, sandbox)
                        db.execute("COMMIT")
            finally:
                if db.in_transaction:  # an unexpected failure changes nothing
                    db.execute("ROLLBACK")

    @contextmanager
    def snapshot(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        with self._connection() as db:
            yield self._load(db, key)

    def reset(self, key: str | None = None) -> None:
        with self._connection() as db:
            where, args = ("", ()) if key is None else (" WHERE key = ?", (key,))
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM sandbox" + where, args)
            db.execute("DELETE FROM journal" + where, args)
            db.execute("COMMIT")

    def record(self, key: str, entry: dict[str, Any]) -> None:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO journal (key, entry) VALUES (?, ?)", (key, json.dumps(entry)))
            db.execute(
                "DELETE FROM journal WHERE key = ? AND id <= (SELECT id FROM journal "
                "WHERE key = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (key, key, JOURNAL_SIZE),
            )
            db.execute("COMMIT")

    def journal(self, key: str) -> list[dict[str, Any]]:
        with self._connection() as db:
            rows = db.execute("SELECT entry FROM journal WHERE key = ? ORDER BY id DESC", (key,))
            return [json.loads(entry) for (entry,) in rows]

    def clear_journal(self, key: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM journal WHERE key = ?", (key,))

    def _load(self, db: sqlite3.Connection, key: str) -> Sandbox:
        row = db.execute("SELECT state FROM sandbox WHERE key = ?", (key,)).fetchone()
        return self.fresh() if row is None else pickle.loads(row[0])  # noqa: S301 (our own)

    @staticmethod
    def _save(db: sqlite3.Connection, key: str, sandbox: Sandbox) -> None:
        db.execute(
            "INSERT OR REPLACE INTO sandbox (key, state) VALUES (?, ?)",
            (key, pickle.dumps(sandbox, protocol=pickle.HIGHEST_PROTOCOL)),
        )


class RedisStore(Store):
    def __init__(self, url: str, seed_jobagents: list[dict[str, Any]]) -> None:
        import redis

        super().__init__(seed_jobagents)
        self._redis = redis.Redis.from_url(url)
        self._redis.ping()
        self._prefix = "jobagent-mock:"

    def _keys(self, key: str) -> tuple[str, str, str]:
        base = f"{self._prefix}{key}"
        return f"{base}:state", f"{base}:journal", f"{base}:lock"

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        state, _, lock = self._keys(key)
        with self._redis.lock(
            lock, timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=LOCK_TIMEOUT_SECONDS
        ):
            sandbox = self._load(state)
            try:
                yield sandbox
            except Fejl:
                self._redis.set(state, pickle.dumps(sandbox))  # a refusal keeps what it claimed
                raise
            self._redis.set(state, pickle.dumps(sandbox))

    @contextmanager
    def snapshot(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        yield self._load(self._keys(key)[0])

    def reset(self, key: str | None = None) -> None:
        if key is not None:
            self._redis.delete(*self._keys(key)[:2])
            return
        names = list(self._redis.scan_iter(match=f"{self._prefix}*"))
        if names:
            self._redis.delete(*names)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        journal = self._keys(key)[1]
        pipe = self._redis.pipeline()
        pipe.lpush(journal, json.dumps(entry))
        pipe.ltrim(journal, 0, JOURNAL_SIZE - 1)
        pipe.execute()

    def journal(self, key: str) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self._redis.lrange(self._keys(key)[1], 0, -1)]

    def clear_journal(self, key: str) -> None:
        self._redis.delete(self._keys(key)[1])

    def _load(self, state: str) -> Sandbox:
        raw: bytes | None = self._redis.get(state)  # type: ignore[assignment]
        return self.fresh() if raw is None else pickle.loads(raw)  # noqa: S301 (our own)
