"""Sandboxes are made only by an authorized request of their own client, within a cap per client
and one in all, never by a refused request or a read, and never dropped for another client's
sake; on every store."""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from tests.helpers import ORDINARY, ContractClient, problem, sandboxed, token_for
from tests.servers import free_port, redis_server, start_mock, stop

NEW_AGENT = {"titel": "Lager", "soegeparametre": {}}


def app_with(store_url: str, **caps: Any) -> Any:
    return create_app(store=store_url, **caps)


def created_agent(client: ContractClient) -> str:
    identifier = str(uuid.uuid4())
    answer = client.post("/v1/Jobagent", json={**NEW_AGENT, "jobagentIdentifier": identifier})
    assert answer.status_code == 201, answer.text
    return identifier


def test_refused_requests_evict_nobody(store_url: str) -> None:
    """The issue's repro: 25 requests with a bad token and new sandbox names, and 25 of another
    client past its cap, at --max-sandboxes 20; the partner's job agent stays."""
    app = app_with(store_url, max_sandboxes=20, max_sandboxes_per_client=10)
    partner = sandboxed(ContractClient(app, "star-jobnet"), "mine")
    identifier = created_agent(partner)
    http = TestClient(app)
    for n in range(25):
        answer = http.get(
            "/v1/Jobagent",
            headers={
                "Authorization": "Bearer nonsense",
                "x-mock-sandbox": f"attack-{n}",
                "x-civilRegistrationIdentifier": ORDINARY,
            },
        )
        assert answer.status_code == 401
    forbidden = ContractClient(app, "jobcenter-aarhus")  # a valid token, an organisation STAR's
    for n in range(25):  # operations refuse: 403
        assert sandboxed(forbidden, f"theirs-{n}").get("/v1/Jobagent").status_code == 403
    other = ContractClient(app, "star-readonly")
    statuses = [sandboxed(other, f"theirs-{n}").get("/v1/Jobagent").status_code for n in range(25)]
    assert statuses == [200] * 10 + [429] * 15
    assert partner.get(f"/v1/Jobagent/{identifier}").status_code == 200
    journal = partner.get("/__admin/requests").json()["requests"]
    assert journal[0]["response"]["status"] == 200  # and none of the refused ones


def test_a_refusal_and_a_read_create_no_sandbox(store_url: str) -> None:
    app = app_with(store_url, max_sandboxes=2, max_sandboxes_per_client=2)
    client = ContractClient(app, "star-jobnet")
    for n in range(10):  # reads of the journal, clock, coverage and slots of new sandboxes
        reader = sandboxed(client, f"read-{n}")
        assert reader.get("/__admin/requests").json()["requests"] == []
        assert reader.get("/__admin/clock").status_code == 200
        assert reader.get("/__admin/coverage").status_code == 200
        assert (
            reader.get(
                "/__admin/slots?moedetilbudId=3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60"
            ).status_code
            == 200
        )
    forbidden = ContractClient(app, "jobcenter-aarhus")  # may not call GetJobagenter: 403
    for n in range(10):
        assert sandboxed(forbidden, f"no-{n}").get("/v1/Jobagent").status_code == 403
    # the two places are still free
    for name in ("first", "second"):
        created_agent(sandboxed(client, name))
    problem(sandboxed(client, "third").get("/v1/Jobagent"), 429, None)


