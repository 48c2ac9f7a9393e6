"""Contract violations as STAR answers them: ASP.NET-style binding, and each violation's code.

The contract says which code a violation yields (`x-fejlkode` on the schema: a number for every
violation of that value, or a map from JSON Schema keyword to number); everything else is 1014.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import fastjsonschema
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema import validators as jsonschema_validators
from jsonschema.exceptions import FormatError

from jobagent_mock.foundations import jsontext, readings, spec
from jobagent_mock.foundations.errors import FAILED_TO_VALIDATE, InvalidInput


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    match = re.search(pattern, instance)
    # In ECMA-262 (the contract's regex dialect) `$` matches only at the very end; in Python it
    # also matches before a final newline, which would let "x@y\n" pass as an e-mail address.
    if match is None or (pattern.endswith("$") and match.end() != len(instance)):
        yield ValidationError(f"{json_text(instance)} is not {expected_form(schema)}")


def _format(
    validator: Any, format_name: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.format_checker is None:
        return
    try:
        validator.format_checker.check(instance, format_name)
    except FormatError:
        yield ValidationError(f"{json_text(instance)} is not {expected_form(schema)}")


def expected_form(schema: dict[str, Any]) -> str:
    """What a pattern asks for, in words: the contract's `x-expected`, else the first sentence
    of the schema's description; a partner never reads the raw pattern."""
    if "x-expected" in schema:
        return str(schema["x-expected"])
    first = " ".join(str(schema.get("description", "")).split()).split(". ")[0].rstrip(".")
    return f"of the form the contract describes: {first}" if first else "of the expected form"


