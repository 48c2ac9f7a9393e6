"""Stores shared by several workers: SQLite in WAL mode on one machine, Redis across machines.

A sandbox's small parts (clock, enrollments, bookings, taken slots) are one pickled value; the
parts that grow with use are rows: job agents (JSON, one per agent), request ids and the
journal. A write takes the sandbox exclusively (SQLite's BEGIN IMMEDIATE; a Redis lock), so
every rule holds across workers exactly as in one process. Pickles are read only from the
mock's own store.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobagent_mock.errors import Fejl, ReplayedRequest
from jobagent_mock.store import (
    DEFAULT_SANDBOX,
    JOURNAL_SIZE,
    REQUEST_ID_RETENTION,
    MemoryStore,
    Sandbox,
    Store,
)

LOCK_TIMEOUT_SECONDS = 30
# how often a waiting writer asks again for a held Redis lock (redis-py's default is 0.1 s)
LOCK_POLL_SECONDS = 0.0005
RETENTION_SECONDS = REQUEST_ID_RETENTION.total_seconds()
# a worker cuts a sandbox's journal back to JOURNAL_SIZE after this many of its own entries
# (reads stop at JOURNAL_SIZE): a cut costs as much as an entry, and most entries are reads'
JOURNAL_TRIM_EVERY = 64
CORE = ("clock", "enrollments", "bookings", "taken_slots")


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


def _core(sandbox: Sandbox) -> bytes:
    return pickle.dumps({name: getattr(sandbox, name) for name in CORE})


def _replayed(request_id: str) -> ReplayedRequest:
    return ReplayedRequest(None, f"The x-requestId {request_id} was received before.")


class SqliteSandbox(Sandbox):
    """A sandbox whose job agents and request ids are rows of an open SQLite connection."""

    def __init__(self, db: sqlite3.Connection, key: str, core: dict[str, Any]) -> None:
        super().__init__(**core)
        self._db, self._key = db, key

    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, record FROM agent WHERE sandbox = ? AND cpr = ? ORDER BY rowid",
            (self._key, cpr),
        )
        return {jobagent_id: json.loads(record) for jobagent_id, record in rows}

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        # an upsert keeps the row, and so the agent's place in its citizen's list
        self._db.execute(
            "INSERT INTO agent (sandbox, id, cpr, record) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sandbox, id) DO UPDATE SET record = excluded.record",
            (self._key, jobagent_id, cpr, json.dumps(record)),
        )

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:
        self._db.execute(
            "DELETE FROM agent WHERE sandbox = ? AND id = ? AND cpr = ?",
            (self._key, jobagent_id, cpr),
        )

    def owner_of(self, jobagent_id: str) -> str | None:
        row = self._db.execute(
            "SELECT cpr FROM agent WHERE sandbox = ? AND id = ?", (self._key, jobagent_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def citizens(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT cpr FROM agent WHERE sandbox = ?", (self._key,))
        return [cpr for (cpr,) in rows]

    def claim_request_id(self, request_id: str) -> None:
        now = self.clock.now().timestamp()
        self._db.execute(
            "DELETE FROM request_id WHERE sandbox = ? AND seen <= ?",
            (self._key, now - RETENTION_SECONDS),
        )
        seen = self._db.execute(
            "SELECT seen FROM request_id WHERE sandbox = ? AND id = ?", (self._key, request_id)
        ).fetchone()
        if seen is not None and now - seen[0] < RETENTION_SECONDS:
            raise _replayed(request_id)
        self._db.execute(
            "INSERT OR REPLACE INTO request_id (sandbox, id, seen) VALUES (?, ?, ?)",
            (self._key, request_id, now),
        )


class SqliteStore(Store):
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS core (sandbox TEXT PRIMARY KEY, state BLOB)",
        "CREATE TABLE IF NOT EXISTS agent (sandbox TEXT, id TEXT, cpr TEXT, record TEXT, "
        "PRIMARY KEY (sandbox, id))",
        "CREATE INDEX IF NOT EXISTS agent_cpr ON agent (sandbox, cpr)",
        "CREATE TABLE IF NOT EXISTS request_id (sandbox TEXT, id TEXT, seen REAL, "
        "PRIMARY KEY (sandbox, id))",
        "CREATE INDEX IF NOT EXISTS request_id_seen ON request_id (sandbox, seen)",
        "CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "sandbox TEXT, entry TEXT)",
        "CREATE INDEX IF NOT EXISTS journal_sandbox ON journal (sandbox, id)",
    )
    TABLES = ("core", "agent", "request_id", "journal")

    def __init__(self, path: Path, seed_jobagents: list[dict[str, Any]]) -> None:
        super().__init__(seed_jobagents)
        self._path = path
        self._local = threading.local()
        # Writers queue on a lock of this process's threads and on flock across processes, so
        # SQLite never finds its write lock taken: its busy handler would sleep up to 100 ms
        # where the kernel wakes the next writer at once (and frees a killed writer's flock).
        self._writer = threading.Lock()
        self._since_trim: dict[str, int] = {}
        self._lock_file = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        with self._exclusive():
            db = self._db()
            for statement in self.SCHEMA:
                db.execute(statement)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._writer:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
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
        return db

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        with self._exclusive():
            yield from self._transaction(key)

    def _transaction(self, key: str) -> Iterator[Sandbox]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            sandbox = self._load(db, key, seed=True)
            try:
                yield sandbox
            finally:
                # kept on success and on a refusal (which keeps what it claimed)
                if sys.exc_info()[0] is None or isinstance(sys.exc_info()[1], Fejl):
                    db.execute(
                        "INSERT OR REPLACE INTO core (sandbox, state) VALUES (?, ?)",
                        (key, _core(sandbox)),
                    )
                    db.execute("COMMIT")
        finally:
            if db.in_transaction:  # an unexpected failure changes nothing
                db.execute("ROLLBACK")

    @contextmanager
    def snapshot(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        yield self._load(self._db(), key, seed=False)

    def reset(self, key: str | None = None) -> None:
        db = self._db()
        where, args = ("", ()) if key is None else (" WHERE sandbox = ?", (key,))
        with self._exclusive():
            db.execute("BEGIN IMMEDIATE")
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table}{where}", args)  # noqa: S608 (our own tables)
            db.execute("COMMIT")

    def record(self, key: str, entry: dict[str, Any]) -> None:
        db = self._db()
        with self._exclusive():
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO journal (sandbox, entry) VALUES (?, ?)", (key, json.dumps(entry))
            )
            db.execute(
                "DELETE FROM journal WHERE sandbox = ? AND id <= (SELECT id FROM journal "
                "WHERE sandbox = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (key, key, JOURNAL_SIZE),
            )
            db.execute("COMMIT")

    def journal(self, key: str) -> list[dict[str, Any]]:
        rows = self._db().execute(
            "SELECT entry FROM journal WHERE sandbox = ? ORDER BY id DESC LIMIT ?",
            (key, JOURNAL_SIZE),
        )
        return [json.loads(entry) for (entry,) in rows]

    def clear_journal(self, key: str) -> None:
        with self._exclusive():
            self._db().execute("DELETE FROM journal WHERE sandbox = ?", (key,))

    def _load(self, db: sqlite3.Connection, key: str, seed: bool) -> Sandbox:
        row = db.execute("SELECT state FROM core WHERE sandbox = ?", (key,)).fetchone()
        if row is not None:
            return SqliteSandbox(db, key, pickle.loads(row[0]))  # noqa: S301 (our own)
        if not seed:
            return self.fresh()  # nothing stored yet: the fixtures, read from memory
        sandbox = SqliteSandbox(db, key, {name: getattr(Sandbox(), name) for name in CORE})
        for cpr, agents in self.fresh().jobagents.items():
            for jobagent_id, record in agents.items():
                sandbox.put_agent(cpr, jobagent_id, record)
        return sandbox


class RedisSandbox(Sandbox):
    """A sandbox whose job agents and request ids live in Redis keys of its own."""

    def __init__(self, redis: Any, prefix: str, core: dict[str, Any]) -> None:
        super().__init__(**core)
        self._redis, self._prefix = redis, prefix

    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        ids = [i.decode() for i in self._redis.zrange(f"{self._prefix}citizen:{cpr}", 0, -1)]
        records = self._redis.hmget(f"{self._prefix}agents", ids) if ids else []
        return {i: json.loads(r)["record"] for i, r in zip(ids, records, strict=True) if r}

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        order = self._redis.incr(f"{self._prefix}order")
        pipe = self._redis.pipeline()
        pipe.hset(f"{self._prefix}agents", jobagent_id, json.dumps({"cpr": cpr, "record": record}))
        pipe.zadd(f"{self._prefix}citizen:{cpr}", {jobagent_id: order}, nx=True)
        pipe.sadd(f"{self._prefix}citizens", cpr)
        pipe.execute()

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:
        self._redis.hdel(f"{self._prefix}agents", jobagent_id)
        self._redis.zrem(f"{self._prefix}citizen:{cpr}", jobagent_id)

    def owner_of(self, jobagent_id: str) -> str | None:
        found = self._redis.hget(f"{self._prefix}agents", jobagent_id)
        return None if found is None else str(json.loads(found)["cpr"])

    def citizens(self) -> list[str]:
        return sorted(c.decode() for c in self._redis.smembers(f"{self._prefix}citizens"))

    def claim_request_id(self, request_id: str) -> None:
        now = self.clock.now().timestamp()
        ids = f"{self._prefix}request-ids"
        self._redis.zremrangebyscore(ids, "-inf", now - RETENTION_SECONDS)
        seen = self._redis.zscore(ids, request_id)
        if seen is not None and now - seen < RETENTION_SECONDS:
            raise _replayed(request_id)
        self._redis.zadd(ids, {request_id: now})


class RedisStore(Store):
    def __init__(self, url: str, seed_jobagents: list[dict[str, Any]]) -> None:
        import redis

        super().__init__(seed_jobagents)
        self._redis = redis.Redis.from_url(url)
        self._redis.ping()
        # writers of this process queue here, so only one per process polls the Redis lock
        self._writer = threading.Lock()

    @staticmethod
    def _prefix(key: str) -> str:
        # sandbox keys hold no ':' (client ids and x-mock-sandbox names exclude it)
        return f"jobagent-mock:{key}:"

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        prefix = self._prefix(key)
        with (
            self._writer,
            self._redis.lock(
                f"{prefix}lock",
                timeout=LOCK_TIMEOUT_SECONDS,
                blocking_timeout=LOCK_TIMEOUT_SECONDS,
                sleep=LOCK_POLL_SECONDS,
            ),
        ):
            sandbox = self._load(prefix, seed=True)
            try:
                yield sandbox
            finally:
                # kept on success and on a refusal (which keeps what it claimed)
                if sys.exc_info()[0] is None or isinstance(sys.exc_info()[1], Fejl):
                    self._redis.set(f"{prefix}core", _core(sandbox))

    @contextmanager
    def snapshot(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        yield self._load(self._prefix(key), seed=False)

    def reset(self, key: str | None = None) -> None:
        pattern = "jobagent-mock:*" if key is None else f"{self._prefix(key)}*"
        names = [n for n in self._redis.scan_iter(match=pattern) if not n.endswith(b":lock")]
        if names:
            self._redis.delete(*names)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        journal = f"{self._prefix(key)}journal"
        pipe = self._redis.pipeline()
        pipe.lpush(journal, json.dumps(entry))
        pipe.ltrim(journal, 0, JOURNAL_SIZE - 1)
        pipe.execute()

    def journal(self, key: str) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self._redis.lrange(f"{self._prefix(key)}journal", 0, -1)]

    def clear_journal(self, key: str) -> None:
        self._redis.delete(f"{self._prefix(key)}journal")

    def _load(self, prefix: str, seed: bool) -> Sandbox:
        raw: bytes | None = self._redis.get(f"{prefix}core")  # type: ignore[assignment]
        if raw is not None:
            return RedisSandbox(self._redis, prefix, pickle.loads(raw))  # noqa: S301 (our own)
        if not seed:
            return self.fresh()
        sandbox = RedisSandbox(
            self._redis, prefix, {name: getattr(Sandbox(), name) for name in CORE}
        )
        for cpr, agents in self.fresh().jobagents.items():
            for jobagent_id, record in agents.items():
                sandbox.put_agent(cpr, jobagent_id, record)
        return sandbox
