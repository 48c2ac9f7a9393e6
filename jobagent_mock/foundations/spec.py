"""The contracts in openapi/: loaded once, $refs resolved, and the facts the server reads."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from jobagent_mock.foundations import resources

SPEC_DIR = resources.folder(resources.CONTRACTS_PACKAGE)
BUSINESS = "jobagent.yaml"
CONTROL = "admin.yaml"
TOKEN = "token.yaml"
CONTRACTS = (BUSINESS, CONTROL, TOKEN)
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    spec: dict[str, Any]
    path_parameters: tuple[dict[str, Any], ...] = ()  # declared on the path, shared by its methods

    @property
    def parameters(self) -> list[dict[str, Any]]:
        """Its parameters, the path's included; its own win over the path's of the same name."""
        own = self.spec.get("parameters", [])
        named = {(p["name"], p["in"]) for p in own}
        return [p for p in self.path_parameters if (p["name"], p["in"]) not in named] + own

    @property
    def responses(self) -> dict[str, Any]:
        return self.spec.get("responses", {})

    def fejlkoder_by_status(self) -> dict[int, list[int]]:
        """Each documented status with the fejlkoder its response lists (x-fejlkoder)."""
        return {
            int(status): list(response.get("x-fejlkoder", []))
            for status, response in self.responses.items()
            if status.isdigit()
        }

    def star_fejlkoder_by_status(self) -> dict[int, list[int]]:
        """As fejlkoder_by_status, without the mock's own limits (`x-mock-limit`: the 429 of a
        sandbox past its cap): the outcomes STAR answers, which coverage counts."""
        return {
            status: codes
            for status, codes in self.fejlkoder_by_status().items()
            if not self.responses[str(status)].get("x-mock-limit")
        }


# libyaml's parser, where PyYAML has it: the contracts parse far faster (start-up)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def source(name: str = BUSINESS) -> str:
    """The contract's text, byte for byte as published."""
    return (SPEC_DIR / name).read_text(encoding="utf-8")


@cache
def raw(name: str = BUSINESS) -> dict[str, Any]:
    """The contract as written (shared: copy before changing it)."""
    with open(SPEC_DIR / name, encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)
    return document


@cache
def resolved(name: str = BUSINESS) -> dict[str, Any]:
    """The contract with every local $ref replaced by a copy of its target."""
    return resolve(raw(name))


def resolve(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of any OpenAPI document with every local $ref replaced by a copy of its target."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(_target(document, node["$ref"]))
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(copy.deepcopy(document))


def json_schema(schema: Any) -> Any:
    """A copy of a schema with OpenAPI 3.0's `nullable: true` said in JSON Schema: null among
    its types and its enum, and its allOf parts' (a nullable `$ref`, as Swashbuckle writes it
    and generators read it). Validators that know no OpenAPI (fastjsonschema, jsonschema) are
    given this."""
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    found = {key: json_schema(value) for key, value in schema.items() if key != "nullable"}
    return _admitting_null(found) if schema.get("nullable") is True else found


def _admitting_null(schema: dict[str, Any]) -> dict[str, Any]:
    found = dict(schema)
    if isinstance(found.get("type"), str):
        found["type"] = [found["type"], "null"]
    if "enum" in found and None not in found["enum"]:
        found["enum"] = [*found["enum"], None]
    if "allOf" in found:
        found["allOf"] = [_admitting_null(part) for part in found["allOf"]]
    return found


def _target(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, not {ref}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@cache
def operations(name: str = BUSINESS) -> dict[str, Operation]:
    return operations_in(resolved(name))


def operations_in(document: dict[str, Any]) -> dict[str, Operation]:
    """The operations of a resolved document, by operationId."""
    found = {}
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                spec = item[method]
                found[spec["operationId"]] = Operation(
                    spec["operationId"], method, path, spec, tuple(item.get("parameters", []))
                )
    return found


def operation(operation_id: str) -> Operation | None:
    return next(
        (operations(n)[operation_id] for n in CONTRACTS if operation_id in operations(n)), None
    )


@cache
def _routes() -> list[tuple[re.Pattern[str], Operation]]:
    """Every operation of every contract with the full-path pattern it serves."""
    routes = []
    for name in CONTRACTS:
        base = raw(name)["servers"][0]["url"].rstrip("/")
        for operation in operations(name).values():
            template = re.sub(r"\{[^}]+\}", "[^/]+", operation.path)
            routes.append((re.compile(re.escape(base) + template), operation))
    return routes


def operations_at(path: str) -> list[Operation]:
    """The operations, of any contract and method, whose path matches a request path."""
    return [operation for pattern, operation in _routes() if pattern.fullmatch(path)]


def operation_for(method: str, path: str) -> Operation | None:
    return next((o for o in operations_at(path) if o.method == method.lower()), None)


def schema(component: str, name: str = BUSINESS) -> dict[str, Any]:
    return resolved(name)["components"]["schemas"][component]


@cache
def fejlkode_catalogue() -> dict[int, tuple[str, str]]:
    """STAR's error catalogue (x-fejlkoder): fejlkode -> (fejltekst, beskrivelse)."""
    return {
        int(code): (entry["fejltekst"], entry["beskrivelse"])
        for code, entry in raw(BUSINESS)["x-fejlkoder"].items()
    }


def oauth2_scheme() -> dict[str, Any]:
    return raw(BUSINESS)["components"]["securitySchemes"]["oauth2"]


def scope_aliases() -> dict[str, list[str]]:
    """Scopes that count as others (x-scope-aliases), e.g. the seed's match.jobagent.writeread."""
    return oauth2_scheme().get("x-scope-aliases", {})


def allowed_organisations(operation_id: str) -> list[str] | None:
    """The organisation types an operation admits, or None when it names none."""
    found = operation(operation_id)
    return None if found is None else found.spec.get("x-allowed-organisations")


# statuses at which a fejlkode means the request broke the contract, not a rule
_CONTRACT_STATUSES = (400, 413, 415)


@cache
def provisional_rules(operation_id: str) -> dict[int, str]:
    """The fejlkoder whose rule is the mock's reading of the seed, and why
    (x-provisional-rules on the operation)."""
    found = operation(operation_id)
    assert found is not None, operation_id
    return {int(code): str(why) for code, why in found.spec.get("x-provisional-rules", {}).items()}


def rule_statuses(operation_id: str) -> dict[int, int]:
    """Each fejlkode an operation documents for refusals past the contract (404, 409, 422, 503,
    …) and its status there: what the rules may answer with, and how."""
    found = operation(operation_id)
    assert found is not None, operation_id
    return {
        code: status
        for status, codes in sorted(found.fejlkoder_by_status().items())
        if status not in _CONTRACT_STATUSES
        for code in codes
    }
