"""One exchange against the contract: what the contract says of the request (through the mock's
own validators), and each departure of the request's fate and of the answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connexion.utils import split_content_type
from jsonschema import Draft4Validator, ValidationError

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, InvalidInput
from jobagent_mock.journal.drift import Departure
from jobagent_mock.web.contract_violations import (
    ResponseValidator,
    declared_fejlkode,
    document_position,
    fejlkode_of,
    properties,
    validator_for,
)
from jobagent_mock.web.validators import check_body, check_parameter, parse_body

# jsonschema's keyword -> the drift kind a partner reads; any other keyword is its own kind
KINDS = {"additionalProperties": "unknown-property"}
UTF_8 = ("utf-8", "utf8")


@dataclass(frozen=True)
class Refusal:
    """What the contract refuses in a request: where, by which keyword, with which fejlkode."""

    place: str
    keyword: str
    fejlkode: int | None
    value: Any


@dataclass(frozen=True)
class Answer:
    """The upstream's answer as the checks read it: status, headers, the body (decoded)."""

    status: int
    headers: Mapping[str, str]
    body: bytes | None  # None: not read whole (too large, or an encoding the checks cannot undo)


def label(method: str, path: str, operation: spec.Operation | None) -> str:
    return operation.operation_id if operation else f"{method.upper()} {path}"


def refusals(
    operation: spec.Operation,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
) -> list[Refusal]:
    """What the contract refuses in a request, first refusal first (the one the mock answers),
    by the very checks the mock makes: web/validators.py's check_parameter, parse_body and
    check_body. Authorization is the upstream's own, never checked here."""
    found = _parameter_refusals(operation, path, headers, query)
    found += _body_refusals(operation, headers, body)
    return found


def _parameter_refusals(
    operation: spec.Operation, path: str, headers: Mapping[str, str], query: Mapping[str, str]
) -> list[Refusal]:
    template = re.sub(r"\{([^}]+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", operation.path)
    matched = re.search(template + "$", path)
    values = {
        "path": matched.groupdict() if matched else {},
        "header": headers,
        "query": query,
    }
    found = []
    declared_query = {p["name"] for p in operation.parameters if p["in"] == "query"}
    for name in sorted(set(query) - declared_query):
        found.append(
            Refusal(f"request.query.{name}", "unknown-parameter", FAILED_TO_VALIDATE, query[name])
        )
    # in the order the mock checks them (web/validators.ContractParameterValidator)
    order = ("path", "header", "query")
    for param in sorted(operation.parameters, key=lambda p: order.index(p["in"])):
        where, name = param["in"], param["name"]
        value = values.get(where, {}).get(name)
        try:
            check_parameter(where, param, value)
        except InvalidInput as refused:
            found.append(_explained(f"request.{where}.{name}", param, value, refused))
    return found


def _explained(place: str, param: dict[str, Any], value: Any, refused: InvalidInput) -> Refusal:
    if value is None:
        return Refusal(place, "required", refused.fejlkode, None)
    errors = list(validator_for(param.get("schema", {})).iter_errors(value))
    keyword = str(errors[0].validator) if errors else "invalid"
    return Refusal(place, keyword, refused.fejlkode, value)


def _body_refusals(
    operation: spec.Operation, headers: Mapping[str, str], raw: bytes
) -> list[Refusal]:
    declared = operation.spec.get("requestBody")
    if declared is None:
        return []
    if not raw:
        if declared.get("required"):
            return [Refusal("request.body", "required", FAILED_TO_VALIDATE, None)]
        return []
    mime_type, encoding = split_content_type(headers.get("content-type"))
    content = {k.lower(): v for k, v in declared.get("content", {}).items()}
    media = content.get((mime_type or "").lower())
    if media is None:
        return [
            Refusal("request.header.content-type", "content-type", FAILED_TO_VALIDATE, mime_type)
        ]
    schema = media.get("schema", {})
    try:
        body = parse_body(raw, encoding or "utf-8", schema)
    except InvalidInput as refused:
        return [Refusal("request.body", "json", refused.fejlkode, refused.detail)]
    try:
        check_body(body, schema)
    except InvalidInput as refused:
        errors = list(validator_for(schema).iter_errors(body))
        if not errors:  # JSON's null: no body
            return [Refusal("request.body", "required", refused.fejlkode, None)]
        # in document order, as the mock answers the first (contract_violations.violation)
        errors.sort(key=lambda error: document_position(body, error.absolute_path))
        return _each_once([refusal for error in errors for refusal in _body_refusals_of(error)])
    return []


