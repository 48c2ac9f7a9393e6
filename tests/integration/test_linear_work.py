"""Work per request grows with its size, never faster: 50,000 unknown keys are each noted once,
and an array past its maxItems is refused before any of its items is bound or checked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobagent_mock.foundations import readings
from jobagent_mock.web import contract_violations, validators
from tests.helpers import ContractClient, problem
from tests.integration.test_jobagent import jobagent


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the binder binds a value, notes a reading, and jsonschema explains."""
    counted = {"canonical": 0, "note": 0, "explained": 0}

    def counting(name: str, function: Any) -> Any:
        def counted_call(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return function(*args, **kwargs)

        return counted_call

    monkeypatch.setattr(
        contract_violations, "canonical", counting("canonical", contract_violations.canonical)
    )
    monkeypatch.setattr(readings, "note", counting("note", readings.note))
    monkeypatch.setattr(validators, "violation", counting("explained", validators.violation))
    return counted


def test_50000_unknown_keys_are_each_noted_once(
    client: ContractClient, calls: dict[str, int]
) -> None:
    body = jobagent() | {f"unknown{i}": i for i in range(50_000)}
    answer = client.post("/v1/Jobagent", json=body)
    assert answer.status_code == 201, answer.text[:300]
    assert "unknown0 ignored (no such field here)" in answer.headers["x-mock-warning"]
    assert 50_000 <= calls["note"] < 50_100


def compact(client: ContractClient, body: Any) -> Any:
    """POST a body as compact JSON, so that it stays under the 1 MiB limit."""
    text = json.dumps(body, separators=(",", ":"))
    assert len(text) < 1024 * 1024
    return client.post("/v1/Jobagent", content=text, headers={"content-type": "application/json"})


@pytest.mark.parametrize("array", ["andreomraader", "region"])
def test_150000_items_are_refused_before_any_is_looked_at(
    client: ContractClient, calls: dict[str, int], array: str
) -> None:
    body = jobagent()
    # region has uniqueItems: jsonschema compares objects pairwise
    body["soegeparametre"]["geografi"][array] = [{}] * 150_000
    found = problem(compact(client, body), 400, 1014)
    assert found["detail"].startswith("body.soegeparametre.geografi.")
    assert "150000 items, more than the" in found["detail"]
    assert len(found["detail"]) < 200  # never the array quoted back
    assert calls["canonical"] < 50 and calls["explained"] == 0


def test_50000_keys_beside_150000_items(client: ContractClient, calls: dict[str, int]) -> None:
    body = jobagent() | {f"k{i}": 0 for i in range(50_000)}
    body["soegeparametre"]["geografi"]["andreomraader"] = [0] * 150_000
    problem(compact(client, body), 400, 1014)
    assert calls["canonical"] < 50 and calls["explained"] == 0
    assert calls["note"] < 50_100