def _closed(
    validator: Any, allowed: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """A closed object (`additionalProperties: false`) names each unknown key and what it
    allows, at the key, rather than jsonschema's "Additional properties are not allowed"."""
    if (
        allowed is not False
        or "patternProperties" in schema
        or not validator.is_type(instance, "object")
    ):
        yield from _ADDITIONAL(validator, allowed, instance, schema)
        return
    declared = list(properties(schema))
    for key in instance:
        if key not in declared:
            words = ", ".join(declared) or "nothing"
            yield ValidationError(
                f"{json_text(key)} is not a field here: allowed are {words}", path=[key]
            )


def json_text(value: Any) -> str:
    """A value as a detail names it: as JSON (null, true, "text"), never as Python writes it."""
    try:
        return jsontext.dumps(value)
    except TypeError:
        return repr(value)


def _in_json(check: Any) -> Any:
    """A keyword's check whose messages name the instance and the keyword's value as JSON:
    jsonschema writes them as Python does (None, True, 'text')."""

    def checked(
        validator: Any, value: Any, instance: Any, schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        for error in check(validator, value, instance, schema) or ():
            error.message = _json_words(error.message, instance, value)
            yield error

    return checked


def _json_words(message: str, instance: Any, value: Any) -> str:
    named = [instance, value] + (list(value) if isinstance(value, list) else [])
    for shown in named:
        if isinstance(shown, str | bool | list | dict) or shown is None:
            message = message.replace(repr(shown), json_text(shown))
    return message


# keywords that only descend: their errors are their parts', worded there already
_DESCENDING = frozenset({"$ref", "allOf", "anyOf", "oneOf", "properties", "items", "dependencies"})


def _said_in_json(validator_class: Any, own: dict[str, Any]) -> Any:
    checks = {**validator_class.VALIDATORS, **own}
    return jsonschema_validators.extend(
        validator_class,
        {k: _in_json(check) for k, check in checks.items() if k not in _DESCENDING},
    )


_ADDITIONAL = Draft4RequestValidator.VALIDATORS["additionalProperties"]
RequestValidator = _said_in_json(
    Draft4RequestValidator,
    {"pattern": _ecma_pattern, "format": _format, "additionalProperties": _closed},
)
# Draft 4's checks (a copy: jsonschema's own stays as it is) and `format: date`, which Draft 4
# does not know: a date the handler cannot read (2026-02-29, 0000-00-00) is a 400, never a 500
FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checkers = dict(Draft4Validator.FORMAT_CHECKER.checkers)
_CALENDAR_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    """RFC 3339's full-date, a day of the calendar that Python's date can hold."""
    if not isinstance(value, str):
        return True
    return _CALENDAR_DATE.fullmatch(value) is not None and bool(date.fromisoformat(value))


# an answer checked as a request is (the validating proxy's): a pattern said in words too
ResponseValidator = _said_in_json(
    Draft4ResponseValidator, {"pattern": _ecma_pattern, "format": _format}
)
# id(schema) -> (schema, its validator); the schemas live as long as the app, so one each
_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}


def validator_for(schema: dict[str, Any]) -> Any:
    """The request validator of a contract schema, built once."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _VALIDATORS[id(schema)] = (
            schema,
            RequestValidator(spec.json_schema(schema), format_checker=FORMAT_CHECKER),
        )
    return cached[1]


# id(schema) -> (schema, its yes/no check)
_CHECKS: dict[int, tuple[dict[str, Any], Callable[[Any], bool]]] = {}
DRAFT_4 = "http://json-schema.org/draft-04/schema#"


def is_valid_for(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """A yes/no answer to "does validator_for(schema) find nothing?", much faster than
    jsonschema on CreateJobagent's body (bench/results.md).

    fastjsonschema compiles the schema to Python, as Draft 4, with the same format checks (every
    format the schema names is asked of FORMAT_CHECKER, which passes those it does not know) and
    ECMA's `$`; OpenAPI's `nullable` said in JSON Schema (spec.json_schema), as the slow check
    is given it. tests/unit/test_contract_violations.py holds the two to the same answers.
    """
    cached = _CHECKS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _CHECKS[id(schema)] = (schema, _compile_check(schema))
    return cached[1]


def _compile_check(schema: dict[str, Any]) -> Callable[[Any], bool]:
    formats = {name: _format_check(name) for name in _formats(schema)}
    compiled = fastjsonschema.compile(
        {**spec.json_schema(schema), "$schema": DRAFT_4}, formats=formats, use_default=False
    )

    def check(instance: Any) -> bool:
        try:
            compiled(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check


def _format_check(name: str) -> Callable[[Any], bool]:
    return lambda value: FORMAT_CHECKER.conforms(value, name)


def _formats(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["format"]} if isinstance(node.get("format"), str) else set()
        return own.union(*(_formats(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(item) for item in node))
    return set()


def violation(
    errors: list[ValidationError],
    location: str,
    document: Any = None,
    schema: dict[str, Any] | None = None,
) -> InvalidInput:
    """One InvalidInput for all violations; its fejlkode is the first violation's in document
    order (D-2): as the request wrote its properties, array items by index. `schema` is the
    one the document was checked against (a null is refused with its place's missing-value
    code, which the place's own schema names)."""
    ordered = sorted(errors, key=lambda e: document_position(document, e.absolute_path))
    by_place: dict[str, list[str]] = {}
    for error in ordered:
        by_place.setdefault(place(location, error.absolute_path), []).append(_said(error, location))
    first = ordered[0]
    detail = f"{place(location, first.absolute_path)}: {_said(first, location)}"
    return InvalidInput(fejlkode_of(first, schema), detail, by_place)


# the keywords whose bounds the contract traces to a seed line (x-seed-line) or flags as the
# mock's own (x-provisional); tests/unit/test_seed_fidelity.py holds every one to it
BOUNDS = ("maximum", "maxLength", "maxItems", "minimum", "pattern", "enum")


def provisional_bound(schema: dict[str, Any], keyword: str) -> str | None:
    """Why a bound is the mock's own, or None where the seed gives it: a schema's
    x-provisional (its reason, when a text) unless its x-seed-line names the keyword."""
    if keyword not in BOUNDS or not schema.get("x-provisional"):
        return None
    seed_line = schema.get("x-seed-line")
    if seed_line is not None and (not isinstance(seed_line, dict) or keyword in seed_line):
        return None
    reason = schema["x-provisional"]
    return reason if isinstance(reason, str) else "a provisional code list or value"


def _said(error: ValidationError, location: str) -> str:
    """The violation's message; a refusal by a bound the seed does not give says so, in the
    detail and in x-mock-warning (D-56)."""
    reason = provisional_bound(error.schema, str(error.validator))
    if reason is None:
        return error.message
    readings.note(
        f"{place(location, error.absolute_path)} refused by a provisional bound "
        f"({error.validator}), not the seed's"
    )
    return f"{error.message} (a provisional bound, not the seed's: {reason})"


def document_position(document: Any, path: Any) -> tuple[int, ...]:
    """Where a path lies in the document: each step's index among its siblings, as sent."""
    position: list[int] = []
    node = document
    for part in path:
        if isinstance(node, dict):
            keys = list(node)
            position.append(keys.index(part) if part in node else len(keys))
        elif isinstance(node, list) and isinstance(part, int):
            position.append(part)
        else:
            position.append(0)
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
    return tuple(position)


def _has(node: dict[str, Any] | list[Any], part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)


def place(location: str, path: Any) -> str:
    text = location
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def fejlkode_of(error: ValidationError, root: dict[str, Any] | None = None) -> int:
    if error.instance is None and error.validator == "type" and root is not None:
        # null where a value is required reads as no value (as ASP.NET binds it): the code of
        # the value's absence, named by the schema at its place (allOf parts included)
        return declared_fejlkode(_declared_at(root, error.absolute_schema_path), "required")
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return declared_fejlkode(properties(error.schema).get(missing[0], {}), "required")
    return declared_fejlkode(error.schema, str(error.validator))


def _declared_at(root: dict[str, Any], schema_path: Any) -> dict[str, Any]:
    """The schema a place declares, from a violation's schema path: the path without its
    keyword and the allOf steps that led into the declaration's parts."""
    steps = list(schema_path)[:-1]
    while len(steps) >= 2 and steps[-2] == "allOf":
        steps = steps[:-2]
    node: Any = root
    for step in steps:
        node = node[step]
    return node if isinstance(node, dict) else {}


def declared_fejlkode(schema: dict[str, Any], keyword: str) -> int:
    """The x-fejlkode a schema (or a part of its allOf) names for a keyword, else 1014."""
    declared = schema.get("x-fejlkode")
    if isinstance(declared, int):
        return declared
    if isinstance(declared, dict) and keyword in declared:
        return int(declared[keyword])
    for part in schema.get("allOf", []):
        code = declared_fejlkode(part, keyword)
        if code != FAILED_TO_VALIDATE:
            return code
    return FAILED_TO_VALIDATE


def properties(schema: dict[str, Any]) -> dict[str, Any]:
    """The properties a schema declares, its allOf parts' included."""
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(properties(part))
    return found


def canonical(
    instance: Any, schema: dict[str, Any], name: str = "body", where: str = "body"
) -> Any:
    """The instance with property names bound as ASP.NET binds them: case-insensitively, the
    contract's aliases (x-aliases) accepted, unknown and read-only properties dropped. Every
    reading the seed leaves open that the instance relies on is noted (foundations/readings.py).
    An array longer than its maxItems is refused here, at `where`, before any item is bound or
    checked."""
    if isinstance(instance, list):
        _refuse_too_many(instance, schema, where)
        items = _merged_items(schema)
        if not items:
            return instance
        return [
            canonical(item, items, name, f"{where}[{index}]") for index, item in enumerate(instance)
        ]
    if not isinstance(instance, dict):
        return _scalar(instance, schema, name)
    binding = _binding(schema)
    if not binding.declared:
        return instance
    bound: dict[str, Any] = {}
    for key, value in instance.items():
        _bind(key, value, binding, bound, where)
    for absent, phrase in binding.defaults.items():
        if absent not in bound:
            readings.note(phrase)
    return bound


def _bind(key: str, value: Any, binding: _Binding, bound: dict[str, Any], where: str) -> None:
    """One property of the instance into `bound`, under the name it binds to."""
    spelling = key.lower()
    name = binding.names.get(spelling)
    if name is None:
        _unknown(key, value, binding, bound)
        return
    if value is None and name in binding.null_as_absent:  # as ASP.NET binds it: not given
        return
    if spelling in binding.aliases:
        alias, wraps = binding.aliases[spelling]
        if name in bound:  # given by its own name too: that one counts
            readings.note(f"{alias} ignored ({name} given too)")
            return
        readings.note(f"{alias} read as {name}")
        value = _unwrapped(value, wraps)
    elif name in bound:  # its alias came first: this, its own name, counts
        readings.note(f"{name} given too: its alias ignored")
    schema = binding.declared[name]
    if reading := schema.get("x-reading"):
        readings.note(reading)
    if isinstance(value, dict) and (member := binding.wrapped.get(name)):
        value = _wrapped_list(key, value, member)
    bound[name] = canonical(value, schema, name, f"{where}.{name}")


def _unknown(key: str, value: Any, binding: _Binding, bound: dict[str, Any]) -> None:
    """A property the schema does not declare: kept where the schema refuses it (a closed
    object, admin.yaml's own), else ignored, as ASP.NET does, and said: a typo must not go
    unseen."""
    if binding.closed:
        bound[key] = value
        return
    why = "read-only" if key.lower() in binding.read_only else "no such field here"
    readings.note(f"{key} ignored ({why})")


def _refuse_too_many(instance: list[Any], schema: dict[str, Any], where: str) -> None:
    """An array past its maxItems, refused before its items cost anything: jsonschema would
    check every item (uniqueItems of objects in quadratic time) and quote the whole array."""
    limit = _max_items(schema)
    if limit is not None and len(instance) > limit:
        why = f"{len(instance)} items, more than the {limit} allowed"
        raise InvalidInput(declared_fejlkode(schema, "maxItems"), f"{where}: {why}", {where: [why]})


def _max_items(schema: dict[str, Any]) -> int | None:
    limits = [schema["maxItems"]] if "maxItems" in schema else []
    limits += [m for part in schema.get("allOf", []) if (m := _max_items(part)) is not None]
    return min(limits, default=None)


def _wrapped_list(key: str, value: dict[str, Any], member: str) -> Any:
    """A list sent in the seed's collection shape (`"Joboensker": {"JoboenskeDto": [...]}`,
    x-wraps): its member, said; anything else stays for the validator to refuse."""
    for name, inner in value.items():
        if name.lower() == member.lower():
            readings.note(
                f"{key}: {{{name}: [...]}} read as the list (the seed's collection shape)"
            )
            return inner
    return value


def _unwrapped(value: Any, member: str | None) -> Any:
    """The value of an alias that wraps the property in an object of its own (the seed's
    `Profession: {ProfessionType: [...]}` for `joboensker: [...]`)."""
    if member is None or not isinstance(value, dict):
        return value
    return next((v for k, v in value.items() if k.lower() == member.lower()), [])


# id(schema) -> (schema, the values of its provisional code list or None, the time zone a
# date-time without an offset is read in or None), built once
_SCALARS: dict[int, tuple[dict[str, Any], list[Any] | None, ZoneInfo | None]] = {}
# a date, or a date and time, without an offset: what .NET writes for DateTime of kind Unspecified
_OFFSETLESS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?)?"
)


