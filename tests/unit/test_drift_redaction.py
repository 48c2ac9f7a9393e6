"""The proxy keeps what the journal keeps: the drift report and the recordings redact through
journal.redact, held by the same property-based tests as the journal (test_redaction.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobagent_mock.journal import drift
from jobagent_mock.journal.drift import Departure
from jobagent_mock.journal.entries import redact, redacted_capped
from jobagent_mock.proxy.record import Exchange, Recorder
from jobagent_mock.stores import MemoryStore
from tests.unit.test_redaction import _PIECES, _redacted_by_every_pattern

_CPR = re.compile(r"[0-9]{6}[- ]?[0-9]{4}")  # a CPR number not masked
TEXTS = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in (*_leaves(k), *_leaves(v))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if isinstance(value, str) else []


def _no_cpr_and_no_token(value: Any) -> None:
    for leaf in _leaves(value):
        assert _CPR.search(leaf) is None and "eyJhbGciOi.eyJzdWIi" not in leaf


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:  # a credential's redaction may leave no JSON: kept as text
        return text


@given(TEXTS, TEXTS)
@settings(max_examples=500, deadline=None)
def test_a_drift_line_keeps_what_the_journal_keeps(value: str, detail: str) -> None:
    departure = Departure.of("GetJobagent", f"request.body/{value}", "type", detail, value, value)
    assert departure.example == departure.value == redacted_capped(value, drift.EXAMPLE_CHARS)
    assert departure.detail == redacted_capped(detail, drift.DETAIL_CHARS)
    store = MemoryStore([])
    store.count_drift([(departure, "2026-12-04T10:00:00+00:00")])
    [line] = drift.report(store.drift(), "https://upstream.example")["drift"]
    assert (line["example"], line["detail"], line["value"]) == (
        departure.example,
        departure.detail,
        departure.value,
    )
    assert departure.example == _redacted_by_every_pattern(value)[: drift.EXAMPLE_CHARS] or (
        len(value) > drift.EXAMPLE_CHARS
    )
    _no_cpr_and_no_token(line | {"readings": []})


@given(TEXTS, TEXTS, TEXTS)
@settings(max_examples=300, deadline=None)
def test_a_recording_keeps_what_the_journal_keeps(
    tmp_path_factory: Any, header: str, body_text: str, path: str
) -> None:
    folder: Path = tmp_path_factory.mktemp("recorded")
    body = json.dumps({"titel": body_text, body_text: header}).encode()
    exchange = Exchange(
        "GetJobagent",
        "GET",
        f"/v1/Jobagent/{path}",
        {
            "authorization": f"Bearer {header}",
            "x-civilregistrationidentifier": header,
            "x-requestid": header,
            "content-type": "application/json",
        },
        body,
        404,
        {"content-type": "application/problem+json", "location": header},
        json.dumps({"fejlkode": 1010, "fejltekst": body_text}).encode(),
        (Departure.of("GetJobagent", "response.body/fejltekst", "fejltekst-differs", body_text),),
    )
    written = json.loads(Recorder(folder).write(exchange).read_text(encoding="utf-8"))
    # the body as the journal keeps a body (journal.redact of its text), headers alike
    assert written["request"]["body"] == _parsed(redact(body.decode()))
    assert written["request"]["headers"]["x-civilregistrationidentifier"] == redact(header)
    assert "authorization" not in written["request"]["headers"]
    _no_cpr_and_no_token(written)


def test_keep_cpr_keeps_the_cpr_and_still_no_credential(tmp_path: Path) -> None:
    exchange = Exchange(
        "GetJobagent",
        "GET",
        "/v1/Jobagent/x",
        {"authorization": "Bearer eyJa.eyJb.c", "x-civilregistrationidentifier": "1507851234"},
        b"",
        200,
        {},
        b'{"cpr": "1507851234"}',
        (),
    )
    written = Recorder(tmp_path, keep_cpr=True).write(exchange).read_text(encoding="utf-8")
    assert "1507851234" in written and "eyJ" not in written