def _each_once(refused: list[Refusal]) -> list[Refusal]:
    """jsonschema reports `required` once a missing property, each naming them all."""
    found: dict[tuple[str, str], Refusal] = {}
    for refusal in refused:
        found.setdefault((refusal.place, refusal.keyword), refusal)
    return list(found.values())


def _body_refusals_of(error: ValidationError) -> list[Refusal]:
    """A violation's refusals: a missing property's at its own place, as the answers' are."""
    if error.validator == "required" and isinstance(error.instance, dict):
        declared = properties(error.schema)
        return [
            Refusal(
                _place("request.body", error, missing),
                "required",
                declared_fejlkode(declared.get(missing, {}), "required"),
                None,
            )
            for missing in error.validator_value
            if missing not in error.instance
        ]
    return [
        Refusal(
            _place("request.body", error), str(error.validator), fejlkode_of(error), error.instance
        )
    ]


def _place(root: str, error: ValidationError, *more: str) -> str:
    steps = [str(step) for step in error.absolute_path] + list(more)
    return root + "".join(f"/{step}" for step in steps)


# -- the request's fate ------------------------------------------------------------------------


def request_departures(
    operation: str, refused: list[Refusal], answer: Answer, upstream_fejlkode: int | None
) -> list[Departure]:
    """How the upstream treated a request against what the contract says of it: accepted what
    the contract refuses, refused what it accepts, or refused it with another fejlkode."""
    if refused and answer.status < 400:
        return [
            Departure.of(
                operation,
                r.place,
                "request-accepted-by-upstream",
                f"the contract refuses it ({r.keyword}, fejlkode {r.fejlkode}); the upstream "
                f"answered {answer.status}",
                r.value,
            )
            for r in refused
        ]
    if refused and answer.status < 500 and upstream_fejlkode != refused[0].fejlkode:
        first = refused[0]
        return [
            Departure.of(
                operation,
                first.place,
                "request-refused-differently",
                f"the contract answers fejlkode {first.fejlkode} ({first.keyword}); the upstream "
                f"answered {answer.status} with fejlkode {upstream_fejlkode}",
                first.value,
                upstream_fejlkode,
            )
        ]
    if not refused and answer.status in (400, 413, 415):
        return [
            Departure.of(
                operation,
                "request",
                "request-refused-by-upstream",
                f"the contract accepts the request; the upstream answered {answer.status} "
                f"with fejlkode {upstream_fejlkode}",
                upstream_fejlkode,
                f"{answer.status} {upstream_fejlkode}",
            )
        ]
    return []


# -- the answer --------------------------------------------------------------------------------


def answer_departures(operation: spec.Operation, answer: Answer) -> list[Departure]:
    """The answer against what the contract documents for the operation: the status, its
    headers, the content type, the body against the schema, a problem's fejlkode and
    fejltekst."""
    name = operation.operation_id
    documented = operation.responses.get(str(answer.status), operation.responses.get("default"))
    if documented is None:
        listed = ", ".join(s for s in operation.responses if s.isdigit())
        detail = f"status {answer.status} is not documented (documented: {listed})"
        status = answer.status
        return [
            Departure.of(name, "response.status", "undocumented-status", detail, status, status)
        ]
    found = _header_departures(name, documented, answer.headers)
    found += _body_departures(name, documented, answer)
    return found


def _header_departures(
    name: str, documented: dict[str, Any], headers: Mapping[str, str]
) -> list[Departure]:
    found = []
    for header, declared in documented.get("headers", {}).items():
        value = headers.get(header.lower())
        place = f"response.header.{header}"
        if value is None:
            found.append(Departure.of(name, place, "missing-header", f"{header} is documented"))
            continue
        schema = declared.get("schema", {})
        typed: Any = int(value) if schema.get("type") == "integer" and value.isdigit() else value
        for error in Draft4Validator(
            schema, format_checker=Draft4Validator.FORMAT_CHECKER
        ).iter_errors(typed):
            found.append(Departure.of(name, place, str(error.validator), error.message, value))
    return found


