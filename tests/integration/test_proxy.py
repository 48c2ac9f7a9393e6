"""The validating proxy (`serve --upstream URL`) in front of a local stand-in for STAR's test
environment (tests/upstream.py): answers passed through unchanged, every departure reported."""

from __future__ import annotations

import copy
import gzip
import http.client
import json
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from jobagent_mock import cli
from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from jobagent_mock.journal import drift
from jobagent_mock.journal.drift import Upstream
from jobagent_mock.proxy.forward import ProxySettings
from tests.live import live_server
from tests.servers import require
from tests.upstream import Upstream as StandIn
from tests.upstream import upstream_server

CPR = "1507851234"
AGENT = "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"
STAR_TOKEN = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdGFyIn0.c2lnbmF0dXJl"  # not the mock's


def _example(operation_id: str, status: str = "200") -> Any:
    media = spec.operation(operation_id).responses[status]["content"]  # type: ignore[union-attr]
    found = next(iter(media.values()))
    examples = found.get("examples")
    return copy.deepcopy(next(iter(examples.values()))["value"] if examples else found["example"])


def _request_example(operation_id: str) -> Any:
    body = spec.operation(operation_id).spec["requestBody"]["content"]  # type: ignore[union-attr]
    found = next(iter(body.values()))
    examples = found.get("examples")
    return copy.deepcopy(next(iter(examples.values()))["value"] if examples else found["example"])


def _problem(status: int, fejlkode: int, fejltekst: str | None = None) -> bytes:
    text = fejltekst if fejltekst is not None else spec.fejlkode_catalogue()[fejlkode][0]
    return json.dumps(
        {"type": "about:blank", "title": text, "status": status, "detail": text,
         "fejlkode": fejlkode, "fejltekst": text, "requestId": "r-1"}
    ).encode()  # fmt: skip


@pytest.fixture(scope="module")
def upstream() -> Iterator[StandIn]:
    with upstream_server() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recorded")


@pytest.fixture(scope="module")
def proxy_app(upstream: StandIn, recorded: Path) -> Any:
    settings = ProxySettings(Upstream(upstream.url, timeout=1.0), record=recorded)
    return create_app(proxy=settings)


@pytest.fixture(scope="module")
def proxy(proxy_app: Any) -> Iterator[str]:
    # as serve runs it (web/connections.py): the upstream's Date and Server, not uvicorn's
    with live_server(proxy_app, server_header=False, date_header=False) as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh(proxy_app: Any, upstream: StandIn) -> None:
    proxy_app.app.config["JOBAGENT_MOCK_ENGINE"].store.clear_drift()
    upstream.seen.clear()
    upstream.delay = 0.0


