"""The benchmark measures real work: the body bench/create.lua sends is one the mock accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import ContractClient

CREATE_LUA = Path(__file__).resolve().parents[2] / "bench" / "create.lua"


def test_the_benchmarks_create_body_is_accepted(client: ContractClient) -> None:
    body = re.search(r"local body = '(.*)'", CREATE_LUA.read_text(encoding="utf-8"))
    assert body is not None, "bench/create.lua names its body `local body = '...'`"
    answer = client.post("/v1/Jobagent", json=json.loads(body.group(1)))
    assert answer.status_code == 201, answer.text


def test_theceiling_answers_the_mocks_getjobagent_and_createjobagent_as_the_mock(
    client: ContractClient, tmp_path: Path
) -> None:
    """The ceiling rows are a fair limit only if the ceiling sends what the mock sends: the
    same status, headers and body (uvicorn adds date and server to both), GetJobagent's to a
    GET and CreateJobagent's to a POST (its Location names another new job agent)."""
    from starlette.testclient import TestClient

    from bench.ceiling import app_answering
    from bench.load import CREATE_BODY, OWNED, OWNER
    from bench.run import ceiling_answer

    mock = client.get(f"/v1/Jobagent/{OWNED}", cpr=OWNER)
    answer = json.loads(ceiling_answer(tmp_path).read_text(encoding="utf-8"))
    ceiling = TestClient(app_answering(answer))
    got = ceiling.get("/anything")
    assert got.status_code == mock.status_code == 200
    assert got.content == mock.content
    assert list(got.headers.items()) == list(mock.headers.items())
    created = client.post("/v1/Jobagent", json=json.loads(CREATE_BODY))
    posted = ceiling.post("/anything", content=CREATE_BODY)
    assert posted.status_code == created.status_code == 201
    assert posted.content == created.content == b""
    assert list(posted.headers) == list(created.headers)
    assert posted.headers["location"].startswith("/v1/Jobagent/")
