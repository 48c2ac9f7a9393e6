"""`jobagent-mock serve --upstream` as a partner runs it: several workers on a shared store count
every departure once, whichever worker saw it, and the answers are the upstream's bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jobagent_mock.foundations import fixtures, spec
from jobagent_mock.journal.drift import Departure
from jobagent_mock.stores import open_store
from tests.servers import free_port, start_mock, stop
from tests.upstream import Upstream, upstream_server

pytestmark = pytest.mark.slow
AGENT = "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"
HEADERS = {"Authorization": "Bearer a-star-token", "x-civilRegistrationIdentifier": "1507851234"}


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with upstream_server() as stand_in:
        yield stand_in


def _agent(**changes: object) -> bytes:
    media = spec.operation("GetJobagent").responses["200"]["content"]["application/json"]  # type: ignore[union-attr]
    body = dict(next(iter(media["examples"].values()))["value"])
    return json.dumps({**body, **changes}).encode()


def _shared_only(store_url: str) -> None:
    if store_url == "memory":
        pytest.skip("the memory store is one process's: several workers need a shared one")


def test_every_shared_store_counts_drift_across_processes(store_url: str) -> None:
    """The stores' own guarantee: two openers of one store see one line, counted twice."""
    _shared_only(store_url)
    first = open_store(store_url, fixtures.load().jobagents)
    second = open_store(store_url, fixtures.load().jobagents)
    first.clear_drift()
    seen = Departure.of("GetJobagent", "response.body/titel", "type", "42 is no string", 42)
    first.count_drift([(seen, "2026-12-04T10:00:00+00:00")])
    second.count_drift([(seen, "2026-12-04T10:05:00+00:00")])
    [line] = first.drift()
    assert line["count"] == 2 and line["example"] == "42"
    assert (line["firstSeen"], line["lastSeen"]) == (
        "2026-12-04T10:00:00+00:00",
        "2026-12-04T10:05:00+00:00",
    )
    second.reset()  # the sandboxes' reset leaves the report
    assert first.drift() != []
    second.clear_drift()
    assert first.drift() == []


def test_every_store_keeps_each_code_the_upstream_sent_apart(store_url: str) -> None:
    store = open_store(store_url, fixtures.load().jobagents)
    store.clear_drift()
    place, kind = "response.body/fejlkode", "undocumented-fejlkode"
    nowhere = Departure.of("GetJobagent", place, kind, "fejlkode 9999 ...", 9999, 9999)
    elsewhere = Departure.of("GetJobagent", place, kind, "fejlkode 4819 ...", 4819, 4819)
    store.count_drift([(nowhere, "2026-12-04T10:00:00+01:00")])
    store.count_drift([(elsewhere, "2026-12-04T10:01:00+01:00")])
    lines = sorted((line["value"], line["count"], line["detail"]) for line in store.drift())
    assert lines == [("4819", 1, "fejlkode 4819 ..."), ("9999", 1, "fejlkode 9999 ...")]
    store.clear_drift()


def test_an_earlier_sqlite_drift_table_is_replaced(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the table as the first proxy made it: no value column
        db.execute(
            "CREATE TABLE drift (operation TEXT, place TEXT, kind TEXT, detail TEXT, "
            "example TEXT, count INTEGER, first_seen TEXT, last_seen TEXT, "
            "PRIMARY KEY (operation, place, kind))"
        )
    store = open_store(f"sqlite:{path}", fixtures.load().jobagents)
    seen = Departure.of("GetJobagent", "response.status", "undocumented-status", "418", 418, 418)
    store.count_drift([(seen, "2026-12-04T10:00:00+01:00")])
    assert [line["value"] for line in store.drift()] == ["418"]


def test_several_workers_report_every_departure_once(store_url: str, upstream: Upstream) -> None:
    _shared_only(store_url)
    upstream.answers(200, _agent(titel=42), content_type="application/json")
    port = free_port()
    process = start_mock(store_url, 2, port, "k" * 32, "--upstream", upstream.url)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(30):  # a connection each: the kernel spreads them over the workers
            with httpx.Client() as client:
                answer = client.get(f"{base}/v1/Jobagent/{AGENT}", headers=HEADERS)
            assert answer.status_code == 200 and answer.headers["x-mock-drift"] == "1"
        for _ in range(4):  # whichever worker answers, the same report
            with httpx.Client() as client:
                [line] = client.get(f"{base}/__admin/drift").json()["drift"]
            assert (line["place"], line["kind"], line["count"]) == (
                "response.body/titel",
                "type",
                30,
            )
    finally:
        stop(process)


def test_serve_answers_the_upstreams_headers_once(upstream: Upstream, tmp_path: Path) -> None:
    upstream.answers(200, _agent(), content_type="application/json", x_star="1")
    port = free_port()
    process = start_mock(
        f"sqlite:{tmp_path / 'm.db'}", 1, port, "k" * 32, "--upstream", upstream.url
    )
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/v1/Jobagent/{AGENT}", headers=HEADERS)
        names = [name.lower() for name, _ in answer.headers.raw]
        assert answer.content == _agent() and answer.headers["x-star"] == "1"
        # uvicorn's own Date and Server are off: the upstream's pass through, once each
        assert names.count(b"date") == 1 and names.count(b"server") == 1
        health = httpx.get(f"http://127.0.0.1:{port}/__admin/health").json()
        assert health["upstream"] == {**health["upstream"], "url": upstream.url, "answering": True}
    finally:
        stop(process)
