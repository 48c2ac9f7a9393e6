"""No seed-valid request is refused for leaving out a field the seed marks `0 - 1` or `0 - *`:
every such row of RECONSTRUCTION.md's table of seed field rows is left out, one at a time, of a
request that carries every field, and the request still succeeds."""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.clock import DANISH_TIME
from tests.helpers import ORDINARY, ContractClient
from tests.unit.test_seed_fidelity import field_rows

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=DANISH_TIME)
_sandboxes = itertools.count(1)

SOEGEPARAMETRE = {
    "udfraMineKravTilJobsoegning": True,
    "geografi": {
        "region": [1082],
        "andreomraader": ["Bornholm"],
        "afstand": {"minafstand": 0, "maxafstand": 30, "fraPostnummer": 8000, "fraKommune": 751},
        "rejsetid": {"minafstand": 0, "maxafstand": 60},
    },
    "arbejdsomraade": {
        "beskaeftigelsesomraade": [
            {"hierarkielementId": "9c3b2a10-7d4e-4f5a-8b6c-1e2d3f4a5b6c", "hierarkitype": 1}
        ],
        "stillingsbetegnelser": [
            {
                "conceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
                "aliasIdentifier": "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90",
            }
        ],
    },
    "ansaettelsesvilkaar": {"ansaettelsesvilkaartype": [1]},
    "ansaettelsesvarighed": {"ansaettelsesvarighedstype": [1]},
    "arbejdstid": {"arbejdstidstype": 2, "deltidMinTimer": 10, "deltidMaxTimer": 20},
}
JOBAGENT = {
    "titel": "Lager",
    "jobagent": {
        "email": "borger.eksempel@example.dk",
        "udsendelsesinterval": 1,
        "smsNotifikation": False,
    },
    "soegeparametre": SOEGEPARAMETRE,
}
WISH = {
    "conceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder",
    "aliasIdentifier": "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90",
    "harUddannelse": True,
    "aarSidstBrugt": 2024,
    "maanederMedErfaring": 12,
}
# every field each operation's body can carry, in a request that succeeds
FULL_BODIES: dict[str, dict[str, Any]] = {
    "CreateJobagent": {"jobagentIdentifier": "", **JOBAGENT},
    "UpdateJobagent": JOBAGENT,
    "CreateTilmelding": {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "haendelsesdato": "2026-11-25T07:00:00+01:00",
        "emailadresse": "borger.eksempel@example.dk",
        "joboensker": [{**WISH, "jobTargetIdentifier": "0d5e4c3b-2a19-4f8e-b7d6-c5b4a3928170"}],
    },
    "TilmeldOgBook": {
        "klientkategori": 2,
        "tilmeldingsdato": "2026-11-25T08:00:00+01:00",
        "ledighedsgrad": 1,
        "joboensker": [WISH],
        "bookingStartTime": "2026-11-26T09:00:00+01:00",
        "moedetilbudId": "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60",
        "sagsbehandlerEksterntId": "CVR:12345678-RID:87654321",
        "samtaleformType": 1,
    },
}


# the table names GetJobagent's output rows by the answer's schema; a client sends them in these
SENT_AS = {"JobagentResponseDto": ("CreateJobagentRequestDto", "UpdateJobagentRequestDto")}


def optional_rows() -> list[dict[str, str]]:
    return [row for row in field_rows() if re.search(r"\b0 ?- ?(1|\*)(?![0-9])", row["row"])]


def places(operation_id: str) -> Iterator[tuple[tuple[str, str], tuple[Any, ...]]]:
    """(schema, property) and its path in the operation's full body, for each property the body
    holds: where a row of the table ("Schema.property") sits in a request."""
    document = spec.raw(spec.BUSINESS)
    operation = spec.operation(operation_id)
    raw = document["paths"][operation.path][operation.method]  # with its $refs, which name schemas
    media = raw["requestBody"]["content"]["application/json"]
    yield from _walk(document, media["schema"], FULL_BODIES[operation_id], ())


