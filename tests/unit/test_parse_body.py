"""parse_body reads a body as json.loads with the project's strict options would: the same
value, and the same refusal in the same words (a BOM, a repeated key, NaN, no JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobagent_mock.foundations.errors import InvalidInput
from jobagent_mock.web.validators import _no_constant, _unique_keys, parse_body

SCHEMA: dict[str, Any] = {}  # no schema: the text alone decides
PIECES = ['{"a": 1', "}", ', "a": 2', "NaN", "[", "]", '"\\u0031"', "\ufeff", " ", "1e400", ","]


def read_by_json_loads(text: str) -> tuple[str, Any]:
    try:
        return "kept", json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        return "refused", f"The body is not valid JSON: {exc}"


def read_by_parse_body(text: str) -> tuple[str, Any]:
    try:
        return "kept", parse_body(text.encode(), "utf-8", SCHEMA)
    except InvalidInput as refused:
        return "refused", refused.detail


@pytest.mark.parametrize(
    "text", ["\ufeff{}", '{"a": 1, "a": 2}', '{"a": NaN}', "[1,", '{"a": [1, {"b": "c"}]}']
)
def test_a_body_reads_as_json_loads_reads_it(text: str) -> None:
    assert read_by_parse_body(text) == read_by_json_loads(text)


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_text_reads_as_json_loads_reads_it(text: str) -> None:
    assert read_by_parse_body(text) == read_by_json_loads(text)
