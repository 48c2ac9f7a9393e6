"""A null on an optional property reads as the property absent, as ASP.NET binds it (D-65):
.NET's System.Text.Json and Java's Jackson write null for every property they were not given."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from jobagent_mock.web.contract_violations import properties
from tests.helpers import ContractClient, problem

NOW = spec.raw()["info"]["x-examples-now"]
EACH = "[]"  # a path step into every item of a list
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


Place = tuple[tuple[str, ...], bool, bool]


def _places(schema: dict[str, Any], at: tuple[str, ...] = ()) -> Iterator[Place]:
    """Every writable property of a request schema, at any depth: (its path, whether the
    contract makes it nullable, whether its object requires it)."""
    required = set(schema.get("required", [])).union(
        *(p.get("required", []) for p in schema.get("allOf", []))
    )
    for name, sub in properties(schema).items():
        merged = {
            **sub,
            **{k: v for p in sub.get("allOf", []) for k, v in p.items() if k not in sub},
        }
        if merged.get("readOnly"):
            continue
        yield (*at, name), bool(sub.get("nullable")), name in required
        yield from _places(merged, (*at, name))
        if "items" in merged:
            yield from _places(merged["items"], (*at, name, EACH))


def _body_of(operation: spec.Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    media = operation.spec["requestBody"]["content"]["application/json"]
    example = media.get("example") or next(iter(media["examples"].values()))["value"]
    return media["schema"], example


def _parents(body: Any, path: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The objects of `body` that hold the path's last step (none where a step is missing)."""
    nodes = [body]
    for step in path[:-1]:
        if step == EACH:
            nodes = [item for node in nodes if isinstance(node, list) for item in node]
        else:
            nodes = [node[step] for node in nodes if isinstance(node, dict) and step in node]
    yield from (node for node in nodes if isinstance(node, dict))


WITH_BODY = sorted(
    (o for o in spec.operations().values() if "requestBody" in o.spec), key=lambda o: o.operation_id
)
NULLABLE = {o.operation_id: [p for p, n, _ in _places(_body_of(o)[0]) if n] for o in WITH_BODY}
REQUIRED = [
    (o.operation_id, path)
    for o in WITH_BODY
    for path, _, required in _places(_body_of(o)[0])
    if required and any(_parents(_body_of(o)[1], path))  # the example holds its object
]


def _set(body: Any, path: tuple[str, ...], value: Any, spelling: str | None = None) -> bool:
    """`body` with the path set to `value` (or removed when value is ...); whether it was there
    to hold it."""
    found = False
    for parent in _parents(body, path):
        found = True
        parent.pop(path[-1], None)
        if value is not ...:
            parent[spelling or path[-1]] = value
    return found


def _pinned(client: ContractClient) -> None:
    client.http.put(
        "/__admin/clock", json={"now": NOW}, headers={"Authorization": f"Bearer {client.token}"}
    )


def _call(
    client: ContractClient, operation: spec.Operation, body: Any, request_id: str | None = None
) -> Any:
    path = operation.path
    for param in operation.parameters:
        if param["in"] == "path":
            path = path.replace(f"{{{param['name']}}}", str(param["example"]))
    headers = {"x-requestId": request_id} if request_id else {}
    return client.call(operation.method.upper(), path, json=body, headers=headers)


def _seen(client: ContractClient, engine: Any, operation: spec.Operation, body: Any) -> Any:
    """What a client can notice of one request on a fresh sandbox: the answer (ids the mock
    made masked), its x-mock-warning, the job agent it stored, the journal's answer."""
    engine.store.reset()
    _pinned(client)
    sent = json.dumps(body)
    known = {i.lower() for i in UUID.findall(sent)}

    def masked(text: str) -> str:
        return UUID.sub(lambda m: m[0] if m[0].lower() in known else "<new>", text)

    answer = _call(client, operation, body, "null-or-absent")  # the sandbox is fresh
    stored = None
    if location := answer.headers.get("location"):
        stored = masked(client.get(location).text)
    elif operation.operation_id == "UpdateJobagent":
        stored = client.get(
            operation.path.replace("{jobagentIdentifier}", _path_id(operation))
        ).text
    journal = client.get("/__admin/requests").json()["requests"]
    last = [e["response"] for e in journal if e["request"]["method"] == operation.method.upper()]
    return (
        answer.status_code,
        masked(answer.text),
        answer.headers.get("x-mock-warning"),
        masked(answer.headers.get("location", "")),
        stored,
        masked(json.dumps(last[-1:], sort_keys=True)),
    )


