"""What changed between two versions of a contract, on its resolved schemas, and what breaks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jobagent_mock.foundations import spec

# A request schema that admits less breaks the clients that send what it no longer admits;
# a response schema that admits more breaks the clients that read what they did not expect.
REQUEST, RESPONSE = "request", "response"
NARROWS, WIDENS, BOTH = "narrows", "widens", "both"
UPPER_BOUNDS = ("maxLength", "maximum", "maxItems")
LOWER_BOUNDS = ("minLength", "minimum", "minItems")
# added, these admit fewer values; removed, more; changed, other ones
EXACT = ("type", "format", "pattern", "default", "x-fejlkode")


@dataclass(frozen=True, order=True)
class Change:
    where: str  # "CreateJobagent (POST /v1/Jobagent) request body `jobagent.email`"
    what: str
    breaking: bool

    def line(self) -> str:
        return f"{'BREAKING' if self.breaking else 'ok      '}  {self.where}: {self.what}"


def load(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=spec.YAML_LOADER)  # noqa: S506 (a safe loader)
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{path} is not an OpenAPI document")
    return document


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change a client could notice from `old` to `new`, breaking ones first."""
    old, new = spec.resolve(old), spec.resolve(new)
    found = [*_server_changes(old, new), *_scheme_changes(old, new)]
    old_ops, new_ops = _operations(old), _operations(new)
    for key in sorted(old_ops.keys() | new_ops.keys()):
        if key not in new_ops:
            found.append(Change(_name(old_ops[key]), "operation removed", True))
        elif key not in old_ops:
            found.append(Change(_name(new_ops[key]), "operation added", False))
        else:
            found += _operation_changes(old_ops[key], new_ops[key], old, new)
    found += _catalogue_changes(old, new)
    return sorted(found, key=lambda change: (not change.breaking, change.where, change.what))


def _operations(document: dict[str, Any]) -> dict[str, spec.Operation]:
    by_route = {}
    for operation in spec.operations_in(document).values():
        by_route[f"{operation.method.upper()} {operation.path}"] = operation
    return by_route


def _name(operation: spec.Operation) -> str:
    return f"{operation.operation_id} ({operation.method.upper()} {operation.path})"


def _server_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    before, after = _base_url(old), _base_url(new)
    if before != after:
        yield Change("servers", f"base URL {before} → {after}", True)


def _scheme_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    """Where a token comes from, and the scope spellings a token may carry instead."""
    before, after = _schemes(old), _schemes(new)
    for name in sorted(before.keys() | after.keys()):
        where = f"security scheme {name}"
        if name not in after or name not in before:
            yield Change(where, "removed" if name in before else "added", name in before)
            continue
        for what in ("type", "in", "name", "scheme", "tokenUrl"):
            if _facts(before[name])[what] != _facts(after[name])[what]:
                shown = f"{_facts(before[name])[what]} → {_facts(after[name])[what]}"
                yield Change(where, f"{what} {shown}", True)
        aliases = before[name].get("x-scope-aliases", {}).keys()
        for alias in sorted(aliases - after[name].get("x-scope-aliases", {}).keys()):
            yield Change(where, f"scope alias {alias} no longer accepted", True)


def _schemes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(document.get("components", {}).get("securitySchemes", {}))


def _facts(scheme: dict[str, Any]) -> dict[str, Any]:
    flows = scheme.get("flows", {})
    token_urls = sorted(flow["tokenUrl"] for flow in flows.values() if "tokenUrl" in flow)
    return {key: scheme.get(key) for key in ("type", "in", "name", "scheme")} | {
        "tokenUrl": ", ".join(token_urls) or None
    }


def _base_url(document: dict[str, Any]) -> str:
    return str(document.get("servers", [{"url": "/"}])[0]["url"])


