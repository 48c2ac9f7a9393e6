"""The Redis store, for several workers or hosts: a sandbox's lock taken with its state in one
round trip, a waiting writer woken by the release, and a transaction's writes sent with that
release, only while the lock is still held.

A sandbox's small parts are one JSON value (codec.py); job agents, request ids and the journal
are keys of their own, so a write costs the same however full a sandbox is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from jobagent_mock import jsontext
from jobagent_mock.clock import DANISH_TIME
from jobagent_mock.drift import Departure, drift_row
from jobagent_mock.stores import codec
from jobagent_mock.stores.base import (
    DEFAULT_SANDBOX,
    EVERY_CITIZEN,
    JOURNAL_SIZE,
    NOTHING_AHEAD,
    Ahead,
    Counted,
    Entry,
    NotAsked,
    Outcome,
    Rows,
    Sandbox,
    SeededStore,
    WouldWait,
    answered_ahead,
    outcome_row,
    waiting_forbidden,
)

# how long a writer waits for a sandbox's lock before the request is a 503
LOCK_TIMEOUT_SECONDS = 30
# A lock is a lease, renewed by its holder's process while held: a holder that dies (kill -9)
# frees the sandbox within LOCK_LEASE_MS, and the token checked on release still fences a holder
# that outlived its lease (a process paused longer than that) from writing.
LOCK_LEASE_MS = 2000
LEASE_RENEW_SECONDS = LOCK_LEASE_MS / 1000 / 4
# a writer waiting for a lock is woken by its release; it asks again at least this often, in
# case the holder died (its lease then runs out)
LOCK_WAKE_SECONDS = 0.05

# what a lock's script looked up: x-requestId -> its score, jobagentIdentifier -> its citizen
Read = tuple[dict[str, float | None], dict[str, str | None]] | None

CONNECT_TIMEOUT_SECONDS = 2
REPLY_TIMEOUT_SECONDS = 5

# Redis runs a script atomically: one round trip where commands would take several.
AGENTS_OF = """
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
if #ids == 0 then return {} end
return {ids, redis.call('HMGET', KEYS[2], unpack(ids))}
"""
# KEYS: core, citizens, agents; ARGV: key prefix, and the citizen whose job agents are read
# ('*': every citizen; none: no rows). The core and those rows as of one moment:
# {core, {{cpr, ids, records}, ...}}, ids in the order the agents came.
SNAPSHOT = """
local prefix, citizens = ARGV[1], {ARGV[2]}
if ARGV[2] == nil then citizens = {} elseif ARGV[2] == '*' then
  citizens = redis.call('SMEMBERS', KEYS[2])
