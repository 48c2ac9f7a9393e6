"""From a JSON Schema violation to the contract's fejlkode, and ASP.NET-style name binding."""

from __future__ import annotations

from typing import Any

import pytest

from jobagent_mock import spec
from jobagent_mock.web.contract_violations import (
    FORMAT_CHECKER,
    RequestValidator,
    canonical,
    fejlkode_of,
)


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