def _scalar(value: Any, schema: dict[str, Any], name: str) -> Any:
    cached = _SCALARS.get(id(schema))
    if cached is None or cached[0] is not schema:
        zone = _inherited(schema, "x-local-time-zone")
        cached = _SCALARS[id(schema)] = (
            schema,
            _provisional_enum(schema),
            ZoneInfo(zone) if zone else None,
        )
    _, enum, zone = cached
    if enum is not None and value in enum and not isinstance(value, bool):
        readings.note(f"{name}={value} is a provisional code")
    if zone is not None and isinstance(value, str) and _OFFSETLESS.fullmatch(value):
        return _in_local_time(value, zone, name)
    return value


def _in_local_time(value: str, zone: ZoneInfo, name: str) -> str:
    """A date-time without an offset, read as the contract's local time (x-local-time-zone,
    D-54), as an ASP.NET server reads a DateTime of kind Unspecified: with that offset."""
    try:
        local = datetime.fromisoformat(value).replace(tzinfo=zone)
        offset = local.strftime("%z")
    except (ValueError, OverflowError):
        return value  # no such date: the validator says so
    readings.note(f"{name} {value} read as Danish local time ({offset[:3]}:{offset[3:]})")
    return local.isoformat()


def _inherited(schema: dict[str, Any], keyword: str) -> Any:
    if keyword in schema:
        return schema[keyword]
    return next((v for p in schema.get("allOf", []) if (v := _inherited(p, keyword))), None)


