"""GET /__admin/fejlkoder: every documented fejlkode has a trigger, and every trigger fires."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from jobagent_mock.contract import catalogue
from jobagent_mock.foundations import fixtures, spec
from tests.helpers import token_for

ENTRIES = catalogue.entries(fixtures.load())
NATURAL = [e for e in ENTRIES if e["trigger"]["kind"] != "prefer"]
_ids = iter(range(10**9))


def test_the_catalogue_is_served_without_a_token(app: Any) -> None:
    answer = TestClient(app).get("/__admin/fejlkoder")
    assert answer.status_code == 200
    assert answer.json() == ENTRIES


def test_every_documented_code_has_a_trigger() -> None:
    assert all(entry["trigger"] is not None for entry in ENTRIES)


@pytest.mark.parametrize("operation_id", spec.operations(spec.BUSINESS))
def test_nine_in_ten_codes_of_each_operation_have_a_natural_trigger(operation_id: str) -> None:
    codes = {e["fejlkode"] for e in ENTRIES if e["operationId"] == operation_id}
    natural = {e["fejlkode"] for e in NATURAL if e["operationId"] == operation_id}
    assert len(natural) / len(codes) >= 0.9, sorted(codes - natural)


@pytest.mark.parametrize(
    "entry", NATURAL, ids=lambda e: f"{e['operationId']}-{e['status']}-{e['fejlkode']}"
)
def test_every_natural_trigger_fires(app: Any, engine: Any, entry: dict[str, Any]) -> None:
    trigger = entry["trigger"]
    http = TestClient(app)
    token = token_for(http, trigger["client_id"])
    with engine.store.transaction(trigger["client_id"]) as sandbox:
        sandbox.clock.pin(datetime.fromisoformat(trigger["clock"]))
    cpr = trigger.get("cpr")
    assert (
        trigger["kind"] == "prefer"
        or cpr
        or "x-civilRegistrationIdentifier"
        not in str(spec.operations(spec.BUSINESS)[entry["operationId"]].parameters)
    ), "a trigger names the CPR to send"
    for step in trigger.get("steps", []):
        done = send(http, token, step["operationId"], {}, step.get("cpr", cpr))
        assert done.status_code < 300, done.text
    answer = send(http, token, entry["operationId"], trigger, cpr)
    assert answer.status_code == entry["status"], answer.text
    assert answer.json().get("fejlkode") == entry["fejlkode"], answer.text


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if e["trigger"]["kind"] == "prefer"],
    ids=lambda e: f"{e['operationId']}-{e['fejlkode']}",
)
def test_prefer_only_codes_are_forced_with_prefer(app: Any, entry: dict[str, Any]) -> None:
    http = TestClient(app)
    token = token_for(http, entry["trigger"]["client_id"])
    answer = send(http, token, entry["operationId"], {}, None, f"fejlkode={entry['fejlkode']}")
    assert (answer.status_code, answer.json()["fejlkode"]) == (entry["status"], entry["fejlkode"])
    assert entry["trigger"]["reason"]


def send(
    http: TestClient,
    token: str,
    operation_id: str,
    trigger: dict[str, Any],
    cpr: str | None,
    prefer: str | None = None,
) -> Any:
    """The operation's documented example, changed as the trigger says."""
    operation = spec.operations(spec.BUSINESS)[operation_id]
    parts: dict[str, Any] = {"body": example_body(operation), "header": {}, "path": {}, "query": {}}
    for param in operation.parameters:
        parts[param["in"]][param["name"]] = param["example"]
    parts["header"]["x-requestId"] = f"catalogue-{next(_ids)}"
    parts["header"]["Authorization"] = f"Bearer {token}"
    if cpr is not None:
        parts["header"]["x-civilRegistrationIdentifier"] = cpr
    if prefer is not None:
        parts["header"]["Prefer"] = prefer
    changes = dict(trigger.get("with", {}))
    if "field" in trigger:
        changes[trigger["field"]] = None if trigger.get("absent") else trigger["value"]
    raw = None
    for field, value in changes.items():
        if value == "{a body over the size limit}":
            raw = b'{"titel": "' + b"x" * (1024 * 1024) + b'"}'
        else:
            place(parts, field, value, absent=value is None)
    path = operation.path.format(**parts["path"])
    headers = {k: str(v) for k, v in parts["header"].items()}
    if raw is not None or "Content-Type" in headers:
        content = raw if raw is not None else repr(parts["body"]).encode()
        return http.request(operation.method.upper(), path, headers=headers, content=content)
    body = parts["body"] if "requestBody" in operation.spec else None
    return http.request(
        operation.method.upper(), path, headers=headers, params=parts["query"], json=body
    )


def example_body(operation: spec.Operation) -> Any:
    media = operation.spec.get("requestBody", {}).get("content", {}).get("application/json")
    if media is None:
        return None
    if "example" in media:
        return copy.deepcopy(media["example"])
    return copy.deepcopy(next(iter(media["examples"].values()))["value"])


def place(parts: dict[str, Any], field: str, value: Any, absent: bool) -> None:
    """Set (or leave out) `body.a.b[0].c`, `header.X`, `path.X` or `query.X`."""
    where, _, rest = field.partition(".")
    steps: list[Any] = [int(s) if s.isdigit() else s for s in re.findall(r"[^.\[\]]+", rest)]
    node = parts[where]
    for step in steps[:-1]:
        if isinstance(step, str) and step not in node:
            node[step] = {}
        node = node[step]
    if absent:
        node.pop(steps[-1], None)
    else:
        node[steps[-1]] = value


def test_relative_values_are_concrete_and_typed() -> None:
    year = next(
        e["trigger"]
        for e in NATURAL
        if (e["operationId"], e["status"], e["fejlkode"]) == ("CreateTilmelding", 422, 4710)
    )
    assert year["field"].endswith("aarSidstBrugt")
    assert year["value"] == datetime.fromisoformat(year["clock"]).year + 1
