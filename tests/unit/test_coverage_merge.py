"""coverage.merge: one report of a suite's sandboxes is exactly their union, counts added."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobagent_mock.contract import coverage
from jobagent_mock.foundations import fixtures, spec

FIXTURES = fixtures.load()
DOCUMENTED = [
    (operation.operation_id, status, code)
    for operation in spec.operations(spec.BUSINESS).values()
    for status, codes in operation.star_fejlkoder_by_status().items()
    for code in codes or [0]
]
RECEIVED = st.lists(
    st.tuples(st.sampled_from(DOCUMENTED), st.integers(1, 5)),
    unique_by=lambda pair: pair[0],
    max_size=20,
)


def report(sandbox: str, received: list[tuple[tuple[str, int, int], int]]) -> dict[str, Any]:
    rows = [
        {"operationId": o, "status": s, "fejlkode": f, "count": n, "lastRequestId": f"{sandbox}-r"}
        for (o, s, f), n in received
    ]
    return coverage.report(sandbox, rows, FIXTURES)


def exercised(found: dict[str, Any]) -> dict[tuple[str, int, int], int]:
    return {
        (operation["operationId"], outcome["status"], outcome["fejlkode"] or 0): outcome["count"]
        for operation in found["operations"]
        for outcome in operation["outcomes"]
        if outcome["exercised"]
    }


@settings(max_examples=30, deadline=None)
@given(RECEIVED, RECEIVED)
def test_the_merged_report_is_the_union(first: list[Any], second: list[Any]) -> None:
    one, other = report("star-jobnet/a", first), report("akasse-eksempel/a", second)
    merged = coverage.merge([one, other])
    union = dict(first)
    for key, count in second:
        union[key] = union.get(key, 0) + count
    assert exercised(merged) == union
    assert merged["totals"]["exercised"] == len(union)
    assert merged["totals"]["requests"] == sum(union.values())
    assert merged["totals"]["percent"] == coverage.percent(len(union), len(DOCUMENTED))