def _walk(
    document: dict[str, Any], schema: dict[str, Any], value: Any, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[str, str], tuple[Any, ...]]]:
    name, schema = _named(document, schema)
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(document, schema.get("items", {}), item, (*path, index))
        return
    if not isinstance(value, dict):
        return
    declared = _properties(document, schema)
    for key, inner in value.items():
        if name is not None:
            yield (name, key), (*path, key)
        yield from _walk(document, declared.get(key, {}), inner, (*path, key))


def _named(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """A $ref'd schema and its name; a property whose allOf holds one $ref, that schema."""
    parts = schema.get("allOf", [])
    if "$ref" not in schema and len(parts) == 1 and "$ref" in parts[0]:
        schema = parts[0]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name, document["components"]["schemas"][name]
    return None, schema


def _properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(_properties(document, _named(document, part)[1]))
    return found


def leaving_out() -> list[tuple[str, str, tuple[Any, ...]]]:
    """(seed line, operation, path) for every optional seed row a request body can carry."""
    cases = []
    for row in optional_rows():
        schema, _, prop = row["place"].partition(".")
        if not prop:  # the row's element, within the schema the table names
            named = re.findall(r"`([^`]+)`", row["row"])
            if not named:
                continue  # "Hvad med udland???": no field
            prop = named[0].split(".")[-1]
        owners = SENT_AS.get(schema, (schema,))
        for operation_id in FULL_BODIES:
            for (owner, key), path in places(operation_id):
                if owner in owners and key.lower() == prop.lower():
                    cases.append((row["seed_line"], operation_id, path))
    return cases


def test_the_walk_reaches_the_optional_rows() -> None:
    rows = {line for line, _, _ in leaving_out()}
    # every optional request row of the table but those that are no field here (line 135, the
    # draft's open question, and CreateJobagent's enrollment leftovers of A-3), and the answers'
    assert len(optional_rows()) >= 40
    assert {"56", "72", "76", "83", "88", "108", "113", "125", "477", "478", "459"} <= rows
    assert len(rows) >= 28, sorted(rows, key=int)


@pytest.fixture
def fresh(client: ContractClient, engine: Any) -> Any:
    """A call in a sandbox of its own, its clock at NOW."""

    def call(method: str, path: str, body: dict[str, Any]) -> Any:
        name = f"optional-{next(_sandboxes)}"
        with engine.store.transaction(f"star-jobnet/{name}") as sandbox:
            sandbox.clock.pin(NOW)
        headers = {"x-mock-sandbox": name}
        if path.endswith("{id}"):
            listed = client.get("/v1/Jobagent", headers=headers).json()["jobagenter"]
            path = path.replace("{id}", listed[0]["jobagentIdentifier"])
        return client.call(method, path, cpr=ORDINARY, json=body, headers=headers)

    return call


ROUTES = {
    "CreateJobagent": ("POST", "/v1/Jobagent"),
    "UpdateJobagent": ("PUT", "/v1/Jobagent/{id}"),
    "CreateTilmelding": ("POST", "/v1/Tilmelding"),
    "TilmeldOgBook": ("POST", "/v1/Tilmelding/TilmeldOgBook"),
}


@pytest.mark.parametrize("operation_id", list(FULL_BODIES))
def test_the_full_request_succeeds(fresh: Any, operation_id: str) -> None:
    body = _with_fresh_identifier(copy.deepcopy(FULL_BODIES[operation_id]))
    answer = fresh(*ROUTES[operation_id], body)
    assert answer.status_code in (200, 201), answer.text


@pytest.mark.parametrize(
    ("seed_line", "operation_id", "path"),
    leaving_out(),
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
def test_a_request_without_an_optional_seed_row_succeeds(
    fresh: Any, seed_line: str, operation_id: str, path: tuple[Any, ...]
) -> None:
    body = _with_fresh_identifier(copy.deepcopy(FULL_BODIES[operation_id]))
    parent: Any = body
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    answer = fresh(*ROUTES[operation_id], body)
    assert answer.status_code in (200, 201), f"seed line {seed_line}: {answer.text}"


def _with_fresh_identifier(body: dict[str, Any]) -> dict[str, Any]:
    if "jobagentIdentifier" in body:
        body["jobagentIdentifier"] = str(uuid.uuid4())
    return body
