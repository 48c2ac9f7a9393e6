"""The contract: valid OpenAPI 3.0.3, examples everywhere, every fejlkode (each operation's
surface against the documents: tests/unit/test_operation_chores.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from jobagent_mock.contract import self_checks
from jobagent_mock.foundations import spec

SEED = Path(spec.SPEC_DIR) / "seed" / "star-wiki-draft.txt"
BUSINESS_OPERATIONS = spec.operations(spec.BUSINESS)


@pytest.mark.parametrize("name", spec.CONTRACTS)
def test_contract_is_valid_openapi_3_0_3(name: str) -> None:
    document, _ = read_from_filename(str(spec.SPEC_DIR / name))
    assert document["openapi"] == "3.0.3"
    validate(document)


def test_every_example_validates() -> None:
    assert len(list(self_checks.examples())) > 100
    assert self_checks.example_errors() == []


def test_a_broken_example_is_caught() -> None:
    document = {
        "paths": {
            "/x": {
                "get": {
                    "parameters": [
                        {
                            "name": "n",
                            "in": "query",
                            "schema": {"type": "integer"},
                            "example": "seven",
                        }
                    ]
                }
            }
        },
        "components": {"schemas": {"T": {"type": "string", "maxLength": 2, "example": "long"}}},
    }
    errors = self_checks.example_errors(self_checks.examples_in("test.yaml", document))
    assert [where for where, _ in errors] == [
        "test.yaml/paths//x/get/parameters/0/example",
        "test.yaml/components/schemas/T/example",
    ]


def _locations() -> list[tuple[str, dict[str, Any]]]:
    """Every parameter, request body and response with content, of every operation."""
    found = []
    for op in BUSINESS_OPERATIONS.values():
        item = spec.resolved()["paths"][op.path]
        for param in item.get("parameters", []) + op.spec.get("parameters", []):
            found.append((f"{op.operation_id} {param['name']}", param))
        for media in op.spec.get("requestBody", {}).get("content", {}).values():
            found.append((f"{op.operation_id} body", media))
        for status, response in op.responses.items():
            for media in response.get("content", {}).values():
                found.append((f"{op.operation_id} {status}", media))
    return found


@pytest.mark.parametrize(("where", "node"), _locations(), ids=lambda v: str(v)[:60])
def test_every_parameter_body_and_response_has_an_example(where: str, node: dict[str, Any]) -> None:
    assert "example" in node or node.get("examples") or "example" in node.get("schema", {}), where


@pytest.mark.parametrize("operation", BUSINESS_OPERATIONS.values(), ids=str)
def test_every_listed_fejlkode_has_an_example_with_its_status(operation: Any) -> None:
    for status, codes in operation.fejlkoder_by_status().items():
        media = operation.responses[str(status)].get("content", {}).get("application/problem+json")
        examples = [e["value"] for e in (media or {}).get("examples", {}).values()]
        for code in codes:
            assert code in spec.fejlkode_catalogue(), code
            assert any(e.get("fejlkode") == code and e["status"] == status for e in examples), (
                f"{operation.operation_id} {status} lists {code} without an example"
            )


def _seed_codes() -> set[int]:
    text = SEED.read_text(encoding="utf-8")
    after_heading = text.split("Fejlkode", 1)[1]
    return {int(c) for c in re.findall(r"(?m)^\s*(\d{4})\s*(?:\||$)", after_heading)}


def test_every_fejlkode_of_the_seed_is_in_the_catalogue() -> None:
    seed_codes = _seed_codes()
    assert len(seed_codes) >= 70
    assert seed_codes <= spec.fejlkode_catalogue().keys()


def test_the_seeds_texts_are_kept() -> None:
    catalogue = spec.fejlkode_catalogue()
    assert catalogue[1001][0] == "Invalid cpr"
    assert catalogue[4819] == ("The BookingStartTime is no longer available",) * 2
    assert catalogue[6014][1].startswith("Registration is not allowed")


def _declared_codes(node: Any) -> set[int]:
    if isinstance(node, dict):
        own = node.get("x-fejlkode")
        codes = {own} if isinstance(own, int) else set((own or {}).values())
        return codes.union(*(_declared_codes(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_declared_codes(v) for v in node))
    return set()


def test_property_codes_are_catalogued_and_documented_as_400() -> None:
    declared = _declared_codes(spec.raw()["components"])
    assert {1001, 1014, 4313, 4314, 4698, 4710, 9158} <= declared
    assert declared <= spec.fejlkode_catalogue().keys()


def test_links_walk_from_create_to_the_id_operations() -> None:
    links = BUSINESS_OPERATIONS["CreateJobagent"].responses["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "GetJobagent",
        "UpdateJobagent",
        "UpdateJobagentVerificereEmail",
        "DeleteJobagent",
    }


def test_provisional_code_lists_say_so() -> None:
    schemas = spec.raw()["components"]["schemas"]
    enums = [name for name, s in schemas.items() if "enum" in s]
    assert enums and all(schemas[name].get("x-provisional") for name in enums)
    assert all("rovisional" in schemas[name]["description"] for name in enums)
