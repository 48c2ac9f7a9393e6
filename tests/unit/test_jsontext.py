"""The JSON text of answers, stored job agents and journal entries: what orjson refuses is still
written (never a 500), and dates read as connexion writes them."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal

from jobagent_mock.foundations import jsontext
from jobagent_mock.foundations.clock import DANISH_TIME
from jobagent_mock.stores import Sandbox
from jobagent_mock.web.responses import CompactJsonifier


def test_what_orjson_refuses_is_written_exactly() -> None:
    value = {"huge": 10**30, 7: "a key that is no string", "tekst": "Ærø"}
    assert json.loads(jsontext.dumps(value)) == {
        "huge": 10**30,
        "7": "a key that is no string",
        "tekst": "Ærø",
    }


def test_a_lone_surrogate_is_written_as_valid_utf_8() -> None:
    text = jsontext.dumps({"titel": "Ærø \ud800"})
    assert json.loads(text.encode("utf-8")) == {"titel": "Ærø \ud800"}


def test_dates_and_ids_read_as_connexion_writes_them() -> None:
    ident = uuid.UUID("5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90")
    value = {
        "naive": datetime(2026, 3, 1, 9, 30),
        "danish": datetime(2026, 3, 1, 9, 30, tzinfo=DANISH_TIME),
        "day": date(2026, 3, 1),
        "id": ident,
        "amount": Decimal("1.5"),
    }
    assert json.loads(jsontext.dumps(value)) == {
        "naive": "2026-03-01T09:30:00Z",
        "danish": "2026-03-01T09:30:00+01:00",
        "day": "2026-03-01",
        "id": str(ident),
        "amount": 1.5,
    }


def test_answers_are_compact_json_with_a_final_newline() -> None:
    text = CompactJsonifier().dumps({"titel": "Lager", "region": [1082, 1084]})
    assert text == '{"titel":"Lager","region":[1082,1084]}\n'


def test_a_stored_job_agent_comes_back_alone_and_whole() -> None:
    sandbox = Sandbox()
    record = {"jobagentIdentifier": "a1", "titel": "Lager", "big": 10**25}
    sandbox.put_agent("0101991234", "a1", record)
    sandbox.put_agent("0101991234", "a2", {"jobagentIdentifier": "a2", "titel": "Kontor"})
    assert sandbox.agent_of("0101991234", "a1") == record
    assert sandbox.agent_of("0101991234", "a3") is None
    assert sandbox.agent_of("0202991234", "a1") is None  # another citizen's: not theirs
