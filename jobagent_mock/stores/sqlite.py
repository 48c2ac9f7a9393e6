"""The SQLite store, for several workers on one machine: WAL, a process's writes group-committed
by one thread of its own, processes queued on flock.

A sandbox's small parts are one JSON value (codec.py); the parts that grow with use are rows:
job agents (JSON, one per agent), request ids and the journal, so a write costs the same however
full a sandbox is.
"""

from __future__ import annotations

import contextvars
import fcntl
import functools
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from jobagent_mock.foundations import jsontext
from jobagent_mock.foundations.batch_writer import Batches, Queued
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import Fejl
from jobagent_mock.journal.drift import Departure, drift_row
from jobagent_mock.stores import codec
from jobagent_mock.stores.base import (
    DEFAULT_SANDBOX,
    JOURNAL_SIZE,
    NO_DECLARED_READS,
    CitizenSelector,
    Counted,
    DeclaredReads,
    Entry,
    Outcome,
    Result,
    Sandbox,
    SeededStore,
    Work,
    WouldWait,
    outcome_row,
    waiting_forbidden,
    written_ahead,
)
from jobagent_mock.stores.sandboxes import Caps, Refusal

LOCK_TIMEOUT_SECONDS = 30
# a worker cuts a sandbox's journal back to JOURNAL_SIZE after this many of its own entries
# (reads stop at JOURNAL_SIZE): a cut costs as much as an entry, so not one with every entry
JOURNAL_TRIM_EVERY = 64
# a sandbox's request ids are cut back to the newest `keep` about this often (per claim)
REQUEST_ID_TRIM_EVERY = 64
_CLAIMS = itertools.count(1)  # this process's claims, for the cut
Job = Callable[[], Any]


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

    def agent_of(self, cpr: str, jobagent_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT record FROM agent WHERE sandbox = ? AND id = ? AND cpr = ?",
            (self._key, jobagent_id, cpr),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        # an upsert keeps the row, and so the agent's place in its citizen's list
        self._db.execute(
            "INSERT INTO agent (sandbox, id, cpr, record) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sandbox, id) DO UPDATE SET record = excluded.record",
            (self._key, jobagent_id, cpr, jsontext.dumps(record)),
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

    def request_id_seen(self, request_id: str, forget_before: datetime) -> datetime | None:
        self._db.execute(
            "DELETE FROM request_id WHERE sandbox = ? AND seen <= ?",
            (self._key, forget_before.timestamp()),
        )
        row = self._db.execute(
            "SELECT seen FROM request_id WHERE sandbox = ? AND id = ?", (self._key, request_id)
        ).fetchone()
        return None if row is None else datetime.fromtimestamp(row[0], DANISH_TIME)

    def remember_request_id(self, request_id: str, at: datetime, keep: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO request_id (sandbox, id, seen) VALUES (?, ?, ?)",
            (self._key, request_id, at.timestamp()),
        )
        # the cut walks `keep` index rows: once in a while, so about `keep` are kept
        if next(_CLAIMS) % REQUEST_ID_TRIM_EVERY == 0:
            self._db.execute(
                "DELETE FROM request_id WHERE sandbox = ? AND seen < (SELECT seen FROM "
                "request_id WHERE sandbox = ? ORDER BY seen DESC LIMIT 1 OFFSET ?)",
                (self._key, self._key, keep - 1),
            )


class SqliteStore(SeededStore):
    shared = True
    # a WAL reader takes no lock a writer holds: a snapshot waits for nobody (_unless_busy)
    reads_in_loop = True
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
        # coverage: one row an outcome (fejlkode 0: none), never capped like the journal
        "CREATE TABLE IF NOT EXISTS outcome (sandbox TEXT, operation TEXT, status INTEGER, "
        "fejlkode INTEGER, count INTEGER, last_request_id TEXT, "
        "PRIMARY KEY (sandbox, operation, status, fejlkode))",
        # scenarios' hits (rules/scenarios.py): one row a scenario that answered, cleared by reset
        "CREATE TABLE IF NOT EXISTS step (sandbox TEXT, scenario TEXT, hits INTEGER, "
        "PRIMARY KEY (sandbox, scenario))",
        # admissions (sandboxes.py): one row a sandbox that may exist
        "CREATE TABLE IF NOT EXISTS admitted (sandbox TEXT PRIMARY KEY, client TEXT, used REAL)",
        "CREATE INDEX IF NOT EXISTS admitted_client ON admitted (client)",
        "CREATE INDEX IF NOT EXISTS admitted_used ON admitted (used)",
    )
    TABLES = ("core", "agent", "request_id", "journal", "outcome", "step", "admitted")

    def __init__(self, path: Path, seed_jobagents: list[dict[str, Any]]) -> None:
        super().__init__(seed_jobagents)
        self._path = path
        # a file that cannot be opened, read or written (a lost disk, a full one) is an outage
        self.outages = (sqlite3.OperationalError,)
        self.description = f"sqlite at {path}"
        self._local = threading.local()
        # Writers queue on a lock of this process's threads and on flock across processes, so
        # SQLite never finds its write lock taken: its busy handler would sleep up to 100 ms
        # where the kernel wakes the next writer at once (and frees a killed writer's flock).
        self._writer = threading.Lock()
        self._since_trim: dict[str, int] = {}
        # One thread of this process writes whatever has queued as one transaction (a batch):
        # one flock, one BEGIN IMMEDIATE and one COMMIT for many writes, each in a savepoint.
        self.batches: Batches[Job] | None = Batches(self._commit, "sqlite writer")
        self._in_batch = threading.local()  # set on that thread while its transaction is open
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
            db = self._local.db = self._connect(LOCK_TIMEOUT_SECONDS)
        return db

    def _reader(self) -> sqlite3.Connection:
        """A connection that never waits: where SQLite would wait (busy), it fails at once."""
        db: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if db is None:
            db = self._local.reader = self._connect(0)
        return db

    def _connect(self, timeout: float) -> sqlite3.Connection:
        db = sqlite3.connect(
            self._path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL survives a killed process (not a lost machine): enough for a mock
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def _unless_busy(self) -> Iterator[None]:
        """Where nothing may wait, SQLite's busy (a WAL reader waits only while another process
        recovers or restarts the log, or on a full log index) is WouldWait, not an outage."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code
            busy = code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if busy and waiting_forbidden():
                raise WouldWait(f"{self.description} is busy") from exc
            raise

    @contextmanager
    def _exclusive_sandbox(
        self,
        key: str,
        reads: DeclaredReads = NO_DECLARED_READS,  # noqa: ARG002 (no round trip to save: read as asked)
    ) -> Iterator[Sandbox]:
        with self._exclusive():
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield self._load(db, key, seed=True)
            finally:
                if db.in_transaction:  # neither kept nor dropped: the load itself failed
                    db.execute("ROLLBACK")

    def _keep_changes(self, key: str, sandbox: Sandbox) -> None:
        self._save_core(key, sandbox)
        self._db().execute("COMMIT")

    def _save_core(self, key: str, sandbox: Sandbox) -> None:
        assert isinstance(sandbox, SqliteSandbox)
        state = codec.encode(sandbox)
        if state != sandbox.stored:
            self._db().execute(
                "INSERT OR REPLACE INTO core (sandbox, state) VALUES (?, ?)", (key, state)
            )

    def _discard_changes(self, key: str) -> None:  # noqa: ARG002 (one connection a thread: no key needed)
        self._db().execute("ROLLBACK")

    def write(
        self, key: str, work: Work[Result], reads: DeclaredReads = NO_DECLARED_READS
    ) -> Result:
        if waiting_forbidden():
            written = written_ahead()
            if written is None:  # queued now; the caller awaits it, then calls again
                queued = self.write_soon(key, work, reads)
                raise WouldWait(f"a write to {self.description} waits for its batch", None, queued)
            with self.reachable():
                result: Result = written.result()
                return result
        with self.reachable():
            return self.write_soon(key, work, reads).result()

    def write_soon(
        self,
        key: str,
        work: Work[Result],
        reads: DeclaredReads = NO_DECLARED_READS,  # noqa: ARG002 (no round trip to save: read as asked)
    ) -> Future[Result]:
        """`write`, answered through a future when its batch has committed: the sandbox as
        `work` left it is kept on success and on a refusal (Fejl), dropped on anything else. It
        runs in the caller's context (the journal's clock reading)."""
        context = contextvars.copy_context()
        return self.soon(lambda: self._write_here(key, lambda sandbox: context.run(work, sandbox)))

    def soon(self, job: Job) -> Future[Any]:
        """Run `job` in this process's next batch, in its open transaction: kept when it returns
        or raises a Fejl, rolled back alone (its savepoint) when it raises anything else. Store
        calls it makes run in that transaction."""
        if self._writing():
            raise RuntimeError("a batch's job queued another: it would wait for itself")
        assert self.batches is not None
        return self.batches.submit(job)

    def _writing(self) -> bool:
        """True on the writer's thread while its batch's transaction is open."""
        return getattr(self._in_batch, "open", False)

    def _here_or_soon(self, job: Callable[[], Result]) -> Result:
        """`job` in the open batch when called from one, else in the next batch, waited for."""
        if self._writing():
            return job()
        with self.reachable():
            result: Result = self.soon(job).result()
            return result

    def _write_here(self, key: str, work: Work[Result]) -> Result:
        sandbox = self._load(self._db(), key, seed=True)
        try:
            result = work(sandbox)
        except Fejl:
            self._save_core(key, sandbox)  # a refusal keeps what it claimed (an x-requestId)
            raise
        self._save_core(key, sandbox)
        return result

    def _commit(self, batch: list[Queued[Job]]) -> None:
        """The writer's thread: the batch as one transaction, each job in a savepoint; each
        future answered once it committed (or failed with the commit)."""
        answers: list[tuple[Future[Any], Any, BaseException | None]] = []
        with self._exclusive():
            db = self._db()
            try:
                db.execute("BEGIN IMMEDIATE")
                self._in_batch.open = True
                for job, future in batch:
                    db.execute("SAVEPOINT job")
                    try:
                        answers.append((future, job(), None))
                    except Fejl as refusal:
                        answers.append((future, None, refusal))
                    except Exception as exc:  # noqa: BLE001 (answered to its caller)
                        db.execute("ROLLBACK TO job")
                        answers.append((future, None, exc))
                    db.execute("RELEASE job")
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise  # every future of the batch fails with it (foundations/batch_writer.py)
            finally:
                self._in_batch.open = False
        for future, result, failure in answers:
            if failure is None:
                future.set_result(result)
            else:
                future.set_exception(failure)

    def _ping(self) -> None:
        self._db().execute("SELECT 1 FROM core LIMIT 1").fetchall()

    @contextmanager
    def snapshot(
        self,
        key: str = DEFAULT_SANDBOX,
        citizen: CitizenSelector = None,  # noqa: ARG002 (rows are read lazily, in the same transaction)
    ) -> Iterator[Sandbox]:
        if self._writing():  # a batch's job reads in the batch's transaction
            yield self._load(self._db(), key, seed=False)
            return
        # one read transaction: every row the reader asks for is of the same moment (WAL)
        with self.reachable(), self._unless_busy():
            db = self._reader() if waiting_forbidden() else self._db()
            db.execute("BEGIN")
            try:
                yield self._load(db, key, seed=False)
            finally:
                db.execute("COMMIT")

    def reset(self, key: str | None = None) -> None:
        # in the writer's order: what this process queued before the reset is written before it
        self._here_or_soon(functools.partial(self._reset, key))

    def _reset(self, key: str | None) -> None:
        where, args = ("", ()) if key is None else (" WHERE sandbox = ?", (key,))
        for table in self.TABLES:
            self._db().execute(f"DELETE FROM {table}{where}", args)  # noqa: S608 (our own tables)

    def admit(self, key: str, client: str, now: float, caps: Caps) -> Refusal:
        with self.reachable(), self._exclusive():
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                refused = self._admit(db, key, client, now, caps)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return refused

    def _admit(
        self, db: sqlite3.Connection, key: str, client: str, now: float, caps: Caps
    ) -> Refusal:
        if db.execute("UPDATE admitted SET used = ? WHERE sandbox = ?", (now, key)).rowcount:
            return None
        idle = [k for (k,) in db.execute(
            "SELECT sandbox FROM admitted WHERE used < ?", (now - caps.idle_ttl,)
        )]  # fmt: skip
        for sandbox in idle:  # freed as a reset frees it
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table} WHERE sandbox = ?", (sandbox,))  # noqa: S608
        (mine,) = db.execute("SELECT count(*) FROM admitted WHERE client = ?", (client,)).fetchone()
        if mine >= caps.per_client:
            return "per client"
        (every,) = db.execute("SELECT count(*) FROM admitted").fetchone()
        if every >= caps.total:
            return "in all"
        db.execute("INSERT INTO admitted VALUES (?, ?, ?)", (key, client, now))
        return None

    def is_admitted(self, key: str) -> bool:
        with self.reachable():
            found = self._db().execute("SELECT 1 FROM admitted WHERE sandbox = ?", (key,))
            return found.fetchone() is not None

    def release(self, key: str | None) -> None:
        where, args = ("", ()) if key is None else (" WHERE sandbox = ?", (key,))
        with self.reachable(), self._exclusive():
            self._db().execute(f"DELETE FROM admitted{where}", args)  # noqa: S608

    def record(self, key: str, entry: dict[str, Any]) -> None:
        self.record_all([(key, entry)], [])

    def record_all(self, entries: list[Entry], outcomes: list[Counted]) -> None:
        # in the writer's batch: one lock and one commit with the writes queued beside it
        self._here_or_soon(functools.partial(self._record_here, entries, outcomes))

    def _record_here(self, entries: list[Entry], outcomes: list[Counted]) -> None:
        db = self._db()
        db.executemany(
            "INSERT INTO journal (sandbox, entry) VALUES (?, ?)",
            [(key, jsontext.dumps(entry)) for key, entry in entries],
        )
        for key in {key for key, _ in entries}:
            self._trim_journal(db, key, sum(k == key for k, _ in entries))
        db.executemany(
            "INSERT INTO outcome VALUES (?, ?, ?, ?, 1, ?) "
            "ON CONFLICT (sandbox, operation, status, fejlkode) DO UPDATE SET "
            "count = count + 1, last_request_id = coalesce(?, last_request_id)",
            [(key, *outcome, rid, rid) for key, outcome, rid in outcomes],
        )

    def _trim_journal(self, db: sqlite3.Connection, key: str, added: int) -> None:
        self._since_trim[key] = self._since_trim.get(key, 0) + added
        if self._since_trim[key] >= JOURNAL_TRIM_EVERY:
            self._since_trim[key] = 0
            db.execute(
                "DELETE FROM journal WHERE sandbox = ? AND id <= (SELECT id FROM journal "
                "WHERE sandbox = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (key, key, JOURNAL_SIZE),
            )

    def journal(self, key: str) -> list[dict[str, Any]]:
        with self.reachable():
            rows = (
                self._db()
                .execute(
                    "SELECT entry FROM journal WHERE sandbox = ? ORDER BY id DESC LIMIT ?",
                    (key, JOURNAL_SIZE),
                )
                .fetchall()
            )
        return [json.loads(entry) for (entry,) in rows]

    def clear_journal(self, key: str) -> None:
        self._here_or_soon(
            lambda: self._db().execute("DELETE FROM journal WHERE sandbox = ?", (key,))
        )

    def count_outcome(self, key: str, outcome: Outcome, request_id: str | None) -> None:
        self.record_all([], [(key, outcome, request_id)])

    def outcomes(self, key: str) -> list[dict[str, Any]]:
        with self.reachable():
            rows = (
                self._db()
                .execute(
                    "SELECT operation, status, fejlkode, count, last_request_id FROM outcome "
                    "WHERE sandbox = ?",
                    (key,),
                )
                .fetchall()
            )
        return [outcome_row((o, s, f), n, last) for o, s, f, n, last in rows]

    def _load(self, db: sqlite3.Connection, key: str, seed: bool) -> Sandbox:
        row = db.execute("SELECT state FROM core WHERE sandbox = ?", (key,)).fetchone()
        if row is not None:
            return SqliteSandbox(db, key, codec.decode(row[0]), row[0])
        if not seed:
            return self.fresh()  # nothing stored yet: the fixtures, read from memory
        sandbox = SqliteSandbox(db, key, codec.empty())
        for cpr, jobagent_id, record in self.seed():
            sandbox.put_agent(cpr, jobagent_id, record)
        return sandbox

    def take_step(self, key: str, scenario_id: str, steps: int, repeat: bool) -> int | None:
        if waiting_forbidden():
            raise WouldWait(f"a step of {self.description} waits for its writers")
        # one statement: counted only while steps remain (or for ever, repeating the last)
        with self.reachable(), self._exclusive():
            row = (
                self._db()
                .execute(
                    "INSERT INTO step (sandbox, scenario, hits) VALUES (?, ?, 1) "
                    "ON CONFLICT (sandbox, scenario) DO UPDATE SET hits = hits + 1 "
                    "WHERE ? OR hits < ? RETURNING hits",
                    (key, scenario_id, repeat, steps),
                )
                .fetchone()
            )
        return None if row is None else min(row[0], steps) - 1

    def steps_taken(self, key: str) -> dict[str, int]:
        with self.reachable():
            rows = (
                self._db()
                .execute("SELECT scenario, hits FROM step WHERE sandbox = ?", (key,))
                .fetchall()
            )
        return dict(rows)

    # the proxy's drift report: a table of its own, made when first used (no sandbox: reset
    # leaves it, clear_drift empties it)
    DRIFT_SCHEMA = (
        "CREATE TABLE IF NOT EXISTS drift (operation TEXT, place TEXT, kind TEXT, value TEXT, "
        "detail TEXT, example TEXT, count INTEGER, first_seen TEXT, last_seen TEXT, "
        "PRIMARY KEY (operation, place, kind, value))"
    )

    def _drift_table(self) -> sqlite3.Connection:
        db = self._db()
        if not getattr(self._local, "drift_table", False):
            columns = {row[1] for row in db.execute("PRAGMA table_info(drift)")}
            if columns and "value" not in columns:  # an earlier version's lines: counted anew
                db.execute("DROP TABLE drift")
            db.execute(self.DRIFT_SCHEMA)
            self._local.drift_table = True
        return db

    def count_drift(self, seen: list[tuple[Departure, str]]) -> None:
        with self.reachable(), self._exclusive():
            db = self._drift_table()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO drift VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
                    "ON CONFLICT (operation, place, kind, value) DO UPDATE SET count = count + 1, "
                    "detail = excluded.detail, example = excluded.example, "
                    "last_seen = excluded.last_seen",
                    [(*d.key, d.detail, d.example, at, at) for d, at in seen],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def drift(self) -> list[dict[str, Any]]:
        with self.reachable():
            rows = (
                self._drift_table()
                .execute(
                    "SELECT operation, place, kind, detail, example, value, count, "
                    "first_seen, last_seen FROM drift"
                )
                .fetchall()
            )
        return [drift_row(Departure(*row[:6]), *row[6:]) for row in rows]

    def clear_drift(self) -> None:
        with self.reachable(), self._exclusive():
            self._drift_table().execute("DELETE FROM drift")
