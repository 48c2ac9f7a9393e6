"""Several workers on a shared store (SQLite, Redis) behave exactly like one process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobagent_mock.foundations import fixtures
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.foundations.errors import ReplayedRequest, RuleViolation, Unavailable
from jobagent_mock.rules import idempotency
from jobagent_mock.service import Caller, Mock
from jobagent_mock.stores import (
    EVERY_CITIZEN,
    CitizenSelector,
    DeclaredReads,
    NotAsked,
    WouldWait,
    forbid_waiting,
    open_store,
)
from tests.helpers import token_for
from tests.servers import (
    free_port,
    lock_waiters,
    mock_server,
    redis_server,
    start_mock,
    start_redis,
    stop,
    wait_until,
)

ORDINARY, OTHER = "1507851234", "2208921234"
NEWCOMER = "0101991234"  # a citizen with no job agent in the fixtures
SLOT = {
    "klientkategori": 2,
    "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
    "ledighedsgrad": 1,
    "bookingStartTime": "2026-11-26T09:00:00+01:00",
    "samtaleformType": 1,
    "moedetilbudId": "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60",
}


def test_every_store_keeps_the_same_rules(store_url: str) -> None:
    store = open_store(store_url, fixtures.load().jobagents)
    with store.transaction("a") as sandbox:
        idempotency.claim(sandbox, "r1")
        owner = sandbox.citizens()[0]
        removed = list(sandbox.agents_of(owner))
        assert removed and all(sandbox.owner_of(i) == owner for i in removed)
        for jobagent_id in removed:
            sandbox.remove_agent(owner, jobagent_id)
        assert all(sandbox.owner_of(i) is None for i in removed)
        sandbox.put_agent("0101991234", "new-id", {"titel": "new"})
        assert sandbox.owner_of("new-id") == "0101991234"
        assert sandbox.agent_of("0101991234", "new-id") == {"titel": "new"}  # before it is kept
        assert sandbox.agent_of(owner, removed[0]) is None
    with pytest.raises(RuleViolation), store.transaction("a") as sandbox:
        idempotency.claim(sandbox, "r2")  # a refusal keeps its claim
        raise RuleViolation(4338)
    with pytest.raises(ReplayedRequest), store.transaction("a") as sandbox:
        idempotency.claim(sandbox, "r2")
    with store.snapshot("a", citizen=EVERY_CITIZEN) as sandbox:
        assert sandbox.agents_of(owner) == {}
        assert sandbox.agents_of("0101991234") == {"new-id": {"titel": "new"}}
        assert sandbox.agent_of("0101991234", "new-id") == {"titel": "new"}
        assert sandbox.agent_of(owner, "new-id") is None  # another citizen's is not theirs
        assert sandbox.owner_of("new-id") == "0101991234" and sandbox.owner_of(removed[0]) is None
        assert "0101991234" in sandbox.citizens()
    with store.snapshot("b", citizen=owner) as other:
        assert other.agents_of(owner)  # another sandbox still has the fixtures
        assert other.agent_of(owner, removed[0]) == other.agents_of(owner)[removed[0]]
    for n in range(3):
        store.record("a", {"n": n})
    assert [e["n"] for e in store.journal("a")] == [2, 1, 0]
    # what JSON allows and orjson (or Redis's cjson) refuses, beside what both take
    odd = {"titel": "Ærø \ud800 \U0001f600", "big": 10**30}
    with store.transaction("a") as sandbox:
        sandbox.put_agent("0101991234", "odd-id", odd)
    with store.snapshot("a", citizen="0101991234") as sandbox:
        assert sandbox.agent_of("0101991234", "odd-id") == odd
    with store.transaction(
        "a", DeclaredReads(jobagent_id="odd-id")
    ) as sandbox:  # its owner, looked up
        assert sandbox.owner_of("odd-id") == "0101991234"
    store.record("a", odd)
    assert store.journal("a")[0] == odd
    store.reset("a")
    with store.snapshot("a", citizen=EVERY_CITIZEN) as sandbox:
        assert sandbox.agents_of(owner) and not sandbox.agents_of("0101991234")
    with store.transaction("a") as sandbox:
        idempotency.claim(sandbox, "r1")  # forgotten by the reset
    assert store.journal("a") == []


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.needs_redis)])
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "redis":
        with redis_server() as url, mock_server(url) as (base, _):
            yield base
    else:
        with mock_server(f"sqlite:{tmp_path / 'mock.db'}") as (base, _):
            yield base


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def session(base: str, sandbox: str = "shared") -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, headers={"x-mock-sandbox": sandbox})
    _OPEN.append(client)
    client.headers["Authorization"] = f"Bearer {token_for(client, 'star-jobnet')}"
    return client


def in_parallel(count: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


@pytest.mark.slow
def test_one_request_id_succeeds_once_across_workers(two_workers: str) -> None:
    client = session(two_workers)

    def create(index: int) -> int:
        return client.post(
            "/v1/Jobagent",
            headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": "raced"},
            json={"titel": f"t{index}", "soegeparametre": {}},
        ).status_code

    assert sorted(in_parallel(12, create)) == [201] + [412] * 11
    listed = client.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": ORDINARY})
    assert len(listed.json()["jobagenter"]) == 3


@pytest.mark.slow
def test_a_slot_is_booked_once_across_workers(two_workers: str) -> None:
    client = session(two_workers)
    client.put("/__admin/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    citizens = [f"0101{year:02d}1234" for year in range(70, 80)]  # all under 65

    def book(index: int) -> int:
        return client.post(
            "/v1/Tilmelding/TilmeldOgBook",
            json=SLOT,
            headers={
                "x-civilRegistrationIdentifier": citizens[index],
                "x-requestId": str(uuid.uuid4()),
            },
        ).status_code

    assert sorted(in_parallel(len(citizens), book)) == [201] + [409] * (len(citizens) - 1)


@pytest.mark.slow
def test_nothing_is_lost_by_concurrent_writes(two_workers: str) -> None:
    client = session(two_workers)

    def create(index: int) -> int:
        return client.post(
            "/v1/Jobagent",
            json={"titel": f"agent {index}", "soegeparametre": {}},
            headers={"x-civilRegistrationIdentifier": OTHER, "x-requestId": str(uuid.uuid4())},
        ).status_code

    assert in_parallel(12, create) == [201] * 12
    titles = [
        a["titel"]
        for a in client.get(
            "/v1/Jobagent", headers={"x-civilRegistrationIdentifier": OTHER}
        ).json()["jobagenter"]
    ]
    assert sorted(t for t in titles if t.startswith("agent ")) == sorted(
        f"agent {i}" for i in range(12)
    )
    journal = client.get("/__admin/requests", params={"operationId": "CreateJobagent"}).json()
    assert len(journal["requests"]) == 12


@pytest.mark.slow
def test_sandboxes_and_the_clock_hold_across_workers(two_workers: str) -> None:
    one, two = session(two_workers, "one"), session(two_workers, "two")
    one.put("/__admin/clock", json={"now": "2030-01-01T12:00:00+01:00"})
    clocks = in_parallel(8, lambda _: one.get("/__admin/clock").json()["now"])
    assert set(clocks) == {"2030-01-01T12:00:00+01:00"}
    assert two.get("/__admin/clock").json()["pinned"] is False
    one.post(
        "/v1/Jobagent",
        json={"titel": "kun i one", "soegeparametre": {}},
        headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": "a"},
    )
    seen = [
        a["titel"]
        for a in two.get(
            "/v1/Jobagent", headers={"x-civilRegistrationIdentifier": ORDINARY}
        ).json()["jobagenter"]
    ]
    assert "kun i one" not in seen


@pytest.mark.slow
def test_sqlite_keeps_what_was_written_before_a_kill(tmp_path: Path) -> None:
    store, port = f"sqlite:{tmp_path / 'mock.db'}", free_port()
    server = start_mock(store, 2, port)
    base = f"http://127.0.0.1:{port}"
    try:
        created = session(base).post(
            "/v1/Jobagent",
            json={"titel": "overlever", "soegeparametre": {}},
            headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": "before-kill"},
        )
        assert created.status_code == 201
    finally:
        stop(server, kill=True)
    server = start_mock(store, 2, port)
    try:
        client = session(base)
        titles = [
            a["titel"]
            for a in client.get(
                "/v1/Jobagent", headers={"x-civilRegistrationIdentifier": ORDINARY}
            ).json()["jobagenter"]
        ]
        assert "overlever" in titles
        replay = client.post(
            "/v1/Jobagent",
            json={"titel": "igen", "soegeparametre": {}},
            headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": "before-kill"},
        )
        assert replay.status_code == 412
    finally:
        stop(server)


def test_several_workers_on_the_memory_store_is_a_clear_error() -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [str(Path(sys.executable).parent / "jobagent-mock"), "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "shared store" in run.stderr


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.needs_redis)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "redis":
        with redis_server() as url:
            yield url
    else:
        yield f"sqlite:{tmp_path / 'mock.db'}"


def test_writers_of_separate_stores_lose_nothing_of_each_other(shared_url: str) -> None:
    """Four store objects, as four worker processes hold them, add to one list at once; a
    writer that did not wait for the others (SQLite) or run again after them (Redis) would lose
    their additions."""
    seed = fixtures.load().jobagents
    stores = [open_store(shared_url, seed) for _ in range(4)]

    def add(index: int) -> None:
        for round_ in range(10):
            stores[index].write(
                "shared",
                lambda sandbox, n=round_: sandbox.enrollments.setdefault(ORDINARY, []).append(
                    {"by": index, "n": n}
                ),
            )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add, range(4)))
    with stores[0].snapshot("shared") as sandbox:
        added = sandbox.enrollments[ORDINARY]
    assert sorted((e["by"], e["n"]) for e in added) == [(i, n) for i in range(4) for n in range(10)]


@pytest.mark.needs_redis
def test_a_redis_transaction_whose_sandbox_changed_meanwhile_keeps_nothing() -> None:
    """A transaction is one attempt (`write` runs its work again): what another writer kept
    while it ran is never overwritten, and none of the transaction's own writes is kept."""
    with redis_server() as url:
        store, other = (open_store(url, fixtures.load().jobagents) for _ in range(2))
        with pytest.raises(Unavailable, match="changed meanwhile"):
            with store.transaction("fenced") as sandbox:
                sandbox.enrollments[ORDINARY] = [{"late": True}]
                sandbox.put_agent(NEWCOMER, "late", {"titel": "late"})
                other.write("fenced", lambda s: s.enrollments.update({OTHER: [{"first": True}]}))
        with store.snapshot("fenced", citizen=NEWCOMER) as sandbox:
            assert ORDINARY not in sandbox.enrollments and sandbox.enrollments[OTHER]
            assert sandbox.agents_of(NEWCOMER) == {}


