"""Stores shared by several workers: SQLite in WAL mode on one machine, Redis across machines.

A sandbox's small parts (clock, enrollments, bookings, taken slots) are one pickled value; the
parts that grow with use are rows: job agents (JSON, one per agent), request ids and the
journal. A write takes the sandbox exclusively (SQLite's BEGIN IMMEDIATE under flock; a Redis
lock), so every rule holds across workers exactly as in one process. Pickles are read only from
the mock's own store.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import secrets
import sqlite3
import sys
import threading
import time
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
# a writer waiting for a Redis lock is woken by its release; it asks again at least this often,
# in case the holder died (its lock then expires after LOCK_TIMEOUT_SECONDS)
LOCK_WAKE_SECONDS = 0.05
RETENTION_SECONDS = REQUEST_ID_RETENTION.total_seconds()
# a worker cuts a sandbox's journal back to JOURNAL_SIZE after this many of its own entries
# (reads stop at JOURNAL_SIZE): a cut costs as much as an entry, so not one with every entry
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

    def __init__(
        self, db: sqlite3.Connection, key: str, core: dict[str, Any], stored: bytes | None = None
    ) -> None:
        super().__init__(**core)
        self._db, self._key = db, key
        self.stored = stored  # the core as read: unchanged, it is not written again

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
        # ids only grow: only the oldest entries are ever deleted, or all (no AUTOINCREMENT,
        # which costs a quarter of an insert)
        "CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, sandbox TEXT, entry TEXT)",
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
            assert isinstance(sandbox, SqliteSandbox)
            try:
                yield sandbox
            finally:
                # kept on success and on a refusal (which keeps what it claimed)
                if sys.exc_info()[0] is None or isinstance(sys.exc_info()[1], Fejl):
                    state = _core(sandbox)
                    if state != sandbox.stored:
                        db.execute(
                            "INSERT OR REPLACE INTO core (sandbox, state) VALUES (?, ?)",
                            (key, state),
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
            db.execute(
                "INSERT INTO journal (sandbox, entry) VALUES (?, ?)", (key, json.dumps(entry))
            )
            self._since_trim[key] = self._since_trim.get(key, 0) + 1
            if self._since_trim[key] >= JOURNAL_TRIM_EVERY:
                self._since_trim[key] = 0
                db.execute(
                    "DELETE FROM journal WHERE sandbox = ? AND id <= (SELECT id FROM journal "
                    "WHERE sandbox = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (key, key, JOURNAL_SIZE),
                )

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
            return SqliteSandbox(db, key, pickle.loads(row[0]), row[0])  # noqa: S301 (our own)
        if not seed:
            return self.fresh()  # nothing stored yet: the fixtures, read from memory
        sandbox = SqliteSandbox(db, key, {name: getattr(Sandbox(), name) for name in CORE})
        for cpr, jobagent_id, record in self.seed():
            sandbox.put_agent(cpr, jobagent_id, record)
        return sandbox


# Redis runs a script atomically: one round trip where commands would take several.
AGENTS_OF = """
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
if #ids == 0 then return {} end
return {ids, redis.call('HMGET', KEYS[2], unpack(ids))}
"""
# KEYS: lock, wake list; ARGV: token, key prefix, new core state ('' unchanged), writes (JSON).
# Writes only while the lock is still ours; a new agent's place comes from the order counter.
RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local prefix = ARGV[2]
if ARGV[3] ~= '' then redis.call('SET', prefix .. 'core', ARGV[3]) end
for _, w in ipairs(cjson.decode(ARGV[4])) do
  if w[1] == 'put' then
    local order = redis.call('INCR', prefix .. 'order')
    redis.call('HSET', prefix .. 'agents', w[2], w[4])
    redis.call('ZADD', prefix .. 'citizen:' .. w[3], 'NX', order, w[2])
    redis.call('SADD', prefix .. 'citizens', w[3])
  elseif w[1] == 'remove' then
    redis.call('HDEL', prefix .. 'agents', w[2])
    redis.call('ZREM', prefix .. 'citizen:' .. w[3], w[2])
  else
    redis.call('ZADD', prefix .. 'request-ids', w[3], w[2])
  end
end
redis.call('DEL', KEYS[1])
redis.call('RPUSH', KEYS[2], 1)
redis.call('LTRIM', KEYS[2], -1, -1)
return 1
"""


class RedisSandbox(Sandbox):
    """A sandbox whose job agents and request ids live in Redis keys of its own.

    What a transaction writes waits in `writes` and goes to Redis with the release of its lock,
    in the same round trip; until then this sandbox's own reads see it (`_pending`).
    """

    def __init__(self, store: RedisStore, prefix: str, core: dict[str, Any]) -> None:
        super().__init__(**core)
        self._store, self._redis, self._prefix = store, store.redis, prefix
        self.writes: list[list[str]] = []
        # jobagentIdentifier -> (cpr, record, or None once removed), in the order written
        self._pending: dict[str, tuple[str, dict[str, Any] | None]] = {}

    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        found = self._store.agents_of(
            keys=[f"{self._prefix}citizen:{cpr}", f"{self._prefix}agents"]
        )
        ids, records = found or ([], [])
        agents = {
            i.decode(): json.loads(r)["record"] for i, r in zip(ids, records, strict=True) if r
        }
        for jobagent_id, (owner, record) in self._pending.items():
            if owner == cpr and record is None:
                agents.pop(jobagent_id, None)
            elif owner == cpr and record is not None:
                agents[jobagent_id] = record  # a replaced agent keeps its place
        return agents

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        stored = json.dumps({"cpr": cpr, "record": record})
        self.writes.append(["put", jobagent_id, cpr, stored])
        self._pending[jobagent_id] = (cpr, record)

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:
        self.writes.append(["remove", jobagent_id, cpr])
        self._pending[jobagent_id] = (cpr, None)

    def owner_of(self, jobagent_id: str) -> str | None:
        if jobagent_id in self._pending:
            owner, record = self._pending[jobagent_id]
            return None if record is None else owner
        found = self._redis.hget(f"{self._prefix}agents", jobagent_id)
        return None if found is None else str(json.loads(found)["cpr"])

    def citizens(self) -> list[str]:
        stored = {c.decode() for c in self._redis.smembers(f"{self._prefix}citizens")}
        return sorted(stored | {cpr for cpr, record in self._pending.values() if record})

    def claim_request_id(self, request_id: str) -> None:
        now = self.clock.now().timestamp()
        ids = f"{self._prefix}request-ids"
        pipe = self._redis.pipeline(transaction=False)
        pipe.zremrangebyscore(ids, "-inf", now - RETENTION_SECONDS)
        pipe.zscore(ids, request_id)
        _, seen = pipe.execute()
        if seen is not None and now - seen < RETENTION_SECONDS:
            raise _replayed(request_id)
        self.writes.append(["claim", request_id, repr(now)])


