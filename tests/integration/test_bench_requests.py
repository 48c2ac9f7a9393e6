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