def test_at_the_cap_a_429_names_it_and_a_reset_frees_a_place(store_url: str) -> None:
    app = app_with(store_url, max_sandboxes_per_client=2)
    client = ContractClient(app, "star-jobnet")
    first, second = sandboxed(client, "one"), sandboxed(client, "two")
    created_agent(first)
    created_agent(second)
    refused = problem(sandboxed(client, "three").post("/v1/Jobagent", json=NEW_AGENT), 429, None)
    assert "--max-sandboxes-per-client 2" in refused["detail"]
    assert "POST /__admin/reset" in refused["detail"] and "--sandbox-idle-ttl" in refused["detail"]
    clock = sandboxed(client, "three").put("/__admin/clock", json={"advanceSeconds": 60})
    problem(clock, 429, None)  # an admin write makes no sandbox past the cap either
    scenario = {"operationId": "GetJobagenter", "respond": [{"status": 404}]}
    problem(sandboxed(client, "three").post("/__admin/scenarios", json=scenario), 429, None)
    assert first.get("/v1/Jobagent").status_code == 200  # a live sandbox is used as before
    assert first.post("/__admin/reset").status_code == 204
    created_agent(sandboxed(client, "three"))
    problem(first.get("/v1/Jobagent"), 429, None)  # its place was taken


def test_the_cap_in_all_spares_every_client_its_sandboxes(store_url: str) -> None:
    app = app_with(store_url, max_sandboxes=3, max_sandboxes_per_client=10)
    star = ContractClient(app, "star-jobnet")
    agents = {name: created_agent(sandboxed(star, name)) for name in ("a", "b", "c")}
    problem(sandboxed(ContractClient(app, "star-readonly"), "x").get("/v1/Jobagent"), 429, None)
    for name, identifier in agents.items():
        assert sandboxed(star, name).get(f"/v1/Jobagent/{identifier}").status_code == 200


def test_an_idle_sandbox_is_freed_when_a_new_one_needs_its_place(store_url: str) -> None:
    app = app_with(store_url, max_sandboxes_per_client=1, sandbox_idle_ttl=3600)
    engine = app.app.config["JOBAGENT_MOCK_ENGINE"]
    client = ContractClient(app, "star-jobnet")
    old = sandboxed(client, "old")
    identifier = created_agent(old)
    problem(sandboxed(client, "new").get("/v1/Jobagent"), 429, None)
    real = engine.sandboxes.clock
    engine.sandboxes.clock = lambda: real() + 3601  # an hour and a second later
    created_agent(sandboxed(client, "new"))
    engine.sandboxes.release("star-jobnet/old")  # as another process, which remembers nothing
    engine.sandboxes.clock = lambda: real() + 3602
    problem(old.get(f"/v1/Jobagent/{identifier}"), 429, None)
    assert old.get("/__admin/requests").json()["requests"] == []


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", pytest.param("redis", marks=pytest.mark.needs_redis)])
def test_two_workers_admit_exactly_the_cap(store: str, tmp_path: Path) -> None:
    """30 new sandbox names at once, on two workers: exactly the cap of them is made, every
    other one is a 429, and each admitted one keeps its job agent."""
    port, cap = free_port(), 5
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server()) if store == "redis" else f"sqlite:{tmp_path}/m.db"
        server = start_mock(url, 2, port, "k" * 32, "--max-sandboxes-per-client", str(cap))
        stack.callback(stop, server)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            headers = {"Authorization": f"Bearer {token_for(http, 'star-jobnet')}"}

        def create(n: int) -> tuple[int, str]:
            identifier = str(uuid.uuid4())
            answer = httpx.post(
                f"{base}/v1/Jobagent",
                json={**NEW_AGENT, "jobagentIdentifier": identifier},
                headers={
                    **headers,
                    "x-mock-sandbox": f"race-{n}",
                    "x-civilRegistrationIdentifier": ORDINARY,
                    "x-requestId": identifier,
                },
                timeout=30,
            )
            return answer.status_code, identifier

        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(create, range(30)))
        statuses = [status for status, _ in results]
        assert statuses.count(201) == cap and statuses.count(429) == 30 - cap, statuses
        for n, (status, identifier) in enumerate(results):
            if status == 201:
                found = httpx.get(
                    f"{base}/v1/Jobagent/{identifier}",
                    headers={
                        **headers,
                        "x-mock-sandbox": f"race-{n}",
                        "x-civilRegistrationIdentifier": ORDINARY,
                    },
                )
                assert found.status_code == 200
