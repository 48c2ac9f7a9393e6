"""Several workers read their own writes: an answered request is in the journal and coverage any
worker serves next, a reset answered 2xx is final, and a store that pauses mid-burst loses no
answered request's entry without health counting it."""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.helpers import token_for
from tests.integration import test_shared_stores
from tests.servers import free_port, mock_server, start_redis

ORDINARY = "1507851234"
ALTERNATIONS = 500
two_workers = test_shared_stores.two_workers  # the fixture: two workers on SQLite, on Redis


def fresh_connections(base: str, token: str | None = None) -> httpx.Client:
    """A client that opens a new connection for every request: the kernel spreads them over
    the workers (SO_REUSEPORT), so consecutive requests meet different workers."""
    client = httpx.Client(
        base_url=base,
        timeout=30,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"x-mock-sandbox": "ryw"},
    )
    client.headers["Authorization"] = f"Bearer {token or token_for(client, 'star-jobnet')}"
    return client


def request_id_of(entry: dict[str, Any]) -> str | None:
    headers = {name.lower(): value for name, value in entry["request"]["headers"].items()}
    return headers.get("x-requestid")


def created_in_coverage(coverage: dict[str, Any]) -> tuple[int, str | None]:
    operation = next(o for o in coverage["operations"] if o["operationId"] == "CreateJobagent")
    created = next(o for o in operation["outcomes"] if o["status"] == 201)
    return created["count"], created["lastRequestId"]


@pytest.mark.slow
def test_each_answer_is_read_by_the_next_worker_and_a_reset_is_final(two_workers: str) -> None:
    poster = fresh_connections(two_workers)
    token = poster.headers["Authorization"].removeprefix("Bearer ")
    reader, resetter = (fresh_connections(two_workers, token) for _ in range(2))
    misses, resurrected, uncounted = [], [], []
    try:
        for n in range(ALTERNATIONS):
            request_id = f"ryw-{n}"  # no run of digits the journal would mask
            created = poster.post(
                "/v1/Jobagent",
                json={"titel": f"agent {n}", "soegeparametre": {}},
                headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": request_id},
            )
            assert created.status_code == 201, created.text
            journal = reader.get("/__admin/requests").json()["requests"]
            ids = [request_id_of(entry) for entry in journal]
            if request_id not in ids:
                misses.append(n)
            if any(i != request_id for i in ids):
                resurrected.append((n, ids))
            if created_in_coverage(reader.get("/__admin/coverage").json()) != (1, request_id):
                uncounted.append(n)
            assert resetter.post("/__admin/reset").status_code == 204
    finally:
        for client in (poster, reader, resetter):
            client.close()
    assert misses == [] and resurrected == [] and uncounted == []


@pytest.mark.needs_redis
@pytest.mark.slow
def test_a_redis_pause_mid_burst_loses_no_entry_uncounted() -> None:
    """Redis paused (SIGSTOP) for longer than a reply may take while 16 clients create job
    agents, then resumed: every 201 is in the journal, or health counts what was dropped."""
    port = free_port()
    redis_process = start_redis(port)
    try:
        with mock_server(f"redis://127.0.0.1:{port}/0") as (base, _server):
            client = fresh_connections(base)
            answers: list[tuple[str, int]] = []
            paused = threading.Event()

            def create(n: int) -> None:
                if n == 40:  # mid-burst
                    os.kill(redis_process.pid, signal.SIGSTOP)
                    paused.set()
                    threading.Timer(6.0, os.kill, (redis_process.pid, signal.SIGCONT)).start()
                request_id = f"pause-{n}"
                answer = client.post(
                    "/v1/Jobagent",
                    json={"titel": f"agent {n}", "soegeparametre": {}},
                    headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": request_id},
                )
                answers.append((request_id, answer.status_code))

            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(create, range(160)))
            assert paused.is_set()
            journal = client.get("/__admin/requests").json()["requests"]
            health = client.get("/__admin/health").json()
            client.close()
    finally:
        os.kill(redis_process.pid, signal.SIGCONT)
        redis_process.terminate()
        redis_process.wait(timeout=10)
    journaled = {request_id_of(entry) for entry in journal}
    answered = [request_id for request_id, status in answers if 200 <= status < 300]
    missing = [request_id for request_id in answered if request_id not in journaled]
    assert answered, "some requests went through"
    assert len(missing) <= health["journalDropped"], (missing, health)