def _body_departures(name: str, documented: dict[str, Any], answer: Answer) -> list[Departure]:
    content = {k.lower(): v for k, v in documented.get("content", {}).items()}
    mime_type, _ = split_content_type(answer.headers.get("content-type"))
    if not content:
        if answer.body:
            return [Departure.of(name, "response.body", "undocumented-body", "no body documented")]
        return []
    media = content.get((mime_type or "").lower())
    if media is None:
        listed = ", ".join(content)
        detail = f"content type {mime_type} is not documented (documented: {listed})"
        place = "response.header.content-type"
        return [Departure.of(name, place, "content-type", detail, mime_type or "", mime_type or "")]
    if answer.body is None:
        return []
    try:
        body = json.loads(answer.body)
    except ValueError as exc:
        return [Departure.of(name, "response.body", "not-json", str(exc))]
    found = schema_departures(name, media.get("schema", {}), body)
    if isinstance(body, dict) and "fejlkode" in body:
        found += _fejlkode_departures(name, documented, body)
    return found


def schema_departures(name: str, schema: dict[str, Any], body: Any) -> list[Departure]:
    """The body against the response schema, one departure a place and keyword; a property the
    contract's closed object does not declare is `unknown-property`, at its own place."""
    found = []
    for error in _response_validator(schema).iter_errors(body):
        kind = KINDS.get(str(error.validator), str(error.validator))
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            declared = properties(error.schema)
            for extra in (k for k in error.instance if k not in declared):
                place = _place("response.body", error, extra)
                found.append(Departure.of(name, place, kind, error.message, error.instance[extra]))
        elif error.validator == "required" and isinstance(error.instance, dict):
            for missing in (k for k in error.validator_value if k not in error.instance):
                place = _place("response.body", error, missing)
                found.append(Departure.of(name, place, kind, f"{missing} is required"))
        else:
            place = _place("response.body", error)
            found.append(Departure.of(name, place, kind, error.message, error.instance))
    for pointer, value in _undeclared(schema, body, ""):
        detail = "a property the contract does not declare (the object is open: D-5; drift "
        detail += "all the same: D-51)"
        place = f"response.body{pointer}"
        found.append(Departure.of(name, place, "unknown-property", detail, value))
    return found


def _undeclared(schema: dict[str, Any], instance: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """Properties of an answer that an open object of the contract does not declare: the
    contract is a reconstruction, and a field STAR sends that it lacks is drift too. (A closed
    object's are jsonschema's additionalProperties errors, above.)"""
    if isinstance(instance, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(instance):
                yield from _undeclared(items, item, f"{pointer}/{index}")
        return
    declared = properties(schema)
    if not isinstance(instance, dict) or not declared:
        return
    closed = schema.get("additionalProperties") is False
    for key, value in instance.items():
        if key in declared:
            yield from _undeclared(declared[key], value, f"{pointer}/{key}")
        elif not closed:
            yield f"{pointer}/{key}", value


def _fejlkode_departures(
    name: str, documented: dict[str, Any], body: dict[str, Any]
) -> list[Departure]:
    code = body.get("fejlkode")
    listed = documented.get("x-fejlkoder", [])
    catalogue = spec.fejlkode_catalogue()
    found = []
    if code not in listed:
        where = "in" if code in catalogue else "nowhere in"
        detail = f"fejlkode {code} is not documented for this status (it is {where} the "
        detail += "contract's catalogue; listed: " + (", ".join(map(str, listed)) or "none") + ")"
        place = "response.body/fejlkode"
        found.append(Departure.of(name, place, "undocumented-fejlkode", detail, code, code))
    if isinstance(code, int) and code in catalogue and body.get("fejltekst") != catalogue[code][0]:
        detail = f"fejlkode {code}: the contract's fejltekst is {catalogue[code][0]!r}"
        place = "response.body/fejltekst"
        sent = body.get("fejltekst")
        found.append(Departure.of(name, place, "fejltekst-differs", detail, sent, code))
    return found


# id(schema) -> (schema, its response validator), built once
_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}


def _response_validator(schema: dict[str, Any]) -> Any:
    """The answers' validator the mock's own response validation uses (connexion's), with the
    request validator's pattern and format checks: a pattern's departure says the contract's
    `x-expected` words, never the raw regex."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        validator = ResponseValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        cached = _VALIDATORS[id(schema)] = (schema, validator)
    return cached[1]


def problem_fejlkode(answer: Answer) -> int | None:
    """The fejlkode of an answer's Problem body, if it has one."""
    if answer.body is None or answer.status < 400:
        return None
    try:
        body = json.loads(answer.body)
    except ValueError:
        return None
    code = body.get("fejlkode") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
