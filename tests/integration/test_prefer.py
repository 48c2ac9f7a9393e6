"""The Prefer header: forced documented answers, a delay that holds up nobody, clear refusals."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator

from jobagent_mock.foundations import spec
from tests.helpers import ORDINARY, ContractClient, operation_for, problem
from tests.live import live_server


def documented(operation_id: str) -> tuple[str, str]:
    """The operation's method and its path with the documented examples filled in."""
    operation = spec.operations(spec.BUSINESS)[operation_id]
    path = operation.path
    for param in operation.parameters:
        if param["in"] == "path":
            path = path.replace(f"{{{param['name']}}}", str(param["example"]))
    return operation.method.upper(), path


FORCEABLE = [
    (operation_id, status, fejlkode)
    for operation_id, operation in spec.operations(spec.BUSINESS).items()
    for status, codes in operation.fejlkoder_by_status().items()
    for fejlkode in (codes or [None])
]


@pytest.mark.parametrize(("operation_id", "status", "fejlkode"), FORCEABLE)
def test_every_documented_answer_can_be_forced_and_validates(
    client: ContractClient, operation_id: str, status: int, fejlkode: int | None
) -> None:
    method, path = documented(operation_id)
    prefer = f"code={status}" + (f", fejlkode={fejlkode}" if fejlkode else "")
    answer = client.call(method, path, json={}, headers={"Prefer": prefer})
    assert answer.status_code == status
    assert answer.headers["preference-applied"] == prefer
    content = operation_for(method, path).responses[str(status)].get("content")
    if not content:
        assert answer.content == b""
        return
    media_type = answer.headers["content-type"]
    assert media_type in content
    body = answer.json()
    assert not list(Draft4Validator(content[media_type]["schema"]).iter_errors(body))
    if fejlkode:
        assert body["fejlkode"] == fejlkode


def test_fejlkode_alone_picks_its_status_and_echoes_the_request_id(client: ContractClient) -> None:
    answer = client.post(
        "/v1/Tilmelding/TilmeldOgBook",
        json={},
        headers={"Prefer": "fejlkode=4819", "x-requestId": "forced-1"},
    )
    body = problem(answer, 409, 4819)
    assert body["requestId"] == "forced-1"


def test_forcing_stores_nothing(client: ContractClient) -> None:
    body = {
        "jobagentIdentifier": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        "titel": "x",
        "soegeparametre": {},
    }
    assert client.post("/v1/Jobagent", json=body, headers={"Prefer": "code=201"}).status_code == 201
    problem(client.get("/v1/Jobagent/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"), 404, 4589)


def test_a_forced_answer_still_needs_a_token(client: ContractClient) -> None:
    problem(client.http.get("/v1/Jobagent", headers={"Prefer": "code=200"}), 401, None)


@pytest.mark.parametrize(
    "prefer",
    [
        "fejlkode=4819",
        "code=418",
        "code=201",
        "fejlkode=1010, code=400",
        "latency=10001",
        "latency=soon",
        "fejlkode=abc",
    ],
)
def test_what_the_operation_does_not_document_is_a_400_that_lists_it(
    client: ContractClient, prefer: str
) -> None:
    body = problem(client.get("/v1/Jobagent", headers={"Prefer": prefer}), 400, 1014)
    if "latency" not in prefer:
        assert "code=200, 400, 401, 403, 404" in body["detail"]
        assert "fejlkode=1001, 1010, 1014, 4575" in body["detail"]


def test_other_preferences_are_ignored(client: ContractClient) -> None:
    answer = client.get("/v1/Jobagent", headers={"Prefer": "return=minimal, respond-async"})
    assert answer.status_code == 200
    assert len(answer.json()["jobagenter"]) == 2


@pytest.mark.slow
def test_latency_holds_up_no_other_request(app: Any, client: ContractClient) -> None:
    headers = {"Authorization": f"Bearer {client.token}", "x-civilRegistrationIdentifier": ORDINARY}
    finished: list[str] = []
    slow_arrived = threading.Event()

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        # the fast request goes only once the slow one is in the server
        if scope["type"] == "http" and (b"prefer", b"latency=3000") in scope["headers"]:
            slow_arrived.set()
        await app(scope, receive, send)

    with live_server(watching) as base:

        def slow() -> None:
            answer = httpx.get(
                f"{base}/v1/Jobagent", timeout=30, headers={**headers, "Prefer": "latency=3000"}
            )
            assert answer.status_code == 200
            finished.append("slow")

        thread = threading.Thread(target=slow)
        thread.start()
        assert slow_arrived.wait(30), "the slow request never reached the server"
        fast = httpx.get(f"{base}/v1/Jobagent", headers=headers, timeout=30)
        finished.append("fast")
        thread.join()
    assert fast.status_code == 200
    assert finished == ["fast", "slow"]
