"""One busy sandbox never stalls another's writes: on Redis no write waits for a lock of any
sandbox, so a partner's CI run hammering its sandbox leaves another partner's writes alone."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.integration.test_shared_stores import _OPEN, OTHER, session
from tests.servers import mock_server, redis_server

pytestmark = [pytest.mark.needs_redis, pytest.mark.slow]


def test_a_hammered_sandbox_leaves_a_quiet_ones_writes_alone() -> None:
    """Two workers; six clients hammer sandbox `busy` with creates and clock changes (the clock
    is the sandbox's small parts, which every write reads: those writes meet and run again)
    while another client writes to `quiet`. Every write of both succeeds, and all the while no
    connection to Redis waits on anything (no lock, no blocking pop, no lock key)."""
    with redis_server() as url, mock_server(url) as (base, _):
        busy, quiet = session(base, "busy"), session(base, "quiet")
        watcher = redis.Redis.from_url(url)
        hammering = threading.Event()
        waits_seen: list[str] = []

        def create(client: object, tag: str) -> int:
            return client.post(  # type: ignore[attr-defined, no-any-return]
                "/v1/Jobagent",
                json={"titel": tag, "soegeparametre": {}},
                headers={"x-civilRegistrationIdentifier": OTHER, "x-requestId": str(uuid.uuid4())},
            ).status_code

        def hammer(index: int) -> list[int]:
            answers = []
            while hammering.is_set():
                if index % 3 == 0:
                    answer = busy.put("/__admin/clock", json={"advanceSeconds": 1}).status_code
                else:
                    answer = create(busy, f"busy {index}")
                answers.append(answer)
            return answers

        def watch() -> None:
            while hammering.is_set():
                waiting = [c["cmd"] for c in watcher.client_list() if c["cmd"].startswith("bl")]
                locks = [k.decode() for k in watcher.scan_iter(match="*:lock")]
                waits_seen.extend(waiting + locks)

        hammering.set()
        with ThreadPoolExecutor(7) as pool:
            hammers = [pool.submit(hammer, i) for i in range(6)]
            watching = pool.submit(watch)
            quiet_answers = [create(quiet, f"quiet {n}") for n in range(40)]
            hammering.clear()
            busy_answers = [a for h in hammers for a in h.result()]
            watching.result()
        assert quiet_answers == [201] * 40
        assert busy_answers and set(busy_answers) <= {200, 201}, sorted(set(busy_answers))
        assert waits_seen == []
        listed = quiet.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": OTHER})
        titles = [a["titel"] for a in listed.json()["jobagenter"]]
        assert [t for t in titles if t.startswith("quiet")] == [f"quiet {n}" for n in range(40)]
        created = busy.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": OTHER})
        busy_titles = [a["titel"] for a in created.json()["jobagenter"]]
        assert sum(t.startswith("busy") for t in busy_titles) == busy_answers.count(201)
        while _OPEN:
            _OPEN.pop().close()