def _provisional_enum(schema: dict[str, Any]) -> list[Any] | None:
    if schema.get("x-provisional") and "enum" in schema:
        return list(schema["enum"])
    return next((e for p in schema.get("allOf", []) if (e := _provisional_enum(p))), None)


@dataclass(frozen=True)
class _Binding:
    names: dict[str, str]  # lower-case spelling -> property
    aliases: dict[str, tuple[str, str | None]]  # lower-case alias -> (alias, member it wraps)
    declared: dict[str, Any]  # writable property -> its schema
    # property -> the reading noted when it is absent: the default the mock assumes, or a
    # requirement of the seed it relaxes (x-relaxed-required)
    defaults: dict[str, str]
    read_only: frozenset[str]  # lower-case names the server sets, dropped on input
    # property -> the member its list may come wrapped in (x-wraps: the seed's collection shape)
    wrapped: dict[str, str]
    # additionalProperties: false (the admin contract's, never STAR's): an unknown name refused
    closed: bool = False
    # optional properties the contract makes nullable: a null reads as the property absent
    null_as_absent: frozenset[str] = frozenset()


# id(schema) -> (schema, its binding), built once
_BINDINGS: dict[int, tuple[dict[str, Any], _Binding]] = {}


def _binding(schema: dict[str, Any]) -> _Binding:
    cached = _BINDINGS.get(id(schema))
    if cached is None or cached[0] is not schema:
        writable = {n: s for n, s in properties(schema).items() if not _read_only(s)}
        aliases = {
            alias.lower(): (name, alias, unwrap)
            for name, sub in writable.items()
            for alias, unwrap in _aliases(sub)
        }
        binding = _Binding(
            names={name.lower(): name for name in writable}
            | {spelling: name for spelling, (name, _, _) in aliases.items()},
            aliases={spelling: (alias, unwrap) for spelling, (_, alias, unwrap) in aliases.items()},
            declared=writable,
            defaults={
                n: f"{n} absent: {json.dumps(s['default'])} assumed"
                for n, s in writable.items()
                if "default" in s
            }
            | dict(schema.get("x-relaxed-required", {})),
            read_only=frozenset(
                n.lower() for n, sub in properties(schema).items() if _read_only(sub)
            ),
            wrapped={n: s["x-wraps"] for n, s in writable.items() if "x-wraps" in s},
            closed=schema.get("additionalProperties") is False,
            null_as_absent=frozenset(
                n for n, s in writable.items() if _nullable(s) and n not in _required(schema)
            ),
        )
        cached = _BINDINGS[id(schema)] = (schema, binding)
    return cached[1]


def _merged_items(schema: dict[str, Any]) -> dict[str, Any] | None:
    if "items" in schema:
        return schema["items"]
    return next((i for p in schema.get("allOf", []) if (i := _merged_items(p))), None)


def _aliases(schema: dict[str, Any]) -> list[tuple[str, str | None]]:
    """x-aliases: a name, or {name, wraps} for an alias whose value wraps the property's."""
    found = [
        (alias, None) if isinstance(alias, str) else (alias["name"], alias.get("wraps"))
        for alias in schema.get("x-aliases", [])
    ]
    return found + [a for part in schema.get("allOf", []) for a in _aliases(part)]


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("nullable") is True or any(_nullable(p) for p in schema.get("allOf", []))


def _required(schema: dict[str, Any]) -> set[str]:
    """The properties a schema requires, its allOf parts' included."""
    return set(schema.get("required", [])).union(*map(_required, schema.get("allOf", [])))


def _read_only(schema: dict[str, Any]) -> bool:
    return bool(schema.get("readOnly")) or any(_read_only(p) for p in schema.get("allOf", []))
