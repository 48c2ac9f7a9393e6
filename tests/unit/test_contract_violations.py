"""From a JSON Schema violation to the contract's fejlkode, and ASP.NET-style name binding."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.errors import InvalidInput
from jobagent_mock.web.contract_violations import (
    FORMAT_CHECKER,
    RequestValidator,
    canonical,
    fejlkode_of,
    is_valid_for,
    validator_for,
)
from tests.contract.fuzzing import business_schema


def first_code(component: str, instance: Any) -> int:
    schema = spec.schema(component)
    errors = sorted(
        RequestValidator(schema, format_checker=FORMAT_CHECKER).iter_errors(instance),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    assert errors, "expected a violation"
    return fejlkode_of(errors[0])


@pytest.mark.parametrize(
    ("component", "instance", "code"),
    [
        ("Cpr", "123", 1001),
        ("Email", "a@b\n", 9158),  # ECMA's $: no trailing newline
        ("Email", "a@b", None),
        ("AfstandDto", {"maxafstand": -1}, 4698),
        ("AfstandDto", {"maxafstand": "far"}, 1014),  # a map names minimum only
        ("AfstandDto", {}, 1014),
        (
            "JoboenskeDto",
            {
                "conceptUriDa": "x",
                "harUddannelse": True,
                "aarSidstBrugt": "last",
                "jobTargetIdentifier": "0d5e4c3b-2a19-4f8e-b7d6-c5b4a3928170",
            },
            4710,
        ),
        (
            "CreateTilmeldingRequestDto",
            {"tilmeldingsdato": "2026-11-25T08:00:00Z", "ledighedsgrad": 1},
            4313,
        ),
        (
            "CreateTilmeldingRequestDto",
            {"klientkategori": 1, "ledighedsgrad": 1, "tilmeldingsdato": "yesterday"},
            1014,
        ),
    ],
)
def test_violation_codes(component: str, instance: Any, code: int | None) -> None:
    if code is None:
        assert not list(RequestValidator(spec.schema(component)).iter_errors(instance))
    else:
        assert first_code(component, instance) == code


def test_binding_is_case_insensitive_and_drops_unknown_and_read_only() -> None:
    bound = canonical(
        {
            "TITEL": "t",
            "Jobagent": {"Email": "a@b", "emailVerificeret": True, "x": 1},
            "soegeParametre": {"Geografi": {"Region": ["1081"]}},
            "extra": 1,
        },
        spec.schema("CreateJobagentRequestDto"),
    )
    assert bound == {
        "titel": "t",
        "jobagent": {"email": "a@b"},
        "soegeparametre": {"geografi": {"region": ["1081"]}},
    }


def test_binding_reaches_into_all_of_and_arrays() -> None:
    bound = canonical(
        {"MoedetilbudId": "m", "Joboensker": [{"CONCEPTURIDA": "c"}]},
        spec.schema("TilmeldOgBookRequestDto"),
    )
    assert bound == {"moedetilbudId": "m", "joboensker": [{"conceptUriDa": "c"}]}


# is_valid_for, the fast lane's yes/no, must mean exactly what the full validator finds.
def _request_schemas() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for operation in spec.operations(spec.BUSINESS).values():
        for param in operation.parameters:
            found.append((f"{operation.operation_id} {param['name']}", param["schema"]))
        for media in operation.spec.get("requestBody", {}).get("content", {}).values():
            found.append((f"{operation.operation_id} body", media["schema"]))
    return found


REQUEST_SCHEMAS = _request_schemas()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def agree(schema: dict[str, Any], instance: Any) -> None:
    try:
        bound = canonical(instance, schema)
    except InvalidInput:  # the binder refuses early (an array past its maxItems: D-64)
        assert list(validator_for(schema).iter_errors(instance)), instance
        return
    slow = not list(validator_for(schema).iter_errors(bound))
    assert is_valid_for(schema)(bound) is slow, bound


@pytest.mark.parametrize("schema", [pytest.param(s, id=where) for where, s in REQUEST_SCHEMAS])
@given(instance=JSON_VALUES)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
def test_fast_and_full_validation_agree_on_any_json(schema: dict[str, Any], instance: Any) -> None:
    agree(schema, instance)


@pytest.mark.parametrize(
    ("component", "instance"),
    [
        ("Email", "a@b\n"),  # ECMA's $
        ("Email", "a@b"),
        ("Cpr", "1507851234"),
        ("Cpr", "1507851234\n"),
        ("Cpr", "１５０７８５１２３４"),  # full-width digits are no [0-9]
        ("Cpr", 1507851234),
        ("Guid", "5B0F8A52-3C1E-4D8E-9A4B-2F6C1D7E8A90"),
        ("Guid", "not-a-guid"),
        ("AfstandDto", {"maxafstand": 1.0}),  # Draft 4: 1.0 is no integer
        ("AfstandDto", {"maxafstand": True}),  # nor is true
        ("AfstandDto", {"maxafstand": 2**70}),
        ("AfstandDto", {"maxafstand": -1}),
        ("DateTime", "2026-11-25T08:00:00+01:00"),
        ("DateTime", "2026-11-25T08:00:00+0100"),  # RFC 3339 wants the colon
        ("DateTime", "2026-11-25 08:00:00+01:00"),
        ("DateTime", "2026-11-25T08:00:00"),  # no offset
    ],
)
def test_fast_and_full_validation_agree_on_the_edges(component: str, instance: Any) -> None:
    agree(spec.schema(component), instance)


@pytest.mark.slow
def test_fast_and_full_validation_agree_on_generated_requests() -> None:
    """schemathesis's own generators, valid and invalid, over every body and parameter."""
    checked = 0
    for operation in business_schema(None).get_all_operations():
        api = operation.ok()
        found = spec.operations()[api.definition.raw["operationId"]]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _agree_on_cases(api.as_strategy(generation_mode=mode), found)
            checked += 1
    assert checked == 2 * len(spec.operations())


