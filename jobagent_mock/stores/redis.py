"""The Redis store, for several workers or hosts, without locks: a write reads what it needs with
the sandbox's version in one script, runs its rules, and commits with another, which writes only
if nothing it read has changed since; otherwise the write is read and run again.

A sandbox's small parts are one JSON value (codec.py); job agents, request ids and the journal
are keys of their own, so a write costs the same however full a sandbox is.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic

from jobagent_mock.foundations import jsontext
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import Fejl, Unavailable
from jobagent_mock.journal.drift import Departure, drift_row
from jobagent_mock.stores import codec
from jobagent_mock.stores.base import (
    DEFAULT_SANDBOX,
    EVERY_CITIZEN,
    JOURNAL_SIZE,
    NO_DECLARED_READS,
    CitizenSelector,
    Counted,
    DeclaredReads,
    Entry,
    NotAsked,
    Outcome,
    Result,
    Sandbox,
    SeededStore,
    Work,
    WouldWait,
    done_ahead,
    outcome_row,
    prefetched_snapshot,
    waiting_forbidden,
)
from jobagent_mock.stores.sandboxes import Caps, Refusal, client_of

# A write that finds what it read changed by another is read and run again, at most this often
# (then a 503), after a short random pause that grows with each try, so writers that keep
# meeting spread out.
WRITE_ATTEMPTS = 50
CONFLICT_PAUSE_SECONDS = 0.002
# a write in the event loop that reads beyond what it said up front is read again with it, at
# most this often (each time it asks for more; past that, a bug in the reader)
WIDENINGS = 8

CONNECT_TIMEOUT_SECONDS = 2
REPLY_TIMEOUT_SECONDS = 5

# Redis runs a script atomically: one round trip where commands would take several.
ROWS_OF = """
local function rows_of(prefix, cpr)
  local ids = redis.call('ZRANGE', prefix .. 'citizen:' .. cpr, 0, -1)
  local records = {}
  -- in slices: unpack() of thousands of ids would outgrow Lua's stack
  for first = 1, #ids, 500 do
    local last = math.min(first + 499, #ids)
    local slice = redis.call('HMGET', prefix .. 'agents', unpack(ids, first, last))
    for _, record in ipairs(slice) do records[#records + 1] = record end
  end
  return {cpr, ids, records}
end
"""
# KEYS: core, citizens; ARGV: key prefix, and the citizen whose job agents are read ('*': every
# citizen; none: no rows). The core and those rows as of one moment: {core, {{cpr, ids,
# records}, ...}}, ids in the order the agents came.
SNAPSHOT = (
    ROWS_OF
    + """
local citizens = {ARGV[2]}
if ARGV[2] == nil then citizens = {} elseif ARGV[2] == '*' then
  citizens = redis.call('SMEMBERS', KEYS[2])
end
local rows = {}
for _, cpr in ipairs(citizens) do rows[#rows + 1] = rows_of(ARGV[1], cpr) end
return {redis.call('GET', KEYS[1]), rows}
"""
)
# What a write reads, as of one moment. ARGV: key prefix, then three lists, each its length and
# its items: x-requestIds, job agents, citizens ('*': which citizens there are). {version, core,
# the ids' scores, the agents' records, {{cpr, ids, records}, ...}, the rows' versions}.
READ = (
    ROWS_OF
    + """
local prefix, at = ARGV[1], 2
local function list()
  local items = {}
  for k = 1, tonumber(ARGV[at]) do items[k] = ARGV[at + k] end
  at = at + #items + 1
  return items
end
local ids, agents, citizens = list(), list(), list()
local scores, records, rows, versions = {}, {}, {}, {}
for k, id in ipairs(ids) do scores[k] = redis.call('ZSCORE', prefix .. 'request-ids', id) end
for k, id in ipairs(agents) do records[k] = redis.call('HGET', prefix .. 'agents', id) end
for k, cpr in ipairs(citizens) do
  versions[k] = redis.call('HGET', prefix .. 'rows', cpr)
  if cpr == '*' then
    rows[k] = {cpr, redis.call('SMEMBERS', prefix .. 'citizens'), {}}
  else
    rows[k] = rows_of(prefix, cpr)
  end
end
local core = redis.call('GET', prefix .. 'core')
return {redis.call('GET', prefix .. 'version'), core, scores, records, rows, versions}
"""
)
# ARGV: key prefix, the version read, what the write read (JSON: x-requestIds and their scores,
# job agents and their records' SHA-1, citizens ('*': which there are) and their rows' versions;
# '' for none), the new core ('' unchanged) and the writes (JSON). Writes and returns 1 only if
# none of it changed since it was read (every write reads the core, which the version covers,
# and a reset bumps it); else writes nothing and returns 0. A new agent's place comes from the
# order counter.
COMMIT = """
local prefix = ARGV[1]
if tonumber(redis.call('GET', prefix .. 'version') or '0') ~= tonumber(ARGV[2]) then return 0 end
local read = cjson.decode(ARGV[3])
for _, r in ipairs(read[1]) do
  local score = redis.call('ZSCORE', prefix .. 'request-ids', r[1])
  if (score and tonumber(score)) ~= (r[2] ~= '' and tonumber(r[2])) then return 0 end
end
for _, a in ipairs(read[2]) do
  local stored = redis.call('HGET', prefix .. 'agents', a[1])
  if (stored and redis.sha1hex(stored) or '') ~= a[2] then return 0 end
end
for _, c in ipairs(read[3]) do
  if tonumber(redis.call('HGET', prefix .. 'rows', c[1]) or '0') ~= c[2] then return 0 end
end
for _, w in ipairs(cjson.decode(ARGV[5])) do
  if w[1] == 'put' or w[1] == 'remove' then
    if w[1] == 'put' then
      local order = redis.call('INCR', prefix .. 'order')
      redis.call('HSET', prefix .. 'agents', w[2], w[4])
      redis.call('ZADD', prefix .. 'citizen:' .. w[3], 'NX', order, w[2])
      redis.call('SADD', prefix .. 'citizens', w[3])
    else
      redis.call('HDEL', prefix .. 'agents', w[2])
      redis.call('ZREM', prefix .. 'citizen:' .. w[3], w[2])
    end
    redis.call('HINCRBY', prefix .. 'rows', w[3], 1)
    redis.call('HINCRBY', prefix .. 'rows', '*', 1)
  elseif w[1] == 'forget' then
    redis.call('ZREMRANGEBYSCORE', prefix .. 'request-ids', '-inf', w[2])
  else
    redis.call('ZADD', prefix .. 'request-ids', w[3], w[2])
    redis.call('ZREMRANGEBYRANK', prefix .. 'request-ids', 0, -1 - tonumber(w[4]))
  end
end
if ARGV[4] ~= '' then
  redis.call('SET', prefix .. 'core', ARGV[4])
  redis.call('INCR', prefix .. 'version')
end
return 1
"""
# ARGV: a pattern of the keys to delete (one sandbox's or every sandbox's), and the sandbox's
# version key ('' for every sandbox). A version is bumped, never deleted: a write that read
# before the reset cannot commit after it.
RESET = """
for _, name in ipairs(redis.call('KEYS', ARGV[1])) do
  if string.sub(name, -8) == ':version' then
    if name ~= ARGV[2] then redis.call('INCR', name) end
  else
    redis.call('DEL', name)
  end
end
if ARGV[2] ~= '' then redis.call('INCR', ARGV[2]) end
return 1
"""
# KEYS: the sandbox's hits hash; ARGV: scenario id, its steps, '1' to repeat the last. Hits + 1
# unless used up: the new hits, or nothing when used up.
TAKE_STEP = """
local hits = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if hits >= tonumber(ARGV[2]) and ARGV[3] ~= '1' then return false end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
"""


@dataclass(frozen=True)
class _Wanted:
    """What a write reads with its snapshot: what it said up front (DeclaredReads), and what it was
    found to read beyond that."""

    request_ids: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    citizens: frozenset[str] = frozenset()  # CPRs; '*' for which citizens there are

    @classmethod
    def of(cls, reads: DeclaredReads) -> _Wanted:
        citizen = reads.citizen
        rows = () if citizen is None else ("*" if citizen is EVERY_CITIZEN else str(citizen),)
        return cls(
            frozenset(() if reads.request_id is None else (reads.request_id,)),
            frozenset(() if reads.jobagent_id is None else (reads.jobagent_id,)),
            frozenset(rows),
        )

    def __or__(self, other: _Wanted) -> _Wanted:
        return _Wanted(
            self.request_ids | other.request_ids,
            self.agents | other.agents,
            self.citizens | other.citizens,
        )

    def lists(self) -> tuple[list[str], list[str], list[str]]:
        return sorted(self.request_ids), sorted(self.agents), sorted(self.citizens)


@dataclass
class _Read:
    """A reply of READ: the sandbox's version and core, and what was asked for."""

    version: int
    core: bytes | None
    scores: dict[str, float | None] = field(default_factory=dict)
    records: dict[str, bytes | None] = field(default_factory=dict)
    # cpr -> (the version of their rows, jobagentIdentifier -> stored record)
    rows: dict[str, tuple[int, dict[str, bytes]]] = field(default_factory=dict)
    citizens: tuple[int, set[str]] | None = None  # which citizens there are, and its version

    @classmethod
    def of(cls, wanted: _Wanted, reply: list[Any]) -> _Read:
        version, core, scores, records, rows, versions = reply
        ids, agents, _ = wanted.lists()
        read = cls(
            int(version or 0),
            core,
            {i: None if s is None else float(s) for i, s in zip(ids, scores, strict=True)},
            dict(zip(agents, records, strict=True)),
        )
        for (cpr, found, stored), row_version in zip(rows, versions, strict=True):
            if cpr == b"*":
                read.citizens = (int(row_version or 0), {c.decode() for c in found})
            else:
                by_id = {i.decode(): r for i, r in zip(found, stored, strict=True) if r}
                read.rows[cpr.decode()] = (int(row_version or 0), by_id)
        return read

    def add(self, more: _Read) -> None:
        """What a later read found, beside this one's (the commit checks both are unchanged)."""
        self.scores |= more.scores
        self.records |= more.records
        self.rows |= more.rows
        self.citizens = more.citizens or self.citizens


class _ReadBeyond(Exception):
    """A write in the event loop read beyond its snapshot: read again with `wanted`, run again."""

    def __init__(self, wanted: _Wanted) -> None:
        super().__init__("a read beyond the snapshot")
        self.wanted = wanted


@dataclass
class _Outcome(Generic[Result]):
    """What a write's work came to: its result, or its refusal (kept like a success)."""

    value: Result | None = None
    refusal: Fejl | None = None

    @classmethod
    def of(cls, work: Work[Result], sandbox: Sandbox) -> _Outcome[Result]:
        try:
            return cls(work(sandbox))
        except Fejl as refusal:
            return cls(refusal=refusal)

    def result(self) -> Result:
        if self.refusal is not None:
            raise self.refusal
        return self.value  # type: ignore[return-value]


@dataclass(frozen=True)
class _WriteOf:
    """Where a write in the event loop keeps its progress between the handler's calls."""

    key: str


@dataclass
class _LoopWrite:
    wanted: _Wanted
    read: _Read | None = None
    outcome: _Outcome[Any] | None = None
    attempts: int = 0
    widenings: int = 0


class RedisSandbox(Sandbox):
    """A sandbox as a write reads it: its small parts and what it asked for, read with the
    sandbox's version. What it writes waits in `writes` (its own reads see it, `_pending`), and
    what it read is noted (`read_back`), for the commit to check unchanged.

    `lazy`: a read beyond what was read is another round trip (the commit checks it too); else
    (in the event loop, where nothing may wait) it raises _ReadBeyond.
    """

    def __init__(self, store: RedisStore, key: str, read: _Read, lazy: bool) -> None:
        super().__init__(**(codec.empty() if read.core is None else codec.decode(read.core)))
        self._store, self._key, self._read, self._lazy = store, key, read, lazy
        self.stored = read.core  # the core as read: unchanged, it is not written again
        self.writes: list[list[str]] = []
        # jobagentIdentifier -> (cpr, record, or None once removed), in the order written
        self._pending: dict[str, tuple[str, dict[str, Any] | None]] = {}
        self._claimed: dict[str, float] = {}
        # what the work read: x-requestId -> score; jobagentIdentifier -> its record's SHA-1
        # ('' none); cpr ('*': which citizens there are) -> their rows' version
        self.read_scores: dict[str, float | None] = {}
        self.read_agents: dict[str, str] = {}
        self.read_rows: dict[str, int] = {}
        if read.core is None:  # nobody has written to it: the fixtures, with its first commit
            for cpr, jobagent_id, record in store.seed():
                self.put_agent(cpr, jobagent_id, record)
        self._seeded = len(self.writes)

    # what was read, noted for the commit's check
    def _more(self, wanted: _Wanted) -> None:
        if not self._lazy:
            raise _ReadBeyond(wanted)
        self._read.add(self._store.read(self._key, wanted))

    def _score(self, request_id: str) -> float | None:
        if request_id not in self._read.scores:
            self._more(_Wanted(request_ids=frozenset((request_id,))))
        score = self.read_scores[request_id] = self._read.scores[request_id]
        return score

    def _stored(self, jobagent_id: str) -> bytes | None:
        if jobagent_id not in self._read.records:
            self._more(_Wanted(agents=frozenset((jobagent_id,))))
        stored = self._read.records[jobagent_id]
        self.read_agents[jobagent_id] = "" if stored is None else hashlib.sha1(stored).hexdigest()
        return stored

    def _rows(self, cpr: str) -> dict[str, bytes]:
        if cpr not in self._read.rows:
            self._more(_Wanted(citizens=frozenset((cpr,))))
        self.read_rows[cpr], rows = self._read.rows[cpr]
        return rows

    # the Sandbox
    def agents_of(self, cpr: str) -> dict[str, dict[str, Any]]:
        agents = {i: _record(r) for i, r in self._rows(cpr).items()}
        for jobagent_id, (owner, record) in self._pending.items():
            if owner == cpr and record is None:
                agents.pop(jobagent_id, None)
            elif owner == cpr and record is not None:
                agents[jobagent_id] = record  # a replaced agent keeps its place
        return agents

    def agent_of(self, cpr: str, jobagent_id: str) -> dict[str, Any] | None:
        if jobagent_id in self._pending:
            owner, record = self._pending[jobagent_id]
            return record if owner == cpr else None
        if cpr in self._read.rows:
            return self.agents_of(cpr).get(jobagent_id)
        stored = self._stored(jobagent_id)
        found = None if stored is None else json.loads(stored)
        return found["record"] if found is not None and found["cpr"] == cpr else None

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
        stored = self._stored(jobagent_id)
        return None if stored is None else str(json.loads(stored)["cpr"])

    def citizens(self) -> list[str]:
        if self._read.citizens is None:
            self._more(_Wanted(citizens=frozenset(("*",))))
        assert self._read.citizens is not None
        self.read_rows["*"], stored = self._read.citizens
        return sorted(stored | {cpr for cpr, record in self._pending.values() if record})

    def request_id_seen(self, request_id: str, forget_before: datetime) -> datetime | None:
        stale = forget_before.timestamp()
        self.writes.append(["forget", repr(stale)])  # the stale are forgotten with the commit
        seen = self._claimed.get(request_id)
        if seen is None:
            seen = self._score(request_id)
        return None if seen is None or seen <= stale else datetime.fromtimestamp(seen, DANISH_TIME)

    def remember_request_id(self, request_id: str, at: datetime, keep: int) -> None:
        self.writes.append(["claim", request_id, repr(at.timestamp()), str(keep)])
        self._claimed[request_id] = at.timestamp()

    # the commit
    def commit_args(self, prefix: str) -> list[Any] | None:
        """The COMMIT script's arguments; None when the work wrote nothing."""
        state = codec.encode(self)
        core = b"" if state == self.stored else state
        written = [w for w in self.writes[self._seeded :] if w[0] != "forget"]
        if not written and state == (_UNWRITTEN if self.stored is None else self.stored):
            return None  # forgetting stale ids waits for a write
        read = [
            [[i, "" if s is None else repr(s)] for i, s in self.read_scores.items()],
            [[i, digest] for i, digest in self.read_agents.items()],
            [[cpr, version] for cpr, version in self.read_rows.items()],
        ]
        return [prefix, self._read.version, json.dumps(read), core, json.dumps(self.writes)]


_UNWRITTEN = codec.encode(Sandbox())


def _record(stored: bytes) -> dict[str, Any]:
    return json.loads(stored)["record"]


def _pause(attempt: int) -> float:
    return random.uniform(0, CONFLICT_PAUSE_SECONDS * min(attempt + 1, 10))


class RedisSnapshot(Sandbox):
    """A sandbox as one script read it: its small parts and the job agents asked for. Nothing
    more is read: a read beyond them raises NotAsked, where another round trip could see a
    write made since."""

    def __init__(
        self,
        core: dict[str, Any],
        asked: CitizenSelector,
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


@dataclass
class _Scripts:
    """The scripts as one client runs them (the synchronous one, or an asyncio one of a loop)."""

    client: Any
    snapshot: Any
    read: Any
    commit: Any

    @classmethod
    def of(cls, client: Any) -> _Scripts:
        return cls(client, *(client.register_script(s) for s in (SNAPSHOT, READ, COMMIT)))


class RedisStore(SeededStore):
    shared = True
    reads_ahead = True
    writes_in_loop = True

    def __init__(self, url: str, seed_jobagents: list[dict[str, Any]]) -> None:
        try:
            import redis
        except ImportError:  # an extra: serving on one host never needs it
            raise ValueError(
                "the Redis store needs the redis extra: pip install 'jobagent-mock[redis]'"
            ) from None
        import redis.asyncio
        from redis.asyncio.retry import Retry as AsyncRetry
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        super().__init__(seed_jobagents)
        # A Redis that stops answering is an outage (503) after these, never a hung request.
        # No automatic retries, whatever redis-py's default: a commit applied whose reply was
        # lost would be sent again (its x-requestId then refused as a replay of itself); the
        # client retries the 503 instead.
        self._url = url
        self._options: dict[str, Any] = {
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": REPLY_TIMEOUT_SECONDS,
        }
        self.redis: Any = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **self._options)
        self._async_retry = AsyncRetry(NoBackoff(), 0)
        self.outages = (redis.ConnectionError, redis.TimeoutError, TimeoutError)
        where = self.redis.connection_pool.connection_kwargs
        self.description = (
            f"redis at {where.get('host', where.get('path'))}:{where.get('port', '')}"
        )
        self.redis.ping()
        self._async_redis = redis.asyncio
        # an asyncio client is bound to its loop: one per loop (a worker has one)
        self._async_scripts: weakref.WeakKeyDictionary[Any, _Scripts] = weakref.WeakKeyDictionary()
        self._scripts = _Scripts.of(self.redis)
        self._reset = self.redis.register_script(RESET)
        self._take_step = self.redis.register_script(TAKE_STEP)

    @staticmethod
    def _prefix(key: str) -> str:
        # sandbox keys hold no ':' (client ids and x-mock-sandbox names exclude it)
        return f"jobagent-mock:{key}:"

    def _in_loop(self) -> _Scripts:
        loop = asyncio.get_running_loop()
        scripts = self._async_scripts.get(loop)
        if scripts is None:
            client = self._async_redis.Redis.from_url(
                self._url, retry=self._async_retry, **self._options
            )
            scripts = self._async_scripts[loop] = _Scripts.of(client)
        return scripts

    async def close_in_loop(self) -> None:
        """Close the running loop's asyncio client (a loop that ends before the process)."""
        scripts = self._async_scripts.pop(asyncio.get_running_loop(), None)
        if scripts is not None:
            await scripts.client.aclose()

    # a write: read, run, commit if nothing read has changed, else again
    def write(
        self, key: str, work: Work[Result], reads: DeclaredReads = NO_DECLARED_READS
    ) -> Result:
        if waiting_forbidden():
            return self._write_in_loop(key, work, reads)
        wanted = _Wanted.of(reads)
        with self.reachable():
            for attempt in range(WRITE_ATTEMPTS):
                sandbox = RedisSandbox(self, key, self.read(key, wanted), lazy=True)
                outcome = _Outcome.of(work, sandbox)
                args = sandbox.commit_args(self._prefix(key))
                if args is None or self._scripts.commit(args=args):
                    return outcome.result()
                time.sleep(_pause(attempt))
        raise self._contended(key)

    def _write_in_loop(self, key: str, work: Work[Result], reads: DeclaredReads) -> Result:
        """The write as the event loop makes it: each step that would wait (the read, the
        commit) is a WouldWait whose `resume` the caller awaits before it calls again; this
        write's progress is kept in the call's `done_ahead()` between the calls."""
        progress = done_ahead()
        write = progress.get(_WriteOf(key))
        if write is None:
            write = progress[_WriteOf(key)] = _LoopWrite(_Wanted.of(reads))
        if write.outcome is not None:  # committed: the same answer again
            return write.outcome.result()
        if write.read is None:
            raise WouldWait(
                "a write reads first", resume=functools.partial(self._read_in_loop, key, write)
            )
        sandbox = RedisSandbox(self, key, write.read, lazy=False)
        try:
            outcome = _Outcome.of(work, sandbox)
        except _ReadBeyond as beyond:
            write.widenings += 1
            if write.widenings > WIDENINGS:
                raise NotAsked(f"a write to {key} kept reading beyond what it read") from None
            write.wanted, write.read = write.wanted | beyond.wanted, None
            raise WouldWait(
                "a write read beyond its snapshot",
                resume=functools.partial(self._read_in_loop, key, write),
            ) from None
        args = sandbox.commit_args(self._prefix(key))
        if args is None:
            return outcome.result()
        raise WouldWait(
            "a write commits",
            resume=functools.partial(self._commit_in_loop, key, write, args, outcome),
        )

    async def _read_in_loop(self, key: str, write: _LoopWrite) -> None:
        with self.reachable():
            reply = await self._in_loop().read(args=self._read_args(key, write.wanted))
        write.read = _Read.of(write.wanted, reply)

    async def _commit_in_loop(
        self, key: str, write: _LoopWrite, args: list[Any], outcome: _Outcome[Any]
    ) -> None:
        with self.reachable():
            committed = await self._in_loop().commit(args=args)
        if committed:
            write.outcome = outcome
            return
        write.read, write.attempts = None, write.attempts + 1
        if write.attempts >= WRITE_ATTEMPTS:
            raise self._contended(key)
        await asyncio.sleep(_pause(write.attempts))

    def read(self, key: str, wanted: _Wanted) -> _Read:
        """What a write reads, with the sandbox's version, in one round trip."""
        return _Read.of(wanted, self._scripts.read(args=self._read_args(key, wanted)))

    def _read_args(self, key: str, wanted: _Wanted) -> list[str | int]:
        args: list[str | int] = [self._prefix(key)]
        for items in wanted.lists():
            args += [len(items), *items]
        return args

    def _contended(self, key: str) -> Unavailable:
        return Unavailable(
            None,
            f"Sandbox {key} was changed by other requests each of the {WRITE_ATTEMPTS} times "
            "this request was about to be kept. Try again.",
        )

    # a transaction: one attempt (tests and tools); a write made meanwhile is a 503
    @contextmanager
    def _exclusive_sandbox(
        self, key: str, reads: DeclaredReads = NO_DECLARED_READS
    ) -> Iterator[Sandbox]:
        yield RedisSandbox(self, key, self.read(key, _Wanted.of(reads)), lazy=True)

    def _keep_changes(self, key: str, sandbox: Sandbox) -> None:
        assert isinstance(sandbox, RedisSandbox)
        args = sandbox.commit_args(self._prefix(key))
        if args is not None and not self._scripts.commit(args=args):
            raise Unavailable(
                None, f"Sandbox {key} was changed meanwhile: nothing of this transaction kept."
            )

    def _discard_changes(self, key: str) -> None:
        """Nothing was written: a write's writes leave with its commit."""

    def _ping(self) -> None:
        self.redis.ping()

    @contextmanager
    def snapshot(
        self, key: str = DEFAULT_SANDBOX, citizen: CitizenSelector = None
    ) -> Iterator[Sandbox]:
        # one script: the core and the rows asked for, of one moment, in one round trip
        if waiting_forbidden():
            prefetched = prefetched_snapshot(key, citizen)
            if prefetched is None:
                raise WouldWait(f"a read of {self.description} is a round trip", (key, citizen))
            yield prefetched
            return
        keys, args = self._snapshot_of(key, citizen)
        with self.reachable():
            raw, found = self._scripts.snapshot(keys=keys, args=args)
        yield self._snapshot_from(raw, found, citizen)

    async def read_ahead(self, key: str, citizen: CitizenSelector) -> Sandbox:
        # the same script, through an asyncio client of the running loop's own
        keys, args = self._snapshot_of(key, citizen)
        with self.reachable():
            raw, found = await self._in_loop().snapshot(keys=keys, args=args)
        return self._snapshot_from(raw, found, citizen)

    def _snapshot_of(self, key: str, citizen: CitizenSelector) -> tuple[list[str], list[str]]:
        prefix = self._prefix(key)
        which = [] if citizen is None else ["*" if citizen is EVERY_CITIZEN else str(citizen)]
        return [f"{prefix}core", f"{prefix}citizens"], [prefix, *which]

    def _snapshot_from(
        self, raw: bytes | None, found: list[Any], citizen: CitizenSelector
    ) -> Sandbox:
        if raw is None:  # nobody has written to it (nor to its rows): the fixtures
            return RedisSnapshot(codec.empty(), citizen, self._fresh_agents[0], json.loads)
        rows = {
            cpr.decode(): {i.decode(): r for i, r in zip(ids, records, strict=True) if r}
            for cpr, ids, records in found
        }
        return RedisSnapshot(codec.decode(raw), citizen, rows, _record)

    def reset(self, key: str | None = None) -> None:
        with self.reachable():
            if key is None:
                self._reset(args=["jobagent-mock:*", ""])
            else:
                prefix = self._prefix(key)
                self._reset(args=[_glob_escaped(prefix) + "*", f"{prefix}version"])

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

    # admissions (sandboxes.py): a sorted set of every admitted sandbox and one of each client's,
    # scored by last use; outside every sandbox's keys, so a reset of one sandbox keeps them
    @functools.cached_property
    def _admit(self) -> Any:
        return self.redis.register_script(ADMIT)

    def admit(self, key: str, client: str, now: float, caps: Caps) -> Refusal:
        keys = [ADMITTED, f"{ADMITTED}:{client}"]
        with self.reachable():
            for _ in range(ADMIT_ATTEMPTS):
                answer = self._admit(
                    keys=keys, args=[key, now, caps.idle_ttl, caps.per_client, caps.total]
                )
                if answer[0] == b"ok":
                    return None
                if answer[0] != b"idle":
                    return "per client" if answer[0] == b"per client" else "in all"
                for idle in answer[1:]:  # freed as a reset frees it, then asked again
                    sandbox = idle.decode()
                    self.reset(sandbox)
                    self.redis.zrem(ADMITTED, sandbox)
                    self.redis.zrem(f"{ADMITTED}:{client_of(sandbox)}", sandbox)
        return "in all"  # idle sandboxes kept coming back: as full

    def is_admitted(self, key: str) -> bool:
        with self.reachable():
            return self.redis.zscore(ADMITTED, key) is not None

    def release(self, key: str | None) -> None:
        with self.reachable():
            if key is None:
                names = list(self.redis.scan_iter(match=f"{ADMITTED}*"))
                if names:
                    self.redis.delete(*names)
                return
            pipe = self.redis.pipeline()
            pipe.zrem(ADMITTED, key)
            pipe.zrem(f"{ADMITTED}:{client_of(key)}", key)
            pipe.execute()


ADMITTED = "jobagent-mock:~admitted"
ADMIT_ATTEMPTS = 5
# KEYS: every admitted sandbox, the client's; ARGV: key, now, idle TTL, cap per client, cap in
# all. 'ok' (admitted, or its use noted), 'per client' / 'in all' (a cap met), or 'idle' and the
# sandboxes idle past the TTL, which the caller frees before it asks again.
ADMIT = """
local key, now = ARGV[1], tonumber(ARGV[2])
if redis.call('ZSCORE', KEYS[1], key) then
  redis.call('ZADD', KEYS[1], now, key)
  redis.call('ZADD', KEYS[2], now, key)
  return {'ok'}
end
local idle = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[3])))
if #idle > 0 then return {'idle', unpack(idle)} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return {'per client'} end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return {'in all'} end
redis.call('ZADD', KEYS[1], now, key)
redis.call('ZADD', KEYS[2], now, key)
return {'ok'}
"""


def _glob_escaped(text: str) -> str:
    """`text` matched literally by KEYS's pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