def _raw(base: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Any:
    """An exchange as bytes: status, every header as sent, the body undecoded."""
    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    connection.request(method, path, body=body or None, headers=headers)
    answer = connection.getresponse()
    found = answer.status, answer.getheaders(), answer.read()
    connection.close()
    return found


def _drift(proxy: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{proxy}/__admin/drift").json()["drift"])


def _line(proxy: str, place: str, kind: str) -> dict[str, Any]:
    found = [d for d in _drift(proxy) if d["place"] == place and d["kind"] == kind]
    assert found, f"no {kind} at {place} in {_drift(proxy)}"
    return found[0]


HEADERS = {
    "Authorization": STAR_TOKEN,
    "x-civilRegistrationIdentifier": CPR,
    "x-requestId": "partner-0001",
    "Connection": "keep-alive, x-hop",
    "x-hop": "only for the first hop",
}


def test_the_answer_is_the_upstreams_byte_for_byte_and_the_upstream_sees_the_clients_headers(
    proxy: str, upstream: StandIn
) -> None:
    body = gzip.compress(json.dumps(_example("GetJobagent")).encode())
    upstream.answers(
        200, body, content_type="application/json; charset=utf-8", content_encoding="gzip",
        x_star_trace="abc-123", cache_control="no-store",
    )  # fmt: skip
    status, headers, sent = _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", HEADERS)
    assert upstream.header("Authorization") == STAR_TOKEN
    assert upstream.header("x-civilRegistrationIdentifier") == CPR
    assert upstream.header("x-requestId") == "partner-0001"
    assert upstream.header("x-hop") is None  # named by Connection: hop-by-hop
    assert upstream.header("host") == urlsplit(upstream.url).netloc
    assert upstream.header("content-length") is None  # a GET without a body stays one
    direct_status, direct_headers, direct = _raw(upstream.url, "GET", f"/v1/Jobagent/{AGENT}", {})
    assert (status, sent) == (direct_status, direct)  # gzip bytes as sent, never re-encoded

    def kept(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(n.lower(), v) for n, v in found if n.lower() not in ("date", "transfer-encoding")]

    assert kept(headers) == kept(direct_headers)
    assert sum(n.lower() == "server" for n, _ in headers) == 1  # the upstream's, not uvicorn's too
    assert _drift(proxy) == []  # a conforming exchange adds nothing


def test_a_request_body_and_query_are_forwarded_unchanged(proxy: str, upstream: StandIn) -> None:
    body = json.dumps(_request_example("CreateJobagent"), indent=1).encode()
    upstream.answers(201, b"", location=f"/v1/Jobagent/{AGENT}")
    headers = {**HEADERS, "Content-Type": "application/json"}
    status, answer_headers, _ = _raw(proxy, "POST", "/v1/Jobagent", headers, body)
    assert status == 201 and upstream.seen[-1].body == body
    assert dict(answer_headers)["location"] == f"/v1/Jobagent/{AGENT}"
    assert "x-mock-drift" not in dict(answer_headers)
    assert _drift(proxy) == []


@pytest.mark.parametrize(
    ("operation", "answer", "place", "kind"),
    [
        ("GetJobagent", (418, {}), "response.status", "undocumented-status"),
        ("GetJobagent", (404, {"fejlkode": 4405}), "response.body/fejlkode",
         "undocumented-fejlkode"),
        ("GetJobagent", (404, {"fejltekst": "Person not found"}), "response.body/fejltekst",
         "fejltekst-differs"),
        ("GetJobagent", (200, {"titel": 42}), "response.body/titel", "type"),
        ("GetJobagent", (200, {"titel": None}), "response.body/titel", "type"),
        ("GetJobagent", (200, {"soegeparametre": ...}), "response.body/soegeparametre", "required"),
        ("GetJobagent", (200, {"ekstraFelt": "x"}), "response.body/ekstraFelt", "unknown-property"),
        ("GetJobagent", (200, {"jobagent.udsendelsesinterval": 9}),
         "response.body/jobagent/udsendelsesinterval", "enum"),
        ("CreateTilmelding", (201, {"serviceReceipt.eventDate": "27-11-2026"}),
         "response.body/serviceReceipt/eventDate", "format"),
        ("CreateJobagent", (201, {"Location": ...}), "response.header.Location", "missing-header"),
    ],
)  # fmt: skip
def test_every_kind_of_departure_in_the_answer_is_reported(
    proxy: str, upstream: StandIn, operation: str, answer: tuple[int, dict[str, Any]], place: str,
    kind: str,
) -> None:  # fmt: skip
    status, changes = answer
    _script(upstream, operation, status, changes)
    found = spec.operation(operation)
    assert found is not None
    path = found.path.replace("{jobagentIdentifier}", AGENT)
    body = json.dumps(_request_example(operation)).encode() if found.method == "post" else b""
    headers = {**HEADERS, "Content-Type": "application/json"}
    got_status, got_headers, _ = _raw(proxy, found.method.upper(), path, headers, body)
    assert got_status == status  # the upstream's answer, whatever it departs from
    line = _line(proxy, place, kind)
    assert line["operation"] == operation and line["count"] == 1
    assert line["firstSeen"] and line["lastSeen"]
    assert int(dict(got_headers)["x-mock-drift"]) >= 1
    assert (
        kind in dict(got_headers)["x-mock-drift-first"]
        or int(dict(got_headers)["x-mock-drift"]) > 1
    )


def _script(upstream: StandIn, operation: str, status: int, changes: dict[str, Any]) -> None:
    """The upstream answers the documented example of `status`, changed at dotted places (a
    value of ... leaves the place out)."""
    if status == 418:
        upstream.answers(418, b"I'm a teapot", content_type="text/plain")
        return
    if status == 201 and operation == "CreateJobagent":
        headers = {} if "Location" in changes else {"location": f"/v1/Jobagent/{AGENT}"}
        upstream.answers(201, b"", **headers)
        return
    if status == 404:
        code = changes.get("fejlkode", 1010)
        problem = _problem(404, code, changes.get("fejltekst"))
        upstream.answers(404, problem, content_type="application/problem+json")
        return
    body = _example(operation, str(status))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = body
        for parent in parents:
            node = node[parent]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    upstream.answers(status, json.dumps(body).encode(), content_type="application/json")


def test_a_request_the_contract_refuses_is_forwarded_and_its_fate_reported(
    proxy: str, upstream: StandIn
) -> None:
    upstream.answers(
        200, json.dumps(_example("GetJobagent")).encode(), content_type="application/json"
    )
    headers = {**HEADERS, "x-civilRegistrationIdentifier": "3207851234"}  # no such day: 1001
    status, _, _ = _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", headers)
    assert status == 200 and upstream.header("x-civilRegistrationIdentifier") == "3207851234"
    place = "request.header.x-civilRegistrationIdentifier"
    line = _line(proxy, place, "request-accepted-by-upstream")
    assert "1001" in line["detail"] and line["example"] == "320785-xxxx"

    # refused by both with the same fejlkode: the contract's reading confirmed, nothing added
    upstream.answers(400, _problem(400, 1001), content_type="application/problem+json")
    before = _drift(proxy)
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", headers)
    assert _drift(proxy) == before

    # refused upstream where the contract accepts it
    upstream.answers(400, _problem(400, 1014), content_type="application/problem+json")
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", HEADERS)
    assert "1014" in _line(proxy, "request", "request-refused-by-upstream")["detail"]


def test_each_fejlkode_the_upstream_sends_is_a_line_of_its_own(
    proxy: str, upstream: StandIn
) -> None:
    for code in (9999, 4819, 9999):  # 9999 in no catalogue; 4819 in it, not for this 404
        text = "Ukendt fejl" if code == 9999 else None
        upstream.answers(404, _problem(404, code, text), content_type="application/problem+json")
        _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", HEADERS)
    lines = {
        line["value"]: line for line in _drift(proxy) if line["kind"] == "undocumented-fejlkode"
    }
    assert set(lines) == {"9999", "4819"}
    assert (lines["9999"]["count"], lines["4819"]["count"]) == (2, 1)
    assert "nowhere in the contract's catalogue" in lines["9999"]["detail"]
    assert "(it is in the contract's catalogue" in lines["4819"]["detail"]
    markdown = drift.render(httpx.get(f"{proxy}/__admin/drift").json(), "md")
    assert "`9999`" in markdown and "`4819`" in markdown


def test_a_missing_property_is_named_and_an_exchange_counts_once_a_line(
    proxy: str, upstream: StandIn
) -> None:
    upstream.answers(201, b"", location=f"/v1/Jobagent/{AGENT}")
    body = json.dumps({"jobagent": {"email": "lise(a)example.dk"}}).encode()
    headers = {**HEADERS, "Content-Type": "application/json", "x-mock-sandbox": "one-exchange"}
    _raw(proxy, "POST", "/v1/Jobagent", headers, body)
    accepted = {
        line["place"]: line["count"]
        for line in _drift(proxy)
        if line["kind"] == "request-accepted-by-upstream"
    }
    assert accepted == {
        "request.body/titel": 1,
        "request.body/soegeparametre": 1,
        "request.body/jobagent/udsendelsesinterval": 1,
        "request.body/jobagent/smsNotifikation": 1,
        "request.body/jobagent/email": 1,
    }
    [entry] = httpx.get(
        f"{proxy}/__admin/drift/requests", headers={"x-mock-sandbox": "one-exchange"}
    ).json()["requests"]
    kept = [(d["place"], d["kind"]) for d in entry["drift"]]
    assert len(kept) == len(set(kept))


def test_each_line_names_the_recorded_reading_it_refutes(proxy: str, upstream: StandIn) -> None:
    _script(upstream, "GetJobagent", 200, {"jobagent.udsendelsesinterval": 9})
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", HEADERS)
    line = _line(proxy, "response.body/jobagent/udsendelsesinterval", "enum")
    ids = {reading["id"] for reading in line["readings"]}
    assert {"x-provisional", "A-14"} <= ids
    assert line["verdict"].startswith("refutes") and "A-14" in line["verdict"]


def test_the_drift_command_renders_the_report_for_ci(
    proxy: str, upstream: StandIn, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["drift", "--url", proxy, "--fail-on-drift"]) == 0  # nothing seen yet
    _script(upstream, "GetJobagent", 200, {"titel": 42})
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", HEADERS)
    capsys.readouterr()
    assert cli.main(["drift", "--url", proxy, "--format", "md"]) == 0
    markdown = capsys.readouterr().out
    assert "| GetJobagent | `response.body/titel` | type | 1 |" in markdown
    junit = tmp_path / "drift.xml"
    code = cli.main(["drift", "--url", proxy, "--format", "junit", "--output", str(junit),
                     "--fail-on-drift"])  # fmt: skip
    assert code == 1 and 'name="type at response.body/titel"' in junit.read_text()
    assert cli.main(["drift", "--url", proxy, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["departures"] == 1


def test_fail_on_drift_against_a_mock_that_proxies_nothing_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with live_server(create_app()) as plain:
        assert cli.main(["drift", "--url", plain, "--fail-on-drift"]) == 2
        assert "proxies no upstream" in capsys.readouterr().err
        assert cli.main(["drift", "--url", plain]) == 0  # the report itself is still readable


def test_the_journal_keeps_each_exchange_with_its_departures_redacted(
    proxy: str, upstream: StandIn
) -> None:
    _script(upstream, "GetJobagent", 200, {"ekstraFelt": CPR})
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", {**HEADERS, "x-mock-sandbox": "journal-test"})
    entries = httpx.get(
        f"{proxy}/__admin/drift/requests", headers={"x-mock-sandbox": "journal-test"}
    ).json()["requests"]
    entry = entries[0]
    assert entry["operationId"] == "GetJobagent"
    assert [d["kind"] for d in entry["drift"]] == ["unknown-property"]
    text = json.dumps(entry)
    assert CPR not in text and "150785-xxxx" in text
    assert "eyJ" not in text and entry["request"]["headers"]["authorization"] == "[redacted]"


def test_drift_is_seen_in_the_journals_time_zone(proxy: str, upstream: StandIn) -> None:
    _script(upstream, "GetJobagent", 200, {"titel": 42})
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", {**HEADERS, "x-mock-sandbox": "time-zone"})
    [entry] = httpx.get(
        f"{proxy}/__admin/drift/requests", headers={"x-mock-sandbox": "time-zone"}
    ).json()["requests"]
    line = _line(proxy, "response.body/titel", "type")
    journal_offset = datetime.fromisoformat(entry["time"]).utcoffset()
    assert datetime.fromisoformat(line["firstSeen"]).utcoffset() == journal_offset
    assert datetime.fromisoformat(line["lastSeen"]).utcoffset() == journal_offset


def test_the_mocks_own_paths_stay_the_mocks(proxy: str, upstream: StandIn) -> None:
    token = httpx.post(
        f"{proxy}/connect/token",
        data={"grant_type": "client_credentials", "client_id": "star-jobnet",
              "client_secret": "star-jobnet-secret"},
    )  # fmt: skip
    assert token.status_code == 200
    assert httpx.get(f"{proxy}/__admin/fejlkoder").status_code == 200
    assert httpx.get(f"{proxy}/openapi.yaml").text == spec.source()
    assert upstream.seen == []


def test_an_upstream_too_slow_is_a_504_and_health_says_so(proxy: str, upstream: StandIn) -> None:
    upstream.answers(
        200, json.dumps(_example("GetJobagent")).encode(), content_type="application/json"
    )
    upstream.delay = 3.0  # past the proxy's 1 s
    answer = httpx.get(f"{proxy}/v1/Jobagent/{AGENT}", headers=HEADERS, timeout=10)
    assert answer.status_code == 504
    assert answer.headers["content-type"] == "application/problem+json"
    assert "did not answer within 1 s" in answer.json()["detail"]
    health = httpx.get(f"{proxy}/__admin/health").json()
    assert health["status"] == "ok"
    assert health["upstream"]["url"] == upstream.url
    assert (
        health["upstream"]["answering"] is False
        and "timed out" in health["upstream"]["lastFailure"]["why"]
    )
    upstream.delay = 0.0
    assert httpx.get(f"{proxy}/v1/Jobagent/{AGENT}", headers=HEADERS).status_code == 200
    assert httpx.get(f"{proxy}/__admin/health").json()["upstream"]["answering"] is True


def test_an_unreachable_upstream_is_a_502() -> None:
    with upstream_server() as gone:
        url = gone.url
    app = create_app(proxy=ProxySettings(Upstream(url, timeout=5.0)))
    with live_server(app) as proxy:
        answer = httpx.get(f"{proxy}/v1/Jobagent/{AGENT}", headers=HEADERS)
        assert answer.status_code == 502
        assert "cannot be reached" in answer.json()["detail"]
        assert httpx.get(f"{proxy}/__admin/health").json()["upstream"]["answering"] is False


def test_an_upstream_that_speaks_no_tls_is_refused_over_https() -> None:
    # TLS is verified: a plain-HTTP server spoken to as https fails the handshake, a 502
    with upstream_server() as stand_in:
        https = stand_in.url.replace("http://", "https://")
        app = create_app(proxy=ProxySettings(Upstream(https, timeout=5.0)))
        with live_server(app) as proxy:
            assert httpx.get(f"{proxy}/v1/Jobagent/{AGENT}", headers=HEADERS).status_code == 502
        assert stand_in.seen == []


def _private_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA of the test's own and a certificate it signed for 127.0.0.1 (openssl's CLI)."""
    ca, key, cert = folder / "ca.pem", folder / "server.key", folder / "server.pem"

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=jobagent-mock test CA",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.ext")  # fmt: skip
    return ca, key, cert


def test_tls_to_the_upstream_is_verified_against_the_ca_given(tmp_path: Path) -> None:
    require("openssl")
    ca, key, cert = _private_ca(tmp_path)
    stand_in = StandIn()
    stand_in.answers(
        200, json.dumps(_example("GetJobagent")).encode(), content_type="application/json"
    )
    with live_server(stand_in, ssl_keyfile=str(key), ssl_certfile=str(cert)) as url:
        https = url.replace("http://", "https://")
        for ca_file, status in ((None, 502), (ca, 200)):  # the system's CAs know no such CA
            app = create_app(proxy=ProxySettings(Upstream(https, timeout=5.0, ca_file=ca_file)))
            with live_server(app) as proxy:
                answer = httpx.get(f"{proxy}/v1/Jobagent/{AGENT}", headers=HEADERS)
                assert answer.status_code == status, answer.text
    assert len(stand_in.seen) == 1  # the unverified connection never sent the request


def test_recordings_are_candidates_with_cprs_masked(
    proxy: str, upstream: StandIn, recorded: Path
) -> None:
    upstream.answers(404, _problem(404, 1010), content_type="application/problem+json")
    headers = {**HEADERS, "x-civilRegistrationIdentifier": "0101013333"}
    _raw(proxy, "GET", f"/v1/Jobagent/{AGENT}", headers)
    candidates = [json.loads(path.read_text()) for path in recorded.glob("*.json")]
    persona = next(c["persona"] for c in candidates if "010101" in json.dumps(c))
    fejltekst = spec.fejlkode_catalogue()[1010][0]
    assert persona == {
        "cpr": "010101-xxxx",
        "description": f"{fejltekst}: 1010",
        "fejlkoder": [1010],
    }
    text = json.dumps(candidates)
    assert "0101013333" not in text and CPR not in text and "eyJ" not in text
    assert not list(recorded.glob("*.tmp"))
