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


def test_theceiling_answers_the_mocks_getjobagent_byte_for_byte(
    client: ContractClient, tmp_path: Path
) -> None:
    """The ceiling row is a fair limit only if it sends what the mock sends: the same status,
    headers and body (uvicorn adds date and server to both)."""
    from starlette.testclient import TestClient

    from bench.ceiling import app_answering
    from bench.load import OWNED, OWNER
    from bench.run import ceiling_answer

    mock = client.get(f"/v1/Jobagent/{OWNED}", cpr=OWNER)
    answer = json.loads(ceiling_answer(tmp_path).read_text(encoding="utf-8"))
    ceiling = TestClient(app_answering(answer)).post("/anything", content=b"x" * 5000)
    assert ceiling.status_code == mock.status_code == 200
    assert ceiling.content == mock.content
    assert list(ceiling.headers.items()) == list(mock.headers.items())
