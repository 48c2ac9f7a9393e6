"""Two mock instances, as two hosts, sharing one Redis and one signing key: a partner's clients
spread over them see one STAR (a token from either works on both, one x-requestId wins, a slot
is booked once, a reset is seen by both)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import token_for
from tests.integration.test_shared_stores import SLOT
from tests.servers import free_port, redis_server, start_mock, stop

pytestmark = [pytest.mark.needs_redis, pytest.mark.slow]

CITIZEN = "1507851234"
SANDBOX = "hosts"


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[httpx.Client]]:
    """Two separate `serve` processes (one worker each) on one Redis; the token comes from the
    first host and is used on both."""
    key = "several-hosts-signing-key-0123456789"
    with redis_server() as redis_url:
        servers = [
            (port, start_mock(redis_url, 1, port, key)) for port in (free_port(), free_port())
        ]
        clients = [
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=30,
                headers={"x-mock-sandbox": SANDBOX},
            )
            for port, _ in servers
        ]
        token = token_for(clients[0], "star-jobnet")
        for client in clients:
            client.headers["Authorization"] = f"Bearer {token}"
        try:
            yield clients
        finally:
            for client in clients:
                client.close()
            for _, server in servers:
                stop(server)


@pytest.fixture(autouse=True)
def _fresh_sandbox(hosts: list[httpx.Client]) -> None:
    assert hosts[0].post("/__admin/reset").status_code == 204


def alternately(hosts: list[httpx.Client], count: int, call: object) -> list[int]:
    """`call(client, index)` `count` times at once, the calls spread over both hosts."""
    pairs = list(zip(itertools.cycle(hosts), range(count), strict=False))
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda pair: call(*pair), pairs))  # type: ignore[operator]


def titles(client: httpx.Client, cpr: str = CITIZEN) -> list[str]:
    answer = client.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": cpr})
    assert answer.status_code == 200
    return [agent["titel"] for agent in answer.json()["jobagenter"]]


def test_a_token_issued_by_one_host_is_accepted_by_the_other(hosts: list[httpx.Client]) -> None:
    first, second = hosts
    from_second = {"Authorization": f"Bearer {token_for(second, 'star-jobnet')}"}
    answer = first.get(
        "/v1/Jobagent", headers={**from_second, "x-civilRegistrationIdentifier": CITIZEN}
    )
    assert answer.status_code == 200 and len(answer.json()["jobagenter"]) == 2


def test_one_request_id_wins_across_hosts(hosts: list[httpx.Client]) -> None:
    def create(client: httpx.Client, index: int) -> int:
        return client.post(
            "/v1/Jobagent",
            headers={"x-civilRegistrationIdentifier": CITIZEN, "x-requestId": "across-hosts"},
            json={"titel": f"forsøg {index}", "soegeparametre": {}},
        ).status_code

    assert sorted(alternately(hosts, 12, create)) == [201] + [412] * 11
    created = [titles(client) for client in hosts]
    assert created[0] == created[1]
    assert len([t for t in created[0] if t.startswith("forsøg")]) == 1


def test_a_slot_is_booked_once_across_hosts(hosts: list[httpx.Client]) -> None:
    hosts[0].put("/__admin/clock", json={"now": "2026-11-25T10:00:00+01:00"})
    citizens = [f"0101{year:02d}1234" for year in range(70, 80)]  # all under 65
    answers = alternately(
        hosts,
        len(citizens),
        lambda client, index: (
            client.post(
                "/v1/Tilmelding/TilmeldOgBook",
                json=SLOT,  # every citizen asks for the same slot
                headers={
                    "x-civilRegistrationIdentifier": citizens[index],
                    "x-requestId": str(uuid.uuid4()),
                },
            ).status_code
        ),
    )
    assert sorted(answers) == [201] + [409] * (len(citizens) - 1)


def test_a_reset_on_one_host_is_seen_by_the_other(hosts: list[httpx.Client]) -> None:
    first, second = hosts
    first.put("/__admin/clock", json={"now": "2030-01-01T12:00:00+01:00"})
    created = first.post(
        "/v1/Jobagent",
        headers={"x-civilRegistrationIdentifier": CITIZEN, "x-requestId": "before-reset"},
        json={"titel": "før nulstilling", "soegeparametre": {}},
    )
    assert created.status_code == 201
    assert "før nulstilling" in titles(second)
    assert second.get("/__admin/clock").json()["now"] == "2030-01-01T12:00:00+01:00"

    assert second.post("/__admin/reset").status_code == 204

    assert "før nulstilling" not in titles(first)
    assert first.get("/__admin/clock").json()["pinned"] is False
    journal = first.get("/__admin/requests").json()["requests"]
    assert [entry["operationId"] for entry in journal] == ["GetJobagenter"]  # just now, on first
    again = first.post(  # the reset forgot the x-requestId on every host
        "/v1/Jobagent",
        headers={"x-civilRegistrationIdentifier": CITIZEN, "x-requestId": "before-reset"},
        json={"titel": "efter nulstilling", "soegeparametre": {}},
    )
    assert again.status_code == 201
    assert titles(second)[-1] == "efter nulstilling"