class RedisStore(Store):
    def __init__(self, url: str, seed_jobagents: list[dict[str, Any]]) -> None:
        try:
            import redis
        except ImportError:  # an extra: serving on one host never needs it
            raise ValueError(
                "the Redis store needs the redis extra: pip install 'jobagent-mock[redis]'"
            ) from None

        super().__init__(seed_jobagents)
        self.redis: Any = redis.Redis.from_url(url)
        self.redis.ping()
        self.agents_of = self.redis.register_script(AGENTS_OF)
        self._release = self.redis.register_script(RELEASE)
        # writers of this process queue here, so only one per process waits on the Redis lock
        self._writer = threading.Lock()

    @staticmethod
    def _prefix(key: str) -> str:
        # sandbox keys hold no ':' (client ids and x-mock-sandbox names exclude it)
        return f"jobagent-mock:{key}:"

    @contextmanager
    def transaction(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        prefix = self._prefix(key)
        lock = [f"{prefix}lock", f"{prefix}wake"]
        token = secrets.token_hex(8)
        with self._writer:
            raw = self._acquire(lock, token, prefix)
            sandbox = self._sandbox(prefix, raw, seed=True)
            kept = False
            try:
                yield sandbox
                kept = True
            except Fejl:
                kept = True  # a refusal keeps what it claimed
                raise
            finally:
                self._release_with(lock, token, prefix, raw, sandbox if kept else None)

    def _release_with(
        self, lock: list[str], token: str, prefix: str, raw: Any, kept: Sandbox | None
    ) -> None:
        """Release the lock, writing what the transaction kept (nothing after a failure), all
        only if the lock is still ours."""
        state, writes = b"", "[]"
        if isinstance(kept, RedisSandbox):
            state = _core(kept)
            state = b"" if state == raw else state  # unchanged: not written again
            writes = json.dumps(kept.writes)
        if not self._release(keys=lock, args=[token, prefix, state, writes]):
            raise RuntimeError(f"the lock of {prefix} expired while held")

    def _acquire(self, lock: list[str], token: str, prefix: str) -> bytes | None:
        """Take the sandbox's lock and read its state in one round trip; a waiting writer
        sleeps in BLPOP until a release wakes it."""
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        timeout_ms = LOCK_TIMEOUT_SECONDS * 1000
        while True:
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(lock[0], token, nx=True, px=timeout_ms)
            pipe.get(f"{prefix}core")
            taken, raw = pipe.execute()
            if taken:
                return raw
            if time.monotonic() > deadline:
                raise TimeoutError(f"no lock on {lock[0]} within {LOCK_TIMEOUT_SECONDS} s")
            self.redis.blpop([lock[1]], timeout=LOCK_WAKE_SECONDS)

    @contextmanager
    def snapshot(self, key: str = DEFAULT_SANDBOX) -> Iterator[Sandbox]:
        prefix = self._prefix(key)
        yield self._sandbox(prefix, self.redis.get(f"{prefix}core"), seed=False)

    def reset(self, key: str | None = None) -> None:
        if key is None:  # every sandbox: no lock to take for all of them at once
            self._delete("jobagent-mock:*")
            return
        # one sandbox: under its lock, so a write under way cannot bring its state back
        prefix = self._prefix(key)
        lock = [f"{prefix}lock", f"{prefix}wake"]
        token = secrets.token_hex(8)
        with self._writer:
            self._acquire(lock, token, prefix)
            self._delete(f"{prefix}*")
            self._release_with(lock, token, prefix, None, None)

    def _delete(self, pattern: str) -> None:
        names = [n for n in self.redis.scan_iter(match=pattern) if not n.endswith(b":lock")]
        if names:
            self.redis.delete(*names)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        journal = f"{self._prefix(key)}journal"
        pipe = self.redis.pipeline()
        pipe.lpush(journal, json.dumps(entry))
        pipe.ltrim(journal, 0, JOURNAL_SIZE - 1)
        pipe.execute()

    def journal(self, key: str) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.redis.lrange(f"{self._prefix(key)}journal", 0, -1)]

    def clear_journal(self, key: str) -> None:
        self.redis.delete(f"{self._prefix(key)}journal")

    def _sandbox(self, prefix: str, raw: Any, seed: bool) -> Sandbox:
        if raw is not None:
            return RedisSandbox(self, prefix, pickle.loads(raw))  # noqa: S301 (our own)
        if not seed:
            return self.fresh()
        sandbox = RedisSandbox(self, prefix, {name: getattr(Sandbox(), name) for name in CORE})
        for cpr, jobagent_id, record in self.seed():
            sandbox.put_agent(cpr, jobagent_id, record)
        return sandbox
