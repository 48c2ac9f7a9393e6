"""check_parameter: a value a schema accepted before is accepted again without the check, a
refused one is refused every time, and what it remembers is bounded."""

from __future__ import annotations

from typing import Any

import pytest

from jobagent_mock.foundations.errors import InvalidInput
from jobagent_mock.web import validators
from jobagent_mock.web.validators import check_parameter


def header(schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": "x-civilRegistrationIdentifier", "in": "header", "schema": schema}


def test_a_value_refused_is_refused_every_time_and_one_accepted_is_accepted_again() -> None:
    cpr = header({"type": "string", "pattern": "^[0-9]{10}$"})
    for _ in range(3):
        check_parameter("header", cpr, "1507851234")
        with pytest.raises(InvalidInput) as refused:
            check_parameter("header", cpr, "15078512345")
        assert "15078512345" not in str(refused.value)  # described, never echoed
    kept = validators._ACCEPTED[id(cpr["schema"])]
    assert kept[0] is cpr["schema"] and kept[1] == {"1507851234"}


def test_what_one_schema_accepted_never_answers_for_another() -> None:
    long, short = (
        header({"type": "string", "maxLength": 5}),
        header({"type": "string", "maxLength": 2}),
    )
    check_parameter("header", long, "abc")
    with pytest.raises(InvalidInput):
        check_parameter("header", short, "abc")


def test_the_values_remembered_are_bounded() -> None:
    identifier = header({"type": "string", "minLength": 1})
    for n in range(validators.ACCEPTED_KEPT + 10):
        check_parameter("header", identifier, f"request-{n}")
    check_parameter("header", identifier, "x" * (validators.ACCEPTED_KEPT_CHARS + 1))
    kept = validators._ACCEPTED[id(identifier["schema"])][1]
    assert 0 < len(kept) <= validators.ACCEPTED_KEPT
    assert all(len(value) <= validators.ACCEPTED_KEPT_CHARS for value in kept)


def test_a_query_value_connexion_typed_is_checked_as_ever() -> None:
    code = {"name": "fejlkode", "in": "query", "schema": {"type": "integer", "minimum": 1000}}
    for _ in range(2):
        check_parameter("query", code, 9147)
        with pytest.raises(InvalidInput):
            check_parameter("query", code, 5)