def _agree_on_cases(cases: Any, operation: spec.Operation) -> None:
    content = operation.spec.get("requestBody", {}).get("content", {})
    body_schema = next(iter(content.values()))["schema"] if content else None

    @given(case=cases)
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if body_schema is not None and isinstance(case.body, (dict, list)):
            agree(body_schema, case.body)
        sent = {**(case.path_parameters or {}), **(case.headers or {})}
        for param in operation.parameters:
            if sent.get(param["name"]) is not None:
                agree(param["schema"], sent[param["name"]])

    check()


NULLABLE_PROPERTIES = {
    name: spec.schema(dto)["properties"][name]
    for dto, name in [
        ("CreateJobagentRequestDto", "jobagentIdentifier"),  # a nullable $ref: allOf beside it
        ("CreateJobagentRequestDto", "jobagent"),
        ("TilmeldOgBookRequestDto", "sagsbehandlerEksterntId"),  # a type of its own
        ("CreateTilmeldingRequestDto", "joboensker"),
    ]
}


@pytest.mark.parametrize("name", sorted(NULLABLE_PROPERTIES))
@pytest.mark.parametrize("instance", [None, "", 1, {}, []])
def test_a_nullable_property_admits_null_in_both_checks_and_nothing_else_new(
    name: str, instance: Any
) -> None:
    """OpenAPI's nullable said in JSON Schema once (spec.json_schema): both checks read it."""
    schema = NULLABLE_PROPERTIES[name]
    fast = is_valid_for(schema)(instance)
    assert fast is (not list(validator_for(schema).iter_errors(instance)))
    if instance is None:
        assert fast
    else:  # what it admitted before it was nullable, no more
        without = {k: v for k, v in schema.items() if k != "nullable"}
        assert fast is is_valid_for(without)(instance)