def _path_id(operation: spec.Operation) -> str:
    return next(str(p["example"]) for p in operation.parameters if p["in"] == "path")


@st.composite
def nulled(draw: Any) -> tuple[str, list[tuple[tuple[str, ...], str]]]:
    """An operation and some of its nullable properties, each named in some spelling (names
    bind case-insensitively)."""
    operation_id = draw(st.sampled_from([o for o, paths in NULLABLE.items() if paths]))
    paths = draw(st.sets(st.sampled_from(NULLABLE[operation_id]), min_size=1))
    spelled = []
    for path in sorted(paths):
        upper = draw(st.booleans())
        spelled.append((path, path[-1][0].upper() + path[-1][1:] if upper else path[-1]))
    return operation_id, spelled


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=nulled())
def test_a_null_optional_property_is_answered_and_kept_as_if_absent(
    client: ContractClient, engine: Any, case: Any
) -> None:
    operation_id, spelled = case
    operation = spec.operations()[operation_id]
    _, example = _body_of(operation)
    with_null, without = copy.deepcopy(example), copy.deepcopy(example)
    for path, spelling in spelled:
        _set(with_null, path, None, spelling)
        _set(without, path, ...)
    assert with_null != without or not any(_parents(example, p) for p, _ in spelled)
    # a rule may refuse the body without them (7062 without job wishes): alike, then
    assert _seen(client, engine, operation, with_null) == _seen(client, engine, operation, without)


def test_create_bodys_own_optional_properties_are_nullable_not_the_search_tree() -> None:
    """CreateJobagent's optional properties that are its own accept null in the contract; the
    search tree (soegeparametre) is shared with GetJobagent's answer, where a new null would
    break readers (contract-diff), so it does not."""
    assert NULLABLE["CreateJobagent"] == [("jobagentIdentifier",), ("jobagent",)]
    assert ("joboensker", EACH, "aliasIdentifier") in NULLABLE["TilmeldOgBook"]


@pytest.mark.parametrize(
    ("operation_id", "path"), REQUIRED, ids=lambda v: ".".join(v) if isinstance(v, tuple) else v
)
def test_a_required_property_null_is_refused_as_if_absent_and_said_null(
    client: ContractClient, operation_id: str, path: tuple[str, ...]
) -> None:
    operation = spec.operations()[operation_id]
    _, example = _body_of(operation)
    with_null, without = copy.deepcopy(example), copy.deepcopy(example)
    _set(with_null, path, None)
    _set(without, path, ...)
    _pinned(client)
    missing = _call(client, operation, without)
    refused = _call(client, operation, with_null)
    body = problem(refused, missing.status_code, missing.json().get("fejlkode"))
    place = "body" + "".join("[0]" if step == EACH else f".{step}" for step in path)
    assert f"{place}: null is not of type" in body["detail"], body["detail"]
    assert "None" not in refused.text


def test_details_name_values_as_json(client: ContractClient) -> None:
    body = {"titel": True, "soegeparametre": {"geografi": {"region": ["x"]}}}
    answer = problem(client.post("/v1/Jobagent", json=body), 400, 1014)
    assert answer["errors"]["body.titel"] == ['true is not of type "string"']
    assert answer["errors"]["body.soegeparametre.geografi.region[0]"][0].startswith('"x" is not')
    assert "True" not in json.dumps(answer) and "'x'" not in json.dumps(answer)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_null_optional_property_is_stored_as_absent_on_every_store(
    tmp_path: Path, store: str
) -> None:
    url = f"sqlite:{tmp_path / 'mock.db'}" if store == "sqlite" else "memory"
    client = ContractClient(create_app(store=url), "star-jobnet")
    agent = {"titel": "Lager", "soegeparametre": {}}
    made = [
        client.post("/v1/Jobagent", json={**agent, "jobagentIdentifier": None, "jobagent": None}),
        client.post("/v1/Jobagent", json=agent),
    ]
    assert [m.status_code for m in made] == [201, 201]
    kept = [client.get(m.headers["location"]).json() for m in made]
    for one in kept:
        del one["jobagentIdentifier"]
    assert (
        kept[0]
        == kept[1]
        == {"titel": "Lager", "soegeparametre": {"udfraMineKravTilJobsoegning": False}}
    )