end
local rows = {}
for _, cpr in ipairs(citizens) do
  local ids = redis.call('ZRANGE', prefix .. 'citizen:' .. cpr, 0, -1)
  local records = {}
  -- in slices: unpack() of thousands of ids would outgrow Lua's stack
  for first = 1, #ids, 500 do
    local slice = redis.call('HMGET', KEYS[3], unpack(ids, first, math.min(first + 499, #ids)))
    for _, record in ipairs(slice) do records[#records + 1] = record end
  end
  rows[#rows + 1] = {cpr, ids, records}
end
return {redis.call('GET', KEYS[1]), rows}
"""
# KEYS: lock, core, request ids, agents; ARGV: token, lease (ms), the x-requestId and the job
# agent the transaction will look up ('' for none). The lock, and with it the state and those
# lookups: {1, core, the id's score, the agent's citizen}; nothing when the lock is taken.
ACQUIRE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local seen, owner = false, false
if ARGV[3] ~= '' then seen = redis.call('ZSCORE', KEYS[3], ARGV[3]) end
if ARGV[4] ~= '' then
  local stored = redis.call('HGET', KEYS[4], ARGV[4])
  -- read, not decoded: cjson refuses text JSON allows (a lone surrogate's escape), and the
  -- record is written {"cpr":…} first (RedisSandbox.put_agent)
  if stored then owner = string.match(stored, '^{"cpr":%s*"([^"]*)"') or false end
end
return {1, redis.call('GET', KEYS[2]), seen, owner}
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
  elseif w[1] == 'forget' then
    redis.call('ZREMRANGEBYSCORE', prefix .. 'request-ids', '-inf', w[2])
  else
    redis.call('ZADD', prefix .. 'request-ids', w[3], w[2])
    redis.call('ZREMRANGEBYRANK', prefix .. 'request-ids', 0, -1 - tonumber(w[4]))
  end
end
redis.call('DEL', KEYS[1])
redis.call('RPUSH', KEYS[2], 1)
redis.call('LTRIM', KEYS[2], -1, -1)
return 1
"""


# KEYS: lock; ARGV: token, lease (ms). Extends the lease only while the lock is still ours.
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# KEYS: the sandbox's hits hash; ARGV: scenario id, its steps, '1' to repeat the last. Hits + 1
# unless used up: the new hits, or nothing when used up.
TAKE_STEP = """
local hits = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if hits >= tonumber(ARGV[2]) and ARGV[3] ~= '1' then return false end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
"""


class RedisSandbox(Sandbox):
    """A sandbox whose job agents and request ids live in Redis keys of its own.

    What a transaction writes waits in `writes` and goes to Redis with the release of its lock,
    in the same round trip; until then this sandbox's own reads see it (`_pending`).
    """

    def __init__(
        self,
        store: RedisStore,
        prefix: str,
        core: dict[str, Any],
        stored: bytes | None = None,
        read_ahead: Read = None,
    ) -> None:
        super().__init__(**core)
        self._store, self._redis, self._prefix = store, store.redis, prefix
        self.stored = stored  # the core as read: unchanged, it is not written again
        self.writes: list[list[str]] = []
        # jobagentIdentifier -> (cpr, record, or None once removed), in the order written
        self._pending: dict[str, tuple[str, dict[str, Any] | None]] = {}
        # what the lock's script looked up: x-requestId -> score, jobagentIdentifier -> owner
        self._seen, self._owners = read_ahead or ({}, {})

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

    def agent_of(self, cpr: str, jobagent_id: str) -> dict[str, Any] | None:
        return self.agents_of(cpr).get(jobagent_id)

    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:
        stored = jsontext.dumps({"cpr": cpr, "record": record})
        self.writes.append(["put", jobagent_id, cpr, stored])
        self._pending[jobagent_id] = (cpr, record)

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:
        self.writes.append(["remove", jobagent_id, cpr])
        self._pending[jobagent_id] = (cpr, None)

    def owner_of(self, jobagent_id: str) -> str | None:
        if jobagent_id in self._pending:
            owner, record = self._pending[jobagent_id]
            return None if record is None else owner
        if jobagent_id in self._owners:
            return self._owners[jobagent_id]
        found = self._redis.hget(f"{self._prefix}agents", jobagent_id)
        return None if found is None else str(json.loads(found)["cpr"])

    def citizens(self) -> list[str]:
        stored = {c.decode() for c in self._redis.smembers(f"{self._prefix}citizens")}
        return sorted(stored | {cpr for cpr, record in self._pending.values() if record})

    def request_id_seen(self, request_id: str, forget_before: datetime) -> datetime | None:
        if request_id in self._seen:  # read with the lock; the stale are forgotten on release
            seen, stale = self._seen[request_id], forget_before.timestamp()
            self.writes.append(["forget", repr(stale)])
            if seen is None or seen <= stale:
                return None
            return datetime.fromtimestamp(seen, DANISH_TIME)
        ids = f"{self._prefix}request-ids"
        pipe = self._redis.pipeline(transaction=False)
        pipe.zremrangebyscore(ids, "-inf", forget_before.timestamp())
        pipe.zscore(ids, request_id)
        _, seen = pipe.execute()
        return None if seen is None else datetime.fromtimestamp(seen, DANISH_TIME)

    def remember_request_id(self, request_id: str, at: datetime, keep: int) -> None:
        self.writes.append(["claim", request_id, repr(at.timestamp()), str(keep)])


def _record(stored: bytes) -> dict[str, Any]:
    return json.loads(stored)["record"]


class RedisSnapshot(Sandbox):
    """A sandbox as one script read it: its small parts and the job agents asked for. Nothing
    more is read: a read beyond them raises NotAsked, where another round trip could see a
    write made since."""

    def __init__(
        self,
        core: dict[str, Any],
        asked: Rows,
        rows: dict[str, dict[str, Any]],
        decode: Callable[[Any], dict[str, Any]],
    ) -> None:
        super().__init__(**core)
        self._asked, self._rows, self._decode = asked, rows, decode

    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        if self._asked is not EVERY_CITIZEN and cpr != self._asked:
            raise NotAsked(f"a snapshot for {self._asked!r} asked for another citizen's agents")
        return {i: self._decode(r) for i, r in self._rows.get(cpr, {}).items()}

    def agent_of(self, cpr: str, jobagent_id: str) -> dict[str, Any] | None:
        if self._asked is not EVERY_CITIZEN and cpr != self._asked:
            raise NotAsked(f"a snapshot for {self._asked!r} asked for another citizen's agent")
        row = self._rows.get(cpr, {}).get(jobagent_id)
        return None if row is None else self._decode(row)

    def owner_of(self, jobagent_id: str) -> str | None:
        self._every_citizen("owner_of")
        return next((cpr for cpr, rows in self._rows.items() if jobagent_id in rows), None)

    def citizens(self) -> list[str]:
        self._every_citizen("citizens")
        return sorted(self._rows)

    def _every_citizen(self, read: str) -> None:
        if self._asked is not EVERY_CITIZEN:
            raise NotAsked(f"{read}() reads every citizen; the snapshot was for {self._asked!r}")

    # Read-only: a write here would be lost, and x-requestIds are a writer's to read. The
    # arguments are the Sandbox's, unused (ARG002).
    def put_agent(self, cpr: str, jobagent_id: str, record: dict[str, Any]) -> None:  # noqa: ARG002
        raise NotAsked("put_agent() in a snapshot: write in a transaction")

    def remove_agent(self, cpr: str, jobagent_id: str) -> None:  # noqa: ARG002
        raise NotAsked("remove_agent() in a snapshot: write in a transaction")

    def request_id_seen(self, request_id: str, forget_before: datetime) -> datetime | None:  # noqa: ARG002
        raise NotAsked("request_id_seen() in a snapshot: claim in a transaction")

    def remember_request_id(self, request_id: str, at: datetime, keep: int) -> None:  # noqa: ARG002
        raise NotAsked("remember_request_id() in a snapshot: claim in a transaction")


class RedisStore(SeededStore):
    shared = True
    reads_ahead = True

    def __init__(self, url: str, seed_jobagents: list[dict[str, Any]]) -> None:
        try:
            import redis
        except ImportError:  # an extra: serving on one host never needs it
            raise ValueError(
                "the Redis store needs the redis extra: pip install 'jobagent-mock[redis]'"
            ) from None

        super().__init__(seed_jobagents)
        # a Redis that stops answering is an outage (503) after these, never a hung request
        self._url = url
        self._timeouts: dict[str, Any] = {
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": REPLY_TIMEOUT_SECONDS,
        }
        self.redis: Any = redis.Redis.from_url(url, **self._timeouts)
        self.outages = (redis.ConnectionError, redis.TimeoutError, TimeoutError)
        where = self.redis.connection_pool.connection_kwargs
        self.description = (
            f"redis at {where.get('host', where.get('path'))}:{where.get('port', '')}"
        )
        self.redis.ping()
        import redis.asyncio

        self._async_redis = redis.asyncio
        # an asyncio client is bound to its loop: one per loop (a worker has one)
        self._async_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.agents_of = self.redis.register_script(AGENTS_OF)
        self._snapshot = self.redis.register_script(SNAPSHOT)
        self._take = self.redis.register_script(ACQUIRE)
        self._release = self.redis.register_script(RELEASE)
        self._renew = self.redis.register_script(RENEW)
        self._take_step = self.redis.register_script(TAKE_STEP)
        # writers of this process queue here, so only one per process waits on the Redis lock
        self._writer = threading.Lock()
        self._tokens = threading.local()
        # the lock this process holds, (key, token), for the renewer; one at most (_writer)
        self._holding: tuple[str, str] | None = None
        threading.Thread(target=self._renew_leases, name="redis-lease", daemon=True).start()

    @staticmethod
    def _prefix(key: str) -> str:
        # sandbox keys hold no ':' (client ids and x-mock-sandbox names exclude it)
        return f"jobagent-mock:{key}:"

    @staticmethod
    def _lock(key: str) -> list[str]:
        prefix = RedisStore._prefix(key)
        return [f"{prefix}lock", f"{prefix}wake"]

    @contextmanager
    def _held(self, key: str, ahead: Ahead = NOTHING_AHEAD) -> Iterator[Sandbox]:
        prefix = self._prefix(key)
        with self._writer:
            raw, read_ahead = self._acquire(key, ahead)
            try:
                sandbox = self._sandbox(prefix, raw, read_ahead)
            except BaseException:
                self._holding = None  # unrenewed, the lease frees the sandbox
                raise
            yield sandbox

    def _keep(self, key: str, sandbox: Sandbox) -> None:
        assert isinstance(sandbox, RedisSandbox)
        state = codec.encode(sandbox)
        self._release_with(key, b"" if state == sandbox.stored else state, sandbox.writes)

    def _drop(self, key: str) -> None:
        self._release_with(key, b"", [])

    def _release_with(self, key: str, state: bytes, writes: list[list[str]]) -> None:
        """Release the lock, writing the new state ('' unchanged) and the pending writes, all
        only if the lock is still ours."""
        self._holding = None
        args = [self._tokens.token, self._prefix(key), state, json.dumps(writes)]
        if not self._release(keys=self._lock(key), args=args):
            raise RuntimeError(f"the lock of sandbox {key} expired while held")

    def _acquire(self, key: str, ahead: Ahead = NOTHING_AHEAD) -> tuple[bytes | None, Read]:
        """Take the sandbox's lock and read its state, and what the transaction said it will
        look up, in one round trip; a waiting writer sleeps in BLPOP until a release wakes it."""
        lock, wake = self._lock(key)
        prefix = self._prefix(key)
        keys = [lock, f"{prefix}core", f"{prefix}request-ids", f"{prefix}agents"]
        token = self._tokens.token = secrets.token_hex(8)
        args: list[str | int] = [
            token,
            LOCK_LEASE_MS,
            ahead.request_id or "",
            ahead.jobagent_id or "",
        ]
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            taken = self._take(keys=keys, args=args)
            if taken:
                self._holding = (lock, token)
                _, raw, seen, owner = taken
                seen_ahead: dict[str, float | None] = {}
                owners: dict[str, str | None] = {}
                if ahead.request_id:
                    seen_ahead[ahead.request_id] = float(seen) if seen else None
                if ahead.jobagent_id:
                    owners[ahead.jobagent_id] = owner.decode() if owner else None
                return raw, (seen_ahead, owners)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no lock on {lock} within {LOCK_TIMEOUT_SECONDS} s")
            self.redis.blpop([wake], timeout=LOCK_WAKE_SECONDS)

    def _ping(self) -> None:
        self.redis.ping()

    def _renew_leases(self) -> None:
        """In the background, for the life of the process: keep the lease of a lock held."""
        while True:
            time.sleep(LEASE_RENEW_SECONDS)
            holding = self._holding
            if holding is not None:
                with contextlib.suppress(*self.outages):  # the holder will meet the outage
                    self._renew(keys=[holding[0]], args=[holding[1], LOCK_LEASE_MS])

    @contextmanager
    def snapshot(self, key: str = DEFAULT_SANDBOX, citizen: Rows = None) -> Iterator[Sandbox]:
        # one script: the core and the rows asked for, of one moment, in one round trip
        if waiting_forbidden():
            ahead = answered_ahead(key, citizen)
            if ahead is None:
                raise WouldWait(f"a read of {self.description} is a round trip", (key, citizen))
            yield ahead
            return
        keys, args = self._snapshot_of(key, citizen)
        with self.reachable():
            raw, found = self._snapshot(keys=keys, args=args)
        yield self._snapshot_from(raw, found, citizen)

    async def read_ahead(self, key: str, citizen: Rows) -> Sandbox:
        # the same script, through an asyncio client of the running loop's own
        loop = asyncio.get_running_loop()
        script = self._async_scripts.get(loop)
        if script is None:
            client = self._async_redis.Redis.from_url(self._url, **self._timeouts)
            script = self._async_scripts[loop] = client.register_script(SNAPSHOT)
        keys, args = self._snapshot_of(key, citizen)
        with self.reachable():
            raw, found = await script(keys=keys, args=args)
        return self._snapshot_from(raw, found, citizen)

    def _snapshot_of(self, key: str, citizen: Rows) -> tuple[list[str], list[str]]:
        prefix = self._prefix(key)
        which = [] if citizen is None else ["*" if citizen is EVERY_CITIZEN else str(citizen)]
        return [f"{prefix}core", f"{prefix}citizens", f"{prefix}agents"], [prefix, *which]

    def _snapshot_from(self, raw: bytes | None, found: list[Any], citizen: Rows) -> Sandbox:
        if raw is None:  # nobody has written to it (nor to its rows): the fixtures
            return RedisSnapshot(codec.empty(), citizen, self._fresh_agents[0], json.loads)
        rows = {
            cpr.decode(): {i.decode(): r for i, r in zip(ids, records, strict=True) if r}
            for cpr, ids, records in found
        }
        return RedisSnapshot(codec.decode(raw), citizen, rows, _record)

    def reset(self, key: str | None = None) -> None:
        with self.reachable():
            self._reset(key)

    def _reset(self, key: str | None) -> None:
        if key is None:  # every sandbox: no lock to take for all of them at once
            self._delete("jobagent-mock:*")
            return
        # one sandbox: under its lock, so a write under way cannot bring its state back
        with self._writer:
            self._acquire(key)
            try:
                self._delete(f"{self._prefix(key)}*")
            except BaseException:
                self._holding = None  # unrenewed, the lease frees the sandbox
                raise
            self._release_with(key, b"", [])

    def _delete(self, pattern: str) -> None:
        names = [n for n in self.redis.scan_iter(match=pattern) if not n.endswith(b":lock")]
        if names:
            self.redis.delete(*names)

    def record(self, key: str, entry: dict[str, Any]) -> None:
        self.record_all([(key, entry)], [])

    def record_all(self, entries: list[Entry], outcomes: list[Counted]) -> None:
        pipe = self.redis.pipeline()  # one round trip, applied at once (MULTI)
        for key, entry in entries:
            pipe.lpush(f"{self._prefix(key)}journal", jsontext.dumps(entry))
        for key in {key for key, _ in entries}:
            pipe.ltrim(f"{self._prefix(key)}journal", 0, JOURNAL_SIZE - 1)
        for key, outcome, request_id in outcomes:
            # two hashes keyed by the outcome: its count and the last x-requestId
            name = json.dumps(outcome)
            pipe.hincrby(f"{self._prefix(key)}outcome-count", name, 1)
            if request_id:
                pipe.hset(f"{self._prefix(key)}outcome-last", name, request_id)
        with self.reachable():
            pipe.execute()

    def journal(self, key: str) -> list[dict[str, Any]]:
        with self.reachable():
            entries = self.redis.lrange(f"{self._prefix(key)}journal", 0, -1)
        return [json.loads(e) for e in entries]

    def clear_journal(self, key: str) -> None:
        with self.reachable():
            self.redis.delete(f"{self._prefix(key)}journal")

    def count_outcome(self, key: str, outcome: Outcome, request_id: str | None) -> None:
        self.record_all([], [(key, outcome, request_id)])

    def outcomes(self, key: str) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline()
        pipe.hgetall(f"{self._prefix(key)}outcome-count")
        pipe.hgetall(f"{self._prefix(key)}outcome-last")
        with self.reachable():
            counts, lasts = pipe.execute()
        found = []
        for name, count in counts.items():
            operation_id, status, fejlkode = json.loads(name)
            last = lasts.get(name)
            outcome = (operation_id, status, fejlkode)
            found.append(outcome_row(outcome, int(count), last.decode() if last else None))
        return found

    def _sandbox(self, prefix: str, raw: bytes | None, read_ahead: Read = None) -> Sandbox:
        if raw is not None:
            return RedisSandbox(self, prefix, codec.decode(raw), raw, read_ahead)
        sandbox = RedisSandbox(self, prefix, codec.empty(), read_ahead=read_ahead)
        for cpr, jobagent_id, record in self.seed():
            sandbox.put_agent(cpr, jobagent_id, record)
        return sandbox

    def take_step(self, key: str, scenario_id: str, steps: int, repeat: bool) -> int | None:
        if waiting_forbidden():
            raise WouldWait(f"a step of {self.description} is a round trip")
        args: list[str | int] = [scenario_id, steps, "1" if repeat else "0"]
        with self.reachable():
            hits = self._take_step(keys=[f"{self._prefix(key)}steps"], args=args)
        return None if hits is None else min(int(hits), steps) - 1

    def steps_taken(self, key: str) -> dict[str, int]:
        with self.reachable():
            found = self.redis.hgetall(f"{self._prefix(key)}steps")
        return {scenario.decode(): int(hits) for scenario, hits in found.items()}

    # the proxy's drift report: four hashes keyed by the line's (operation, place, kind, value),
    # apart from every sandbox's keys (a reset leaves them; clear_drift empties them)
    DRIFT = "jobagent-mock-drift:"

    def count_drift(self, seen: list[tuple[Departure, str]]) -> None:
        pipe = self.redis.pipeline()  # one round trip, applied at once (MULTI)
        for departure, at in seen:
            name = json.dumps(departure.key)
            pipe.hincrby(f"{self.DRIFT}count", name, 1)
            pipe.hsetnx(f"{self.DRIFT}first", name, at)
            pipe.hset(f"{self.DRIFT}last", name, at)
            pipe.hset(f"{self.DRIFT}seen", name, json.dumps([departure.detail, departure.example]))
        with self.reachable():
            pipe.execute()

    def drift(self) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline()
        for part in ("count", "first", "last", "seen"):
            pipe.hgetall(f"{self.DRIFT}{part}")
        with self.reachable():
            counts, firsts, lasts, seen = pipe.execute()
        lines = []
        for name, count in counts.items():
            detail, example = json.loads(seen.get(name, b'["", ""]'))
            operation, place, kind, value = json.loads(name)
            departure = Departure(operation, place, kind, detail, example, value)
            first, last = (part.get(name, b"").decode() for part in (firsts, lasts))
            lines.append(drift_row(departure, int(count), first, last))
        return lines

    def clear_drift(self) -> None:
        with self.reachable():
            self.redis.delete(
                *(f"{self.DRIFT}{part}" for part in ("count", "first", "last", "seen"))
            )