def _operation_changes(
    old: spec.Operation, new: spec.Operation, old_doc: dict[str, Any], new_doc: dict[str, Any]
) -> list[Change]:
    where = _name(new)
    found = []
    if old.operation_id != new.operation_id:
        # generated clients name their methods after it
        found.append(Change(where, f"operationId {old.operation_id} → {new.operation_id}", True))
    found += _security_changes(where, _security(old, old_doc), _security(new, new_doc))
    found += _organisation_changes(where, old.spec, new.spec)
    found += _parameter_changes(where, old, new)
    found += _request_body_changes(where, old.spec.get("requestBody"), new.spec.get("requestBody"))
    found += _response_changes(where, old.responses, new.responses)
    return found


def _security(operation: spec.Operation, document: dict[str, Any]) -> list[dict[str, list[str]]]:
    """The alternatives a caller may meet; one that needs nothing when there is no security."""
    alternatives = operation.spec.get("security", document.get("security", []))
    return alternatives or [{}]


def _security_changes(
    where: str, old: list[dict[str, list[str]]], new: list[dict[str, list[str]]]
) -> Iterator[Change]:
    if old == new:
        return

    def admitted(had: dict[str, list[str]]) -> bool:
        """A caller that met this old alternative still meets a new one."""
        return any(
            alternative.keys() <= had.keys()
            and all(set(scopes) <= set(had[name]) for name, scopes in alternative.items())
            for alternative in new
        )

    yield Change(
        where, f"security {_shown(old)} → {_shown(new)}", not all(admitted(a) for a in old)
    )


def _shown(security: list[dict[str, list[str]]]) -> str:
    alternatives = [
        " + ".join(f"{name} [{' '.join(scopes)}]" for name, scopes in a.items()) or "none"
        for a in security
    ]
    return " or ".join(alternatives)


def _organisation_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    before = old.get("x-allowed-organisations")
    after = new.get("x-allowed-organisations")
    if before == after:
        return
    if before is None or after is None:
        shown = ["any" if o is None else ", ".join(o) for o in (before, after)]
        yield Change(where, f"allowed organisations {shown[0]} → {shown[1]}", after is not None)
        return
    for organisation in sorted(set(before) - set(after)):
        yield Change(where, f"organisation {organisation} no longer allowed", True)
    for organisation in sorted(set(after) - set(before)):
        yield Change(where, f"organisation {organisation} now allowed", False)


def _parameter_changes(where: str, old: spec.Operation, new: spec.Operation) -> Iterator[Change]:
    before, after = _parameters(old), _parameters(new)
    for key in sorted(before.keys() | after.keys()):
        place, name = key
        subject = f"{where} {place} parameter `{name}`"
        if key not in after:
            yield Change(subject, "removed (sending it does no harm)", False)
        elif key not in before:
            required = bool(after[key].get("required"))
            yield Change(subject, f"added, {_required(required)}", required)
        else:
            yield from _required_changes(subject, before[key], after[key], REQUEST)
            yield from schema_changes(
                before[key].get("schema", {}), after[key].get("schema", {}), subject, REQUEST
            )


def _parameters(operation: spec.Operation) -> dict[tuple[str, str], dict[str, Any]]:
    # HTTP header names are case-insensitive; the others are not
    return {
        (p["in"], p["name"].lower() if p["in"] == "header" else p["name"]): p
        for p in operation.parameters
    }


def _required(required: bool) -> str:
    return "required" if required else "optional"


def _required_changes(
    subject: str, old: dict[str, Any], new: dict[str, Any], side: str
) -> Iterator[Change]:
    before, after = bool(old.get("required")), bool(new.get("required"))
    if before != after:
        # a client must send more, or may receive less
        yield Change(subject, f"became {_required(after)}", after if side == REQUEST else before)