def test_every_store_journals_the_newest_500_newest_first(store_url: str) -> None:
    store = open_store(store_url, fixtures.load().jobagents)
    for n in range(600):
        store.record("journal", {"n": n})
    store.record("other", {"n": -1})
    assert [entry["n"] for entry in store.journal("journal")] == list(range(599, 99, -1))
    assert [entry["n"] for entry in store.journal("other")] == [-1]


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _workers(server: Any) -> list[int]:
    """The server's worker processes (multiprocessing also starts a resource tracker); a child
    gone, or dead and not yet reaped, by the time it is looked at (a killed worker) is none."""
    found = []
    for pid in _children(server.pid):
        cmdline = _cmdline(pid)  # empty for a killed worker not yet reaped
        if cmdline and b"resource_tracker" not in cmdline:
            found.append(pid)
    return found


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _tcp(port: int, state: str) -> set[str]:
    """The inodes of the sockets on local `port` in `state` (01: established)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(fields[9])
    return found


def _connections_by_worker(server: Any, port: int) -> dict[int, int]:
    """How many established connections to `port` each worker holds (from /proc)."""
    established = _tcp(port, "01")
    held = {}
    for pid in _workers(server):
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        held[pid] = sum(link[8:-1] in established for link in links if link.startswith("socket:"))
    return held


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
@pytest.mark.slow
def test_a_burst_of_connections_is_spread_over_the_workers(tmp_path: Path) -> None:
    """Connections opened at once, as wrk or a CI suite opens them, are served by every worker,
    not all by whichever woke first (uvicorn's shared socket gave one worker all 32)."""
    with mock_server(f"sqlite:{tmp_path / 'mock.db'}") as (base, server):
        port = int(base.rsplit(":", 1)[1])
        # at once, though the second worker may be starting still: its socket queues its share
        burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            for _ in range(100):  # bounded: until the workers have accepted them all
                held = _connections_by_worker(server, port)
                if sum(held.values()) == len(burst):
                    break
                time.sleep(0.1)
            assert sum(held.values()) == len(burst)
            assert len(held) == 2 and min(held.values()) >= 4, held
        finally:
            for connection in burst:
                connection.close()


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads Linux's /proc")
@pytest.mark.slow
def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    with mock_server(f"sqlite:{tmp_path / 'mock.db'}") as (base, server):
        first, second = _workers(server)
        os.kill(first, signal.SIGKILL)
        # two looks in a row agree: a child being spawned shows its parent's command line for a
        # moment, and the resource tracker's too
        seen: list[list[int]] = []
        for _ in range(100):  # bounded: 10 s
            seen = [*seen[-1:], sorted(_workers(server))]
            if len(seen) == 2 and seen[0] == seen[1] and len(seen[1]) == 2:
                break
            time.sleep(0.1)
        assert second in seen[-1] and first not in seen[-1] and len(seen[-1]) == 2, seen
        client = session(base)
        answers = [client.get("/__admin/health").status_code for _ in range(5)]
        assert answers == [200] * 5


def test_every_store_keeps_a_citizens_agents_in_the_order_they_came(store_url: str) -> None:
    store = open_store(store_url, fixtures.load().jobagents)
    with store.transaction("order") as sandbox:
        sandbox.put_agent("0101991234", "a", {"n": 1})
        sandbox.put_agent("0101991234", "b", {"n": 2})
    with store.transaction("order") as sandbox:
        sandbox.put_agent("0101991234", "a", {"n": 3})  # replaced: keeps its place
        sandbox.put_agent("0101991234", "c", {"n": 4})
        assert list(sandbox.agents_of("0101991234")) == ["a", "b", "c"]
    with store.snapshot("order", citizen="0101991234") as sandbox:
        agents = sandbox.agents_of("0101991234")
    assert list(agents.items()) == [("a", {"n": 3}), ("b", {"n": 2}), ("c", {"n": 4})]


def test_a_reset_waits_for_a_sqlite_write_under_way(tmp_path: Path) -> None:
    """A worker resets a sandbox while another is writing to it: the write lands first and the
    reset clears it, rather than the write bringing back what the reset cleared."""
    shared_url = f"sqlite:{tmp_path / 'mock.db'}"
    seed = fixtures.load().jobagents
    writer, resetter = open_store(shared_url, seed), open_store(shared_url, seed)
    inside, go_on = threading.Event(), threading.Event()

    def write() -> None:
        with writer.transaction("busy") as sandbox:
            inside.set()
            go_on.wait(10)
            sandbox.put_agent("0101991234", "late", {"titel": "late"})

    writing = threading.Thread(target=write)
    writing.start()
    inside.wait(10)
    resetting = threading.Thread(target=resetter.reset, args=("busy",))
    resetting.start()
    # the race itself: the reset waits for the lock the write holds
    wait_until(lambda: lock_waiters(shared_url) == 1, "the reset waits for the write")
    go_on.set()
    writing.join(10)
    resetting.join(10)
    with resetter.snapshot("busy", citizen="0101991234") as sandbox:
        assert sandbox.agents_of("0101991234") == {}


@pytest.mark.needs_redis
def test_a_redis_write_under_way_during_a_reset_runs_again_on_the_reset_sandbox() -> None:
    """A worker resets a sandbox while another is writing to it: nothing waits, and the write,
    read before the reset, cannot commit after it: it is run again on the fixtures, so nothing
    from before the reset comes back."""
    with redis_server() as url:
        writer, resetter = (open_store(url, fixtures.load().jobagents) for _ in range(2))
        writer.write("busy", lambda s: s.put_agent(NEWCOMER, "before", {"titel": "before"}))
        runs: list[set[str]] = []

        def work(sandbox: Any) -> None:
            runs.append(set(sandbox.agents_of(NEWCOMER)))
            if len(runs) == 1:
                resetter.reset("busy")  # between this write's read and its commit
            sandbox.put_agent(NEWCOMER, "late", {"titel": "late"})

        writer.write("busy", work)
        assert runs == [{"before"}, set()]
        with resetter.snapshot("busy", citizen=NEWCOMER) as sandbox:
            assert list(sandbox.agents_of(NEWCOMER)) == ["late"]


@pytest.mark.parametrize("citizen", [NEWCOMER, EVERY_CITIZEN])
def test_a_snapshot_reads_one_moment(shared_url: str, citizen: CitizenSelector) -> None:
    """A reader that looks twice sees the same sandbox, though a writer of another worker
    committed in between: a list and its details never come from two different states."""
    reader, writer = (open_store(shared_url, fixtures.load().jobagents) for _ in range(2))
    with writer.transaction("moment") as sandbox:
        sandbox.put_agent(NEWCOMER, "first", {"n": 1})
    with reader.snapshot("moment", citizen=citizen) as seen:
        with writer.transaction("moment") as sandbox:
            sandbox.put_agent(NEWCOMER, "second", {"n": 2})
            sandbox.enrollments[NEWCOMER] = [{"n": 2}]
        # taken before the write, read after it: none of it is seen
        assert seen.agents_of(NEWCOMER) == {"first": {"n": 1}}
        assert NEWCOMER not in seen.enrollments
        if citizen is EVERY_CITIZEN:
            assert seen.owner_of("second") is None
    with reader.snapshot("moment", citizen=citizen) as seen:
        assert list(seen.agents_of(NEWCOMER)) == ["first", "second"]


@pytest.mark.needs_redis
@pytest.mark.parametrize("citizen", [None, ORDINARY, EVERY_CITIZEN])
def test_a_redis_snapshot_is_one_round_trip(citizen: CitizenSelector, monkeypatch: Any) -> None:
    """The core and every row the reader asked for come in one reply; reading them sends
    nothing more (a later round trip could see a later write)."""
    with redis_server() as url:
        store = open_store(url, fixtures.load().jobagents)
        with store.transaction("trips") as sandbox:  # stored, not the fixtures from memory
            sandbox.put_agent(ORDINARY, "mine", {"titel": "mine"})
        with store.snapshot("trips"):  # the script is loaded once, on its first use
            pass
        sent = []
        connection_class = store.redis.connection_pool.connection_class
        send = connection_class.send_packed_command

        def counted(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(command)
            return send(self, command, *args, **kwargs)

        monkeypatch.setattr(connection_class, "send_packed_command", counted)
        with store.snapshot("trips", citizen=citizen) as seen:
            seen.clock.now()
            if citizen is not None:
                assert "mine" in seen.agents_of(ORDINARY)
            if citizen is EVERY_CITIZEN:
                assert ORDINARY in seen.citizens() and seen.owner_of("mine") == ORDINARY
                for other in seen.citizens():
                    seen.agents_of(other)
        assert len(sent) == 1


@pytest.mark.needs_redis
def test_a_redis_snapshot_refuses_a_read_it_was_not_opened_for() -> None:
    """A read beyond what the reader said up front is a bug, said loudly, not another round
    trip."""
    with redis_server() as url:
        store = open_store(url, fixtures.load().jobagents)
        for written in (False, True):  # the fixtures from memory, then rows from Redis
            with store.snapshot("asked", citizen=ORDINARY) as seen:
                assert seen.agents_of(ORDINARY)
                for read in (
                    lambda: seen.agents_of(OTHER),
                    lambda: seen.citizens(),
                    lambda: seen.owner_of("x"),
                    lambda: seen.put_agent(ORDINARY, "x", {}),
                ):
                    with pytest.raises(NotAsked):
                        read()
            with store.snapshot("asked") as seen, pytest.raises(NotAsked):
                seen.agents_of(ORDINARY)
            if not written:
                with store.transaction("asked") as sandbox:
                    sandbox.put_agent(OTHER, "x", {"titel": "x"})


def test_a_shared_store_keeps_nothing_of_a_write_that_failed_unexpectedly(shared_url: str) -> None:
    """A bug half way through an operation (not a refusal) leaves the sandbox as it was, and
    the sandbox is free again for the next writer."""
    store = open_store(shared_url, fixtures.load().jobagents)
    with pytest.raises(ZeroDivisionError), store.transaction("broken") as sandbox:
        sandbox.put_agent(NEWCOMER, "half", {"titel": "half"})
        idempotency.claim(sandbox, "r1")
        sandbox.enrollments[NEWCOMER] = [{"half": True}]
        _ = 1 / 0
    with store.transaction("broken") as sandbox:
        assert sandbox.agents_of(NEWCOMER) == {}
        assert NEWCOMER not in sandbox.enrollments
        idempotency.claim(sandbox, "r1")  # never claimed


def test_every_store_counts_outcomes_past_the_journal_until_reset(store_url: str) -> None:
    store = open_store(store_url, fixtures.load().jobagents)
    for n in range(3):
        store.count_outcome("counted", ("GetJobagent", 404, 4589), f"r{n}")
    store.count_outcome("counted", ("GetJobagent", 404, 4589), None)  # a GET sent none
    store.count_outcome("counted", ("GetJobagenter", 200, 0), None)
    store.count_outcome("other", ("GetJobagenter", 200, 0), "o")
    assert sorted(store.outcomes("counted"), key=lambda o: o["status"]) == [
        {
            "operationId": "GetJobagenter",
            "status": 200,
            "fejlkode": 0,
            "count": 1,
            "lastRequestId": None,
        },
        {
            "operationId": "GetJobagent",
            "status": 404,
            "fejlkode": 4589,
            "count": 4,
            "lastRequestId": "r2",
        },
    ]
    store.reset("counted")
    assert store.outcomes("counted") == []
    assert store.outcomes("other")[0]["count"] == 1


@pytest.mark.slow
def test_coverage_counts_every_worker_and_the_cli_fails_under(
    two_workers: str, tmp_path: Path
) -> None:
    from jobagent_mock import cli

    client = session(two_workers, "ci-coverage")
    unknown = "/v1/Jobagent/00000000-0000-4000-8000-00000000abcd"
    cpr = {"x-civilRegistrationIdentifier": ORDINARY}
    assert {client.get(unknown, headers=cpr).status_code for _ in range(20)} == {404}
    found = client.get("/__admin/coverage").json()
    operation = next(o for o in found["operations"] if o["operationId"] == "GetJobagent")
    counted = next(o for o in operation["outcomes"] if o["fejlkode"] == 4589)
    assert counted["count"] == 20  # whichever worker answered
    args = ["coverage", "--url", two_workers, "--sandbox", "ci-coverage", "--format", "junit"]
    report = tmp_path / "coverage.xml"
    assert cli.main([*args, "--output", str(report)]) == 0
    assert "404 fejlkode 4589: Unknown identifier" in report.read_text()
    assert cli.main([*args, "--output", str(report), "--fail-under", "80"]) == 1


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads Linux's /proc")
@pytest.mark.slow
def test_workers_exit_with_their_parent_and_a_restart_serves(tmp_path: Path) -> None:
    """After `kill -9` of `serve`, its workers stop within 2 s instead of serving on as orphans
    that hold the port; a new `serve` on the same port then starts and answers."""
    store, port = f"sqlite:{tmp_path / 'mock.db'}", free_port()
    server = start_mock(store, 2, port)
    orphans = _workers(server)
    assert len(orphans) == 2
    os.kill(server.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
    killed = time.monotonic()
    server.wait(timeout=10)
    stop(server)  # closes its pipe; the parent is gone, so its process group is left alone
    try:
        while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in orphans):
            assert time.monotonic() - killed < 5, "the workers outlived their parent"
            time.sleep(0.05)
    finally:  # never leave an orphan behind on this machine, whatever the outcome
        for pid in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    gone_after = time.monotonic() - killed
    restarted = start_mock(store, 2, port)
    try:
        client = session(f"http://127.0.0.1:{port}")
        assert client.get("/__admin/health").status_code == 200
    finally:
        stop(restarted)
    # the promise is 2 s; the bound above leaves room for a loaded CI machine
    assert gone_after < 2.5, f"the workers took {gone_after:.1f} s"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return False


@pytest.mark.needs_redis
@pytest.mark.slow
def test_a_stopped_redis_is_a_503_and_both_recover_when_it_returns() -> None:
    """Redis stopped: every call is a 503 problem with Retry-After (never a 500 that blames the
    mock), health says 503 and names the store; Redis started again: both answer again."""
    port = free_port()
    redis_process = start_redis(port)
    try:
        with mock_server(f"redis://127.0.0.1:{port}/0") as (base, _server):
            client = session(base)
            citizen = {"x-civilRegistrationIdentifier": ORDINARY}
            assert client.get("/v1/Jobagent", headers=citizen).status_code == 200
            redis_process.terminate()
            redis_process.wait(timeout=10)
            answers = [
                client.get("/v1/Jobagent", headers=citizen),
                client.post(
                    "/v1/Jobagent",
                    json={"titel": "under udfald", "soegeparametre": {}},
                    headers={**citizen, "x-requestId": "outage-1"},
                ),
                client.get("/__admin/requests"),
                client.put("/__admin/clock", json={"advanceSeconds": 60}),
            ]
            for answer in answers:
                assert answer.status_code == 503, answer.text
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert int(answer.headers["retry-after"]) > 0
                assert "redis" in answer.json()["detail"]
            health = client.get("/__admin/health")
            assert health.status_code == 503
            assert f"redis at 127.0.0.1:{port}" in health.json()["detail"]
            redis_process = start_redis(port)
            for _ in range(100):  # bounded: 10 s for every worker's connections to come back
                if client.get("/__admin/health").status_code == 200:
                    break
                time.sleep(0.1)
            assert client.get("/__admin/health").status_code == 200
            created = client.post(
                "/v1/Jobagent",
                json={"titel": "efter udfald", "soegeparametre": {}},
                headers={**citizen, "x-requestId": "outage-1"},
            )
            assert created.status_code == 201, created.text  # the refused request kept nothing
            assert client.get("/v1/Jobagent", headers=citizen).status_code == 200
    finally:
        redis_process.terminate()
        redis_process.wait(timeout=10)


WRITE_AND_FREEZE = """
import sys, time
from jobagent_mock.foundations import fixtures
from jobagent_mock.stores import open_store
store = open_store(sys.argv[1], fixtures.load().jobagents)

def work(sandbox):
    sandbox.enrollments["1507851234"] = [{"by": "the frozen worker"}]
    sandbox.put_agent("0101991234", "frozen", {"titel": "frozen"})
    print("inside", flush=True)
    time.sleep(600)

store.write("frozen", work)
"""


@pytest.mark.needs_redis
@pytest.mark.slow
def test_a_redis_writer_frozen_or_killed_mid_write_holds_up_nobody() -> None:
    """A worker stopped in the middle of a write (paused, then killed) holds nothing: another
    worker writes to that sandbox and to another meanwhile, no writer waits on any key, and the
    frozen write leaves nothing behind."""
    import subprocess
    import sys

    with redis_server() as url:
        frozen = subprocess.Popen(
            [sys.executable, "-c", WRITE_AND_FREEZE, url], stdout=subprocess.PIPE
        )
        try:
            assert frozen.stdout is not None and frozen.stdout.readline() == b"inside\n"
            frozen.send_signal(signal.SIGSTOP)
            store = open_store(url, fixtures.load().jobagents)
            for key in ("frozen", "quiet"):  # the frozen writer's sandbox, and another
                store.write(key, lambda s: s.enrollments.update({ORDINARY: [{"by": "another"}]}))
                with store.snapshot(key) as sandbox:
                    assert sandbox.enrollments[ORDINARY] == [{"by": "another"}]
            assert lock_waiters(url) == 0
            assert not list(store.redis.scan_iter(match="*lock*"))
        finally:
            frozen.kill()
            frozen.wait(timeout=10)
            if frozen.stdout is not None:
                frozen.stdout.close()
        with store.snapshot("frozen", citizen=NEWCOMER) as sandbox:
            assert sandbox.enrollments[ORDINARY] == [{"by": "another"}]
            assert "frozen" not in sandbox.agents_of(NEWCOMER)


@pytest.mark.needs_redis
def test_a_slow_redis_writer_runs_again_after_a_quicker_one() -> None:
    """Two writers of one sandbox (two workers): the slow one read before the quick one kept
    its write, so it is run again on what the quick one kept; neither write is lost, and the
    quick one never waited for the slow one."""
    with redis_server() as url:
        slow, quick = (open_store(url, fixtures.load().jobagents) for _ in range(2))
        seen: list[list[Any]] = []

        def slow_work(sandbox: Any) -> None:
            seen.append(list(sandbox.enrollments.get(ORDINARY, [])))
            if len(seen) == 1:  # the other writer comes and goes in the meantime
                quick.write(
                    "slow", lambda s: s.enrollments.setdefault(ORDINARY, []).append("quick")
                )
            sandbox.enrollments.setdefault(ORDINARY, []).append("slow")

        slow.write("slow", slow_work)
        assert seen == [[], ["quick"]]
        with quick.snapshot("slow") as sandbox:
            assert sandbox.enrollments[ORDINARY] == ["quick", "slow"]


@pytest.mark.needs_redis
def test_a_redis_write_that_never_gets_through_is_a_503() -> None:
    """A write that finds its sandbox changed every time it is about to commit gives up after a
    bounded number of tries: a 503 problem (Unavailable), nothing of it kept."""
    from jobagent_mock.stores import redis as redis_store

    with redis_server() as url:
        store, other = (open_store(url, fixtures.load().jobagents) for _ in range(2))
        runs = []

        def always_overtaken(sandbox: Any) -> None:
            runs.append(1)
            other.write("contended", lambda s: s.clock.advance(timedelta(seconds=1)))
            sandbox.enrollments[ORDINARY] = [{"never": True}]

        with pytest.raises(Unavailable, match="changed by other requests"):
            store.write("contended", always_overtaken)
        assert len(runs) == redis_store.WRITE_ATTEMPTS
        with store.snapshot("contended") as sandbox:
            assert ORDINARY not in sandbox.enrollments


def test_every_read_of_the_service_asks_its_snapshot_for_what_it_reads(store_url: str) -> None:
    """Each read operation names up front the rows it reads (Redis refuses any other), and
    finds a job agent written through another store object, as another worker writes it."""
    data = fixtures.load()
    mock = Mock(data, store=open_store(store_url, data.jobagents))
    shared = store_url != "memory"  # memory is one worker's: its writer is the same object
    other_worker = Mock(data, store=open_store(store_url, data.jobagents)) if shared else mock
    body = {
        "titel": "Lager",
        "jobagent": {
            "email": "Lager@Example.dk",
            "udsendelsesinterval": 1,
            "smsNotifikation": False,
        },
        "soegeparametre": {},
    }
    writer = Caller(sandbox="reads", cpr=NEWCOMER, request_id="w1")
    created = other_worker.create_jobagent(writer, body)
    reader = Caller(sandbox="reads", cpr=NEWCOMER)
    assert mock.get_jobagent(reader, created)["titel"] == "Lager"
    assert [a["jobagentIdentifier"] for a in mock.get_jobagenter(reader)["jobagenter"]] == [created]
    by_email = [Caller(sandbox="reads"), reader]
    for caller in by_email:
        found = mock.get_jobagenter_paa_email(caller, "lager@example.DK")["jobagenter"]
        assert [a["jobagentIdentifier"] for a in found] == [created]
    seeded = mock.get_jobagenter_paa_email(Caller(sandbox="reads"), "jens.eksempel@example.dk")
    assert len(seeded["jobagenter"]) == 1  # a fixture's agent, of another citizen
    assert mock.get_jobagenter_paa_email(
        Caller(sandbox="reads", cpr=OTHER), "lager@example.dk"
    ) == {"jobagenter": []}
    assert isinstance(mock.today("reads"), date) and mock.control.clock("reads")["now"]
    assert mock.open_slots("reads", SLOT["moedetilbudId"])
    mock.control.record("reads", {"operationId": None, "request": {}, "response": {}})


def test_what_a_write_says_up_front_it_looks_up_reads_as_any_other_lookup(store_url: str) -> None:
    """The x-requestId and the job agent a transaction names up front (Redis reads them with
    its lock) answer as they would unasked: a replay refused, an owner found, a write of this
    transaction seen, an id forgotten after 7 days of mock time."""
    store = open_store(store_url, fixtures.load().jobagents)
    with store.transaction("ahead", DeclaredReads("r1", "new")) as sandbox:
        assert sandbox.owner_of("new") is None
        idempotency.claim(sandbox, "r1")
        sandbox.put_agent(NEWCOMER, "new", {"titel": "new"})
        assert sandbox.owner_of("new") == NEWCOMER
    with (
        pytest.raises(ReplayedRequest),
        store.transaction("ahead", DeclaredReads("r1", "new")) as sandbox,
    ):
        assert sandbox.owner_of("new") == NEWCOMER
        idempotency.claim(sandbox, "r1")
    with store.transaction("ahead", DeclaredReads("r2")) as sandbox:
        idempotency.claim(sandbox, "r2")
        sandbox.clock.advance(idempotency.REQUEST_ID_RETENTION + timedelta(days=1))
    with store.transaction("ahead", DeclaredReads("r1")) as sandbox:
        idempotency.claim(sandbox, "r1")  # forgotten
    with store.transaction("ahead") as sandbox:  # the forgetting was kept: r2 is gone too
        assert sandbox.request_id_seen("r2", datetime(2000, 1, 1, tzinfo=DANISH_TIME)) is None


@pytest.mark.needs_redis
def test_a_redis_create_is_two_round_trips(monkeypatch: Any) -> None:
    """The state, the x-requestId and the new agent's owner in one round trip, the check and the
    writes in another: no lock, nothing else."""
    data = fixtures.load()
    with redis_server() as url:
        mock = Mock(data, store=open_store(url, data.jobagents))
        body = {"titel": "t", "soegeparametre": {}, "jobagentIdentifier": str(uuid.uuid4())}
        mock.create_jobagent(Caller(sandbox="trips", cpr=ORDINARY, request_id="w0"), body)
        sent = []
        connection_class = mock.store.redis.connection_pool.connection_class  # type: ignore[attr-defined]
        send = connection_class.send_packed_command

        def counted(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(command)
            return send(self, command, *args, **kwargs)

        monkeypatch.setattr(connection_class, "send_packed_command", counted)
        body["jobagentIdentifier"] = str(uuid.uuid4())
        mock.create_jobagent(Caller(sandbox="trips", cpr=ORDINARY, request_id="w1"), body)
        assert len(sent) == 2


@pytest.mark.needs_redis
def test_a_redis_write_in_the_loop_that_reads_beyond_what_it_said_reads_again_with_it() -> None:
    """In the event loop nothing may wait, so a write that reads what it did not say up front
    (here a citizen's whole list) stops, is read again with it, and runs again: the read, the
    read widened, the commit; then the committed result."""
    import asyncio

    with redis_server() as url:
        store, other = (open_store(url, fixtures.load().jobagents) for _ in range(2))
        other.write("wide", lambda s: s.put_agent(NEWCOMER, "a", {"n": 1}))
        runs: list[list[str]] = []

        def work(sandbox: Any) -> str:
            runs.append(list(sandbox.agents_of(NEWCOMER)))
            sandbox.put_agent(NEWCOMER, "b", {"n": 2})
            return "kept"

        async def in_the_loop() -> tuple[str, int]:
            done: dict[Any, Any] = {}
            steps = 0
            try:
                while True:
                    try:
                        with forbid_waiting(done):
                            return store.write("wide", work), steps
                    except WouldWait as would:
                        assert would.resume is not None
                        steps += 1
                        await would.resume()
            finally:
                await store.close_in_loop()  # type: ignore[attr-defined]

        assert asyncio.run(in_the_loop()) == ("kept", 3)
        assert runs == [["a"]]
        with store.snapshot("wide", citizen=NEWCOMER) as sandbox:
            assert list(sandbox.agents_of(NEWCOMER)) == ["a", "b"]


@pytest.mark.needs_redis
def test_a_redis_commit_whose_reply_is_lost_is_not_sent_again(monkeypatch: Any) -> None:
    """redis-py resends a command whose reply was lost when retries are on (`redis.Redis()`'s
    default, `retry_on_timeout`): a create's commit sent again would find its own x-requestId
    claimed and answer the client 412 for a request it never saw answered. Sent once, the client
    gets the store's 503 and tries again."""
    import redis

    from jobagent_mock.stores.base import StoreUnavailable

    data = fixtures.load()
    with redis_server() as url:
        mock = Mock(data, store=open_store(url, data.jobagents))
        body = {"titel": "t", "soegeparametre": {}}
        mock.create_jobagent(Caller(sandbox="lost", cpr=ORDINARY, request_id="r0"), body)
        connection_class = mock.store.redis.connection_pool.connection_class  # type: ignore[attr-defined]
        send, read = connection_class.send_packed_command, connection_class.read_response
        sent: list[Any] = []

        def counted(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(command)
            return send(self, command, *args, **kwargs)

        def lose_the_commits_reply(self: Any, *args: Any, **kwargs: Any) -> Any:
            reply = read(self, *args, **kwargs)
            if len(sent) == 2:  # the read, then the commit
                raise redis.TimeoutError("the reply was lost")
            return reply

        monkeypatch.setattr(connection_class, "send_packed_command", counted)
        monkeypatch.setattr(connection_class, "read_response", lose_the_commits_reply)
        with pytest.raises(StoreUnavailable):
            mock.create_jobagent(Caller(sandbox="lost", cpr=ORDINARY, request_id="r1"), body)
        assert len(sent) == 2
