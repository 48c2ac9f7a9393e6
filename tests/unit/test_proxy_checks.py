"""The proxy's checks of one exchange (proxy/checks.py) and the readings a drift line names."""

from __future__ import annotations

import json

from jobagent_mock.foundations import spec
from jobagent_mock.journal import drift
from jobagent_mock.proxy import checks

AGENT = "5b0f8a52-3c1e-4d8e-9a4b-2f6c1d7e8a90"


def _operation(operation_id: str) -> spec.Operation:
    found = spec.operation(operation_id)
    assert found is not None
    return found


def test_a_closed_objects_extra_property_is_unknown_property_at_its_own_place() -> None:
    closed = {
        "type": "object",
        "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}},
                             "additionalProperties": False}},
    }  # fmt: skip
    found = checks.schema_departures("X", closed, {"a": {"b": "x", "c": 1}})
    assert [(d.place, d.kind) for d in found] == [("response.body/a/c", "unknown-property")]


def test_the_request_checks_are_the_mocks_own() -> None:
    operation = _operation("CreateJobagent")
    body = {"titel": 5, "soegeparametre": {}, "jobagent": {"email": "no-at-sign", "sms": 1}}
    headers = {"x-civilRegistrationIdentifier": "1507851234", "content-type": "application/json"}
    refused = checks.refusals(operation, "/v1/Jobagent", headers, {}, json.dumps(body).encode())
    # x-requestId missing (path, header, query, then the body in document order)
    assert [(r.place, r.keyword) for r in refused][:2] == [
        ("request.header.x-requestId", "required"),
        ("request.body/titel", "type"),
    ]
    assert any(r.place == "request.body/jobagent/email" and r.fejlkode == 9158 for r in refused)


def test_a_request_refused_by_both_with_another_fejlkode_is_reported() -> None:
    refused = [checks.Refusal("request.header.x-civilRegistrationIdentifier", "pattern", 1001, "1")]
    answer = checks.Answer(400, {}, b"{}")
    [found] = checks.request_departures("GetJobagent", refused, answer, 1014)
    assert found.kind == "request-refused-differently" and "1001" in found.detail
    assert checks.request_departures("GetJobagent", refused, answer, 1001) == []


def test_an_answer_unread_is_checked_for_status_and_headers_only() -> None:
    answer = checks.Answer(200, {"content-type": "application/json"}, None)
    assert checks.answer_departures(_operation("GetJobagent"), answer) == []


def test_a_fejlkode_line_names_the_decisions_about_that_code() -> None:
    detail = "fejlkode 4769 is not documented for this status"
    line = {"operation": "CreateTilmelding", "place": "response.body/fejlkode"}
    line |= {"example": "4769", "detail": detail}
    readings = {reading["id"]: reading["relation"] for reading in drift.readings_at(line)}
    assert readings["D-9"] == "related"


def test_the_report_says_which_reading_a_line_refutes() -> None:
    row = drift.drift_row(
        drift.Departure.of("GetJobagent", "response.body/titel", "type", "42", 42), 1, "t", "t"
    )
    [line] = drift.report([row], None)["drift"]
    assert (line["readings"], line["verdict"]) == ([], "no recorded reading")
    provisional = {
        "operation": "GetJobagent",
        "place": "response.body/jobagent/udsendelsesinterval",
    }
    assert drift.verdict(drift.readings_at({**provisional, "example": "", "detail": ""})) == (
        "refutes A-14, the provisional reading"
    )
    markdown = drift.render(drift.report([row], None), "md")
    assert "| GetJobagent | `response.body/titel` | type | 1 |" in markdown


def test_a_password_in_the_upstreams_url_is_never_shown() -> None:
    upstream = drift.Upstream("https://partner:s3cret@star.example/base")
    upstream.failed("timed out")
    assert upstream.health()["url"] == "https://***@star.example/base"
    assert "s3cret" not in json.dumps(upstream.health())


def test_a_pattern_departure_says_the_contracts_words_not_the_regex() -> None:
    media = _operation("GetJobagent").responses["200"]["content"]["application/json"]
    body = json.loads(json.dumps(next(iter(media["examples"].values()))["value"]))
    body["jobagent"]["email"] = "lise(a)example.dk"
    [found] = checks.schema_departures("GetJobagent", media["schema"], body)
    assert found.kind == "pattern" and "is not an e-mail address" in found.detail
    assert "^[" not in found.detail


def test_an_open_objects_unknown_property_names_its_readings_in_the_reading_column() -> None:
    open_object = {"type": "object", "properties": {"a": {"type": "string"}}}
    [found] = checks.schema_departures("GetJobagent", open_object, {"a": "x", "b": 1})
    row = drift.drift_row(found, 1, "t", "t")
    [line] = drift.report([row], "http://star.example")["drift"]
    assert line["verdict"] == "see D-5, D-51"
    assert "| see D-5, D-51 |" in drift.render(drift.report([row], None), "md")


def test_the_report_counts_in_words_and_shows_first_and_last_seen_in_every_format() -> None:
    seen = drift.Departure.of("GetJobagent", "response.body/titel", "type", "42", 42)
    first, last = "2026-12-04T10:00:00+01:00", "2026-12-04T11:00:00+01:00"
    found = drift.report([drift.drift_row(seen, 1, first, last)], "http://star.example")
    markdown = drift.render(found, "md")
    assert "1 departure from the contract (1 observation in 1 operation)" in markdown
    assert "| Count | First seen | Last seen |" in markdown
    assert f"| 1 | {first} | {last} |" in markdown
    junit = drift.render(found, "junit")
    assert "seen 1 time," in junit and first in junit and last in junit
    assert {"firstSeen": first, "lastSeen": last}.items() <= json.loads(
        drift.render(found, "json")
    )["drift"][0].items()


def test_the_banner_of_a_proxy_sends_for_tokens_to_star_not_to_the_mock() -> None:
    from jobagent_mock import cli

    proxy = cli._parser().parse_args(["serve", "--upstream", "https://star.example"])
    banner = cli._banner("http://127.0.0.1:8080", proxy)
    assert "client_secret" not in banner and "STAR's identity provider" in banner
    plain = cli._banner("http://127.0.0.1:8080", cli._parser().parse_args(["serve"]))
    assert "curl -s -d grant_type=client_credentials" in plain
