"""Start-up self-checks, shared by `jobagent-mock check` and the unit tests.

The contracts validate as OpenAPI 3.0 and carry semantic versions; jobagent.yaml may go out
(changelog.guard); every example validates against its schema; the fixtures load; every
operationId resolves to a handler function.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from jobagent_mock.contract import catalogue, changelog
from jobagent_mock.foundations import fixtures, spec
from jobagent_mock.foundations.handler_names import handler_name


def problems_found(fixtures_dir: Path | None = None) -> list[str]:
    found = contract_problems()
    found += changelog.guard()
    found += [f"{where}: {why}" for where, why in example_errors()]
    try:
        loaded = fixtures.load(fixtures_dir)
    except fixtures.FixtureError as exc:
        found.append(str(exc))
    else:
        found += untriggered_fejlkoder(loaded)
    found += unresolved_handlers()
    found += admin_operation_ids()
    return found


def admin_operation_ids() -> list[str]:
    """admin.yaml's enum of business operationIds (the journal's filter) as jobagent.yaml's."""
    listed = spec.raw(spec.CONTROL)["components"]["schemas"]["BusinessOperationId"]["enum"]
    if sorted(listed) == sorted(spec.operations(spec.BUSINESS)):
        return []
    return [f"admin.yaml BusinessOperationId: {listed} is not {sorted(spec.operations())}"]


def untriggered_fejlkoder(loaded: fixtures.Fixtures) -> list[str]:
    """Each documented fejlkode that nothing in the contract or the fixtures triggers."""
    return [
        f"{e['operationId']} {e['status']} {e['fejlkode']}: no trigger (x-triggers or a persona)"
        for e in catalogue.entries(loaded)
        if e["trigger"] is None
    ]


def contract_problems() -> list[str]:
    """Each contract that is not valid OpenAPI 3.0, with the validator's first line."""
    found: list[str] = []
    for name in spec.CONTRACTS:
        try:
            validate(read_from_filename(str(spec.SPEC_DIR / name))[0])
        except Exception as exc:  # the validator raises several unrelated types
            found.append(f"{name}: {exc}".splitlines()[0])
        version = spec.raw(name)["info"]["version"]
        if not changelog.SEMVER.fullmatch(version):
            found.append(f"{name}: info.version {version!r} is not semantic versioning")
    return found


def examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Every example of every contract: (where, schema, value)."""
    for name in spec.CONTRACTS:
        yield from examples_in(name, spec.resolved(name))


def examples_in(name: str, node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any], Any]]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from examples_in(name, item, f"{where}/{index}")
        return
    if not isinstance(node, dict):
        return
    yield from _own_examples(f"{name}{where}", node)
    holds_examples = isinstance(node.get("schema"), dict)
    for key, value in node.items():
        if key not in ("example", "examples") or not holds_examples:
            yield from examples_in(name, value, f"{where}/{key}")


def _own_examples(where: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """A parameter's, media type's or header's examples, or a schema's own example."""
    schema = node.get("schema")
    if not isinstance(schema, dict):
        if "example" in node and "type" in node:
            yield f"{where}/example", node, node["example"]
        return
    if "example" in node:
        yield f"{where}/example", schema, node["example"]
    for key, example in node.get("examples", {}).items():
        yield f"{where}/examples/{key}", schema, example["value"]


def example_errors(
    found: Iterable[tuple[str, dict[str, Any], Any]] | None = None,
) -> list[tuple[str, str]]:
    errors = []
    for where, schema, value in examples() if found is None else found:
        error = next(iter(Draft4Validator(spec.json_schema(schema)).iter_errors(value)), None)
        if error is not None:
            errors.append((where, error.message))
    return errors


def handler_for(operation_id: str, tags: list[str]) -> Any:
    """The function an operation is served by, as the app's resolver finds it."""
    module_name, _, function = handler_name(operation_id, tags).rpartition(".")
    return getattr(importlib.import_module(module_name), function, None)


def unresolved_handlers() -> list[str]:
    return [
        f"{name}: operationId {op.operation_id} has no handler function"
        for name in spec.CONTRACTS
        for op in spec.operations(name).values()
        if handler_for(op.operation_id, op.spec.get("tags", [])) is None
    ]
