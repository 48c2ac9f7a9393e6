"""Prefer: code= on a documented answer the contract gives no example: the status without a body,
never a 500 (the operation-chores test asks every answer for an example; this is the fallback)."""

from __future__ import annotations

import copy
from dataclasses import replace

from jobagent_mock.foundations import spec
from jobagent_mock.web import prefer


def test_a_documented_answer_without_an_example_is_its_status_without_a_body() -> None:
    operation = spec.operations(spec.BUSINESS)["GetJobagent"]
    bare = copy.deepcopy(operation.spec)
    bare["responses"]["200"]["content"] = {"application/json": {"schema": {"type": "object"}}}
    forced = prefer.forced_answer(replace(operation, spec=bare), {"code": "200"})
    assert forced is not None
    status, media_type, body, _ = forced
    assert (status, media_type, body) == (200, "application/json", None)


def test_a_documented_answer_with_an_example_answers_it() -> None:
    operation = spec.operations(spec.BUSINESS)["GetJobagent"]
    forced = prefer.forced_answer(operation, {"code": "200"})
    assert forced is not None and forced[0] == 200 and isinstance(forced[2], dict)
