"""Scenarios on real servers: a step is consumed exactly once across two workers on SQLite and
on Redis, the retry story holds on every store, and a fault breaks exactly one request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import token_for
from tests.integration.test_tilmelding import enrollment
from tests.servers import mock_server, redis_server, stop, wait_until

ORDINARY = "1507851234"
pytestmark = pytest.mark.slow


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.needs_redis)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The mock as a partner runs it: one worker in memory, two on SQLite, two on Redis."""
    if request.param == "redis":
        with redis_server() as url, mock_server(url, workers=2) as (base, _):
            yield base
    elif request.param == "sqlite":
        with mock_server(f"sqlite:{tmp_path / 'mock.db'}", workers=2) as (base, _):
            yield base
    else:
        with mock_server("memory", workers=1) as (base, _):
            yield base


@contextmanager
def harness(base: str) -> Iterator[httpx.Client]:
    """A partner's test harness: a token of its own, a sandbox of its own."""
    with httpx.Client(base_url=base, timeout=30, headers={"x-mock-sandbox": "scripted"}) as client:
        client.headers["Authorization"] = f"Bearer {token_for(client, 'star-jobnet')}"
        yield client


def test_the_retry_story_on_every_store(served: str) -> None:
    with harness(served) as http:
        http.put("/__admin/clock", json={"now": "2026-11-25T10:00:00+01:00"}).raise_for_status()
        scenario = http.post(
            "/__admin/scenarios",
            json={
                "operationId": "CreateTilmelding",
                "match": {"cpr": ORDINARY},
                "respond": [{"fejlkode": 9147}, {"fejlkode": 9147}],
            },
        ).json()
        answers = [
            http.post(
                "/v1/Tilmelding",
                json=enrollment(),
                headers={"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": "retry-1"},
            )
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [503, 503, 201]
        assert [a.headers.get("Retry-After") for a in answers[:2]] == ["5", "5"]
        assert [a.json()["fejlkode"] for a in answers[:2]] == [9147, 9147]
        journal = http.get("/__admin/requests", params={"operationId": "CreateTilmelding"}).json()
        assert journal["count"] == 3
        named = [entry.get("scenario") for entry in journal["requests"]]
        assert named == [None, scenario["id"], scenario["id"]]


@pytest.mark.parametrize("operation", ["GetJobagenter", "CreateJobagent"])
def test_thirty_racing_requests_take_five_steps_exactly(served: str, operation: str) -> None:
    with harness(served) as http:
        steps = [{"status": 404}] * 5 if operation == "GetJobagenter" else [{"fejlkode": 4405}] * 5
        scenario = http.post(
            "/__admin/scenarios", json={"operationId": operation, "respond": steps}
        ).json()

        def call(n: int) -> int:
            headers = {"x-civilRegistrationIdentifier": ORDINARY, "x-requestId": f"race-{n}"}
            if operation == "GetJobagenter":
                return http.get("/v1/Jobagent", headers=headers).status_code
            body = {"titel": f"race {n}", "soegeparametre": {}}
            return http.post("/v1/Jobagent", json=body, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(call, range(30)))
        scripted = 404 if operation == "GetJobagenter" else 422
        normal = 200 if operation == "GetJobagenter" else 201
        assert sorted(statuses) == sorted([scripted] * 5 + [normal] * 25)
        shown = http.get(f"/__admin/scenarios/{scenario['id']}").json()
        assert (shown["hits"], shown["remaining"]) == (5, 0)
        journal = http.get("/__admin/requests", params={"scenario": scenario["id"]}).json()
        assert journal["count"] == 5


def _one_request(http: httpx.Client, **headers: str) -> Any:
    return http.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": ORDINARY, **headers})


@pytest.mark.parametrize("fault", ["reset", "empty", "malformed"])
def test_a_fault_breaks_exactly_one_request(fault: str) -> None:
    with mock_server("memory", workers=1) as (base, _), harness(base) as http:
        assert _one_request(http).status_code == 200  # a connection kept alive before it
        http.post(
            "/__admin/scenarios",
            json={"operationId": "GetJobagenter", "respond": [{"fault": fault}]},
        ).raise_for_status()
        with pytest.raises(httpx.TransportError):
            _one_request(http)
        assert _one_request(http).status_code == 200
        journal = http.get("/__admin/requests", params={"operationId": "GetJobagenter"}).json()
        assert [e["response"].get("fault") for e in journal["requests"]] == [None, fault, None]
        # and once more, asked for by a header on a single request
        with pytest.raises(httpx.TransportError):
            _one_request(http, Prefer=f"fault={fault}")
        assert _one_request(http).status_code == 200


def test_a_slow_answer_comes_whole() -> None:
    with mock_server("memory", workers=1) as (base, _), harness(base) as http:
        normal = _one_request(http)
        http.post(
            "/__admin/scenarios",
            json={
                "operationId": "GetJobagenter",
                "respond": [
                    {"fault": "slow", "latencyMs": 300},
                    {"fault": "slow", "status": 404, "latencyMs": 100},
                ],
            },
        ).raise_for_status()
        pieces = []
        with http.stream(
            "GET", "/v1/Jobagent", headers={"x-civilRegistrationIdentifier": ORDINARY}
        ) as slow:
            pieces = list(slow.iter_raw())
        assert slow.status_code == 200 and b"".join(pieces) == normal.content
        assert len(pieces) > 1  # dribbled, not sent at once
        scripted = _one_request(http)
        assert scripted.status_code == 404 and scripted.json()["fejlkode"] == 1010


def test_a_waiting_step_holds_up_nobody() -> None:
    """A request held by a latencyMs step (a minute) leaves the worker serving others, in its
    sandbox and outside it; no step is taken by them."""
    with mock_server("memory", workers=1) as (base, server), harness(base) as http:
        scenario = http.post(
            "/__admin/scenarios",
            json={
                "operationId": "GetJobagenter",
                "match": {"cpr": ORDINARY},
                "respond": [{"latencyMs": 60000, "status": 404}],
            },
        ).json()
        held: list[Any] = []
        waiting = threading.Thread(
            target=lambda: held.append(_held_request(base, http.headers)), daemon=True
        )
        waiting.start()
        wait_until(
            lambda: http.get(f"/__admin/scenarios/{scenario['id']}").json()["hits"] == 1,
            "the held request took its step",
        )
        other = http.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": "2208921234"})
        assert other.status_code == 200
        assert http.get("/__admin/health").status_code == 200
        assert waiting.is_alive() and not held  # still waiting its minute
        stop(server, kill=True)
        waiting.join(timeout=30)
        assert held and isinstance(held[0], httpx.TransportError)


def _held_request(base: str, headers: httpx.Headers) -> Any:
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            return client.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": ORDINARY})
    except httpx.TransportError as broken:
        return broken