def _request_body_changes(
    where: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> Iterator[Change]:
    subject = f"{where} request body"
    if old is None and new is None:
        return
    if old is None or new is None:
        added = new is not None
        required = bool(new and new.get("required"))
        yield Change(subject, "added" if added else "removed", added and required)
        return
    yield from _required_changes(subject, old, new, REQUEST)
    yield from _content_changes(subject, old.get("content", {}), new.get("content", {}), REQUEST)


def _content_changes(
    subject: str, old: dict[str, Any], new: dict[str, Any], side: str
) -> Iterator[Change]:
    for media_type in sorted(old.keys() - new.keys()):
        yield Change(subject, f"media type {media_type} removed", True)
    for media_type in sorted(new.keys() - old.keys()):
        yield Change(subject, f"media type {media_type} added", False)
    for media_type in sorted(old.keys() & new.keys()):
        shown = subject if len(new) == 1 else f"{subject} ({media_type})"
        yield from schema_changes(
            old[media_type].get("schema", {}), new[media_type].get("schema", {}), shown, side
        )


def _response_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    for status in sorted(old.keys() - new.keys()):
        # a client is built around the success it expects; an error status it may not get again
        yield Change(where, f"status {status} removed", status.startswith("2"))
    for status in sorted(new.keys() - old.keys()):
        yield Change(where, f"status {status} added", False)
    yield from _fejlkode_changes(where, old, new)
    for status in sorted(old.keys() & new.keys()):
        subject = f"{where} response {status}"
        yield from _header_changes(subject, old[status], new[status])
        yield from _content_changes(
            subject, old[status].get("content", {}), new[status].get("content", {}), RESPONSE
        )


def _fejlkode_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    before, after = _statuses_by_fejlkode(old), _statuses_by_fejlkode(new)
    for code in sorted(before.keys() | after.keys()):
        had, has = before.get(code, set()), after.get(code, set())
        if had and has and had != has:
            # a client that handles this fejlkode under its old status misses it
            yield Change(
                where, f"fejlkode {code} moved: status {_joined(had)} → {_joined(has)}", True
            )
        elif not has:
            successors = sorted(c for c in after.keys() - before.keys() if after[c] & had)
            # where another code now stands at the same status, the one a client branched on was
            # probably replaced (4338 by 4749 in 2.0.0): its branch misses the new one
            instead = f", new at that status: {_few(successors)}" if successors else ""
            yield Change(
                where,
                f"fejlkode {code} no longer returned ({_joined(had)}){instead}",
                bool(successors),
            )
        elif not had:
            yield Change(where, f"may now return fejlkode {code} ({_joined(has)})", False)


def _statuses_by_fejlkode(responses: dict[str, Any]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for status, response in responses.items():
        for code in response.get("x-fejlkoder", []):
            found.setdefault(code, set()).add(status)
    return found


def _joined(statuses: set[str]) -> str:
    return ", ".join(sorted(statuses))


def _header_changes(subject: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    before, after = _headers(old), _headers(new)
    for name in sorted(before.keys() - after.keys()):
        yield Change(f"{subject} header `{name}`", "removed", True)
    for name in sorted(after.keys() - before.keys()):
        yield Change(f"{subject} header `{name}`", "added", False)
    for name in sorted(before.keys() & after.keys()):
        header = f"{subject} header `{name}`"
        yield from _required_changes(header, before[name], after[name], RESPONSE)
        yield from schema_changes(
            before[name].get("schema", {}), after[name].get("schema", {}), header, RESPONSE
        )


def _headers(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name.lower(): header for name, header in response.get("headers", {}).items()}


def schema_changes(
    old: dict[str, Any], new: dict[str, Any], subject: str, side: str, at: str = ""
) -> Iterator[Change]:
    """The changes of a schema read on one side of the exchange, `at` naming the property."""
    old, new = flattened(old), flattened(new)
    place = f"{subject} `{at}`" if at else subject
    for keyword, what, effect in _keyword_changes(old, new):
        if keyword != "x-fejlkode" or side == REQUEST:
            yield Change(place, what, _breaks(effect, side))
    yield from _enum_changes(place, old.get("enum"), new.get("enum"), side)
    yield from _property_changes(old, new, subject, side, at)
    if "items" in old and "items" in new:
        yield from schema_changes(old["items"], new["items"], subject, side, f"{at}[]")


def flattened(schema: dict[str, Any]) -> dict[str, Any]:
    """One schema for an allOf: properties and required merged, the outer keywords first."""
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    for part in map(flattened, schema.get("allOf", [])):
        for key, value in part.items():
            merged.setdefault(key, value)
        merged["properties"] = {**part.get("properties", {}), **merged.get("properties", {})}
        merged["required"] = sorted({*part.get("required", []), *merged.get("required", [])})
    return merged


def _breaks(effect: str, side: str) -> bool:
    return effect == BOTH or effect == (NARROWS if side == REQUEST else WIDENS)


def _keyword_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(keyword, what changed, whether the schema now admits less, more or other values)."""
    for keyword in (*UPPER_BOUNDS, *LOWER_BOUNDS, *EXACT, "nullable", "uniqueItems"):
        before, after = old.get(keyword), new.get(keyword)
        if before == after:
            continue
        what = f"{keyword} {_value(before)} → {_value(after)}"
        yield keyword, what, _effect(keyword, before, after)


def _value(value: Any) -> str:
    return (
        "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


def _effect(keyword: str, before: Any, after: Any) -> str:
    if keyword in UPPER_BOUNDS or keyword in LOWER_BOUNDS:
        if before is None or after is None:
            return NARROWS if before is None else WIDENS
        return NARROWS if (after < before) == (keyword in UPPER_BOUNDS) else WIDENS
    if keyword in ("nullable", "uniqueItems"):
        # nullable true admits more; uniqueItems true admits less
        return WIDENS if bool(after) == (keyword == "nullable") else NARROWS
    if keyword in ("default", "x-fejlkode") or None not in (before, after):
        return BOTH  # another value, neither more nor fewer
    return NARROWS if before is None else WIDENS


def _enum_changes(
    place: str, old: list[Any] | None, new: list[Any] | None, side: str
) -> Iterator[Change]:
    if old == new:
        return
    if old is None or new is None:
        what = "enum added" if old is None else "enum removed"
        effect = NARROWS if old is None else WIDENS
        yield Change(place, f"{what}: {_listed(new or old or [])}", _breaks(effect, side))
        return
    removed = [value for value in old if value not in new]
    added = [value for value in new if value not in old]
    if removed:
        yield Change(place, f"enum values removed: {_listed(removed)}", _breaks(NARROWS, side))
    if added:
        yield Change(place, f"enum values added: {_listed(added)}", _breaks(WIDENS, side))


def _few(codes: list[int]) -> str:
    return _listed(codes) if len(codes) <= 3 else f"{len(codes)} fejlkoder"


def _listed(values: list[Any]) -> str:
    return ", ".join(map(str, values))


def _property_changes(
    old: dict[str, Any], new: dict[str, Any], subject: str, side: str, at: str
) -> Iterator[Change]:
    before, after = _seen(old, side), _seen(new, side)
    required_before, required_after = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(before.keys() | after.keys()):
        path = f"{at}.{name}" if at else name
        place = f"{subject} `{path}`"
        if name not in after:
            # a request property the server stops reading is ignored when sent
            what = "property removed" if side == RESPONSE else "property removed (ignored if sent)"
            yield Change(place, what, side == RESPONSE)
        elif name not in before:
            required = name in required_after
            yield Change(
                place, f"property added, {_required(required)}", required and side == REQUEST
            )
        else:
            yield from _required_changes(
                place,
                {"required": name in required_before},
                {"required": name in required_after},
                side,
            )
            yield from schema_changes(before[name], after[name], subject, side, path)


def _seen(schema: dict[str, Any], side: str) -> dict[str, Any]:
    """The properties a side exchanges: a request carries no readOnly, a response no writeOnly."""
    hidden = "readOnly" if side == REQUEST else "writeOnly"
    return {
        name: value
        for name, value in schema.get("properties", {}).items()
        if not flattened(value).get(hidden)
    }


def _catalogue_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    before, after = old.get("x-fejlkoder", {}), new.get("x-fejlkoder", {})
    for code in sorted(before.keys() | after.keys(), key=int):
        where = f"fejlkode {code}"
        if code not in after:
            yield Change(where, "removed from the catalogue (x-fejlkoder)", False)
        elif code not in before:
            yield Change(where, f"added to the catalogue: {after[code]['fejltekst']}", False)
        elif before[code]["fejltekst"] != after[code]["fejltekst"]:
            what = f"fejltekst {before[code]['fejltekst']!r} → {after[code]['fejltekst']!r}"
            yield Change(where, what, False)
