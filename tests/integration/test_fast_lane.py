"""The fast lane (web/fast_lane.py) against connexion's full stack: a valid request never reaches
Flask, and every request, valid or not, is answered byte for byte as the full stack answers it."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from jobagent_mock.foundations import spec
from jobagent_mock.foundations.clock import DANISH_TIME
from tests.contract.fuzzing import business_schema
from tests.helpers import token_for

KEY = "fast-lane-tests-signing-key-0123456789"
CLIENTS = ("star-jobnet", "star-readonly", "akasse-eksempel", "jobcenter-aarhus")
_ids = itertools.count(1)


class Twin:
    """One app with the lane, one without, same key and fixtures; each request goes to both."""

    def __init__(self) -> None:
        self.lane = create_app(signing_key=KEY, validate_responses=True)
        self.full = create_app(signing_key=KEY, validate_responses=True, fast_lane=False)
        self.reached_flask = 0
        self.lane.app.before_request(self._count)
        self.lane_http, self.full_http = TestClient(self.lane), TestClient(self.full)
        self.tokens = {c: token_for(self.lane_http, c) for c in CLIENTS}

    def _count(self) -> None:
        self.reached_flask += 1

    def reset(self) -> None:
        for app in (self.lane, self.full):
            app.app.config["JOBAGENT_MOCK_ENGINE"].store.reset()
        self.reached_flask = 0

    def both(self, method: str, path: str, **kwargs: Any) -> tuple[Any, Any]:
        return (
            self.lane_http.request(method, path, **kwargs),
            self.full_http.request(method, path, **kwargs),
        )


@pytest.fixture(scope="module")
def twin() -> Twin:
    return Twin()


@pytest.fixture(autouse=True)
def _fresh(twin: Twin) -> Iterator[None]:
    twin.reset()
    yield


def documented_request(operation: spec.Operation, token: str) -> dict[str, Any]:
    """The operation called with its documented examples, a token and a fresh x-requestId."""
    path, headers = operation.path, {"Authorization": f"Bearer {token}"}
    for param in operation.parameters:
        value = str(param["example"])
        if param["in"] == "path":
            path = path.replace(f"{{{param['name']}}}", value)
        else:
            headers[param["name"]] = value
    if "x-requestId" in headers:
        headers["x-requestId"] = f"lane-{next(_ids)}"
    request: dict[str, Any] = {"method": operation.method.upper(), "path": path, "headers": headers}
    for media in operation.spec.get("requestBody", {}).get("content", {}).values():
        request["json"] = media.get("example") or next(iter(media["examples"].values()))["value"]
    return request


def same_answer(lane: Any, full: Any) -> None:
    assert (lane.status_code, _comparable(lane)) == (full.status_code, _comparable(full))


UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _comparable(response: Any) -> tuple[list[tuple[str, str]], str]:
    """The answer with each id the server made up (a new job agent's, a Problem's requestId)
    as <new>: those differ between the apps. An id the request carried must come back as is."""
    sent = response.request
    known = {i.lower() for i in UUID.findall(f"{sent.url} {sent.headers} {sent.content!r}")}

    def mark(text: str) -> str:
        return UUID.sub(lambda m: m[0] if m[0].lower() in known else "<new>", text)

    headers = sorted((k.lower(), mark(v)) for k, v in response.headers.items())
    return headers, mark(response.text)


BUSINESS = sorted(spec.operations(spec.BUSINESS).values(), key=lambda o: o.operation_id)


@pytest.mark.parametrize("operation", BUSINESS, ids=lambda o: o.operation_id)
def test_the_documented_request_is_served_without_flask_and_as_connexion_serves_it(
    twin: Twin, operation: spec.Operation
) -> None:
    token = twin.tokens["star-jobnet"]
    # both at the same mock second: an answer that carries the time (eventDate) is then alike
    now = datetime.now(DANISH_TIME).replace(microsecond=0).isoformat()
    twin.both(
        "PUT", "/__admin/clock", headers={"Authorization": f"Bearer {token}"}, json={"now": now}
    )
    twin.reached_flask = 0
    request = documented_request(operation, token)
    lane, full = twin.both(request.pop("method"), request.pop("path"), **request)
    assert twin.reached_flask == 0
    same_answer(lane, full)


def test_a_whole_flow_is_served_without_flask(twin: Twin) -> None:
    token = twin.tokens["star-jobnet"]
    headers = {"Authorization": f"Bearer {token}", "x-civilRegistrationIdentifier": "1507851234"}
    create = documented_request(spec.operations()["CreateJobagent"], token)
    body = {**create["json"], "jobagentIdentifier": str(uuid.uuid4())}
    where = f"/v1/Jobagent/{body['jobagentIdentifier']}"
    steps = [
        ("POST", "/v1/Jobagent", {"json": body}, 201),
        ("GET", where, {}, 200),
        ("PUT", f"{where}/VerificereEmail", {}, 200),
        ("GET", "/v1/Jobagent", {}, 200),
        ("DELETE", where, {}, 200),
        ("GET", where, {}, 404),
    ]
    for method, path, extra, status in steps:
        sent = {**headers, "x-requestId": f"lane-{next(_ids)}"}
        lane, full = twin.both(method, path, headers=sent, **extra)
        assert lane.status_code == status, lane.text
        same_answer(lane, full)
    assert twin.reached_flask == 0


def _with_token(client: str) -> Any:
    def change(request: dict[str, Any], tokens: dict[str, str]) -> None:
        request["headers"]["Authorization"] = f"Bearer {tokens[client]}"

    return change


def _with_header(name: str, value: str | None) -> Any:
    def change(request: dict[str, Any], _tokens: dict[str, str]) -> None:
        if value is None:
            del request["headers"][name]
        else:
            request["headers"][name] = value

    return change


def _forged(request: dict[str, Any], _tokens: dict[str, str]) -> None:
    request["headers"]["Authorization"] = request["headers"]["Authorization"][:-4] + "AAAA"


def _basic(request: dict[str, Any], _tokens: dict[str, str]) -> None:
    request["headers"]["Authorization"] = request["headers"]["Authorization"].replace(
        "Bearer", "Basic"
    )


def _query(request: dict[str, Any], _tokens: dict[str, str]) -> None:
    request["path"] += "?extra=1"


# the documented request changed one way, most of them so that connexion refuses it
CHANGES = {
    "no token": _with_header("Authorization", None),
    "Basic, not Bearer": _basic,
    "forged token": _forged,
    "read scope only, as the seed spells it": _with_token("star-readonly"),  # reads pass
    "neither scope nor organisation": _with_token("akasse-eksempel"),
    "organisation not allowed": _with_token("jobcenter-aarhus"),  # has the scopes, not STAR
    "bad CPR": _with_header("x-civilRegistrationIdentifier", "3213991234"),
    "unknown query parameter": _query,
    "Prefer": _with_header("Prefer", "code=404"),
    "bad sandbox name": _with_header("x-mock-sandbox", "no spaces allowed"),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
@pytest.mark.parametrize("operation_id", ["GetJobagent", "CreateJobagent"])
def test_a_changed_request_is_answered_alike(twin: Twin, operation_id: str, case: str) -> None:
    request = documented_request(spec.operations()[operation_id], twin.tokens["star-jobnet"])
    request["headers"] = dict(request["headers"])
    CHANGES[case](request, twin.tokens)
    lane, full = twin.both(request.pop("method"), request.pop("path"), **request)
    if case.startswith("read scope only"):
        assert (lane.status_code == 403) is (operation_id == "CreateJobagent"), lane.text
    else:
        assert lane.status_code >= 400, lane.text
    same_answer(lane, full)


NEW_AGENT = b'{"titel": "Lagerarbejde i \xc3\x85rhus", "soegeparametre": {}}'
BODIES = {  # what connexion answers: a refusal before Flask, or a job agent made
    "not JSON": (b'{"titel": ', "application/json", 400),
    "a duplicate key": (
        b'{"titel": "a", "titel": "b", "soegeparametre": {}}',
        "application/json",
        400,
    ),
    "NaN": (b'{"titel": NaN, "soegeparametre": {}}', "application/json", 400),
    "an empty body": (b"", "application/json", 400),
    "not UTF-8": (NEW_AGENT.decode().encode("latin-1"), "application/json", 400),
    "text/plain": (NEW_AGENT, "text/plain", 415),
    "no Content-Type": (NEW_AGENT, None, 415),
    "a schema violation": (b'{"titel": "", "soegeparametre": {}}', "application/json", 400),
    # .NET's and Java's serializers write null for an optional property they were not given
    "an optional property null": (
        b'{"jobagentIdentifier": null, "titel": "a", "jobagent": null, "soegeparametre": {}}',
        "application/json",
        201,
    ),
    "a required property null": (b'{"titel": null, "soegeparametre": {}}', "application/json", 400),
    # connexion reads a charset only when no space precedes it; the lane leaves both to it
    "Latin-1 declared": (
        NEW_AGENT.decode().encode("latin-1"),
        "application/json;charset=latin-1",
        201,
    ),
    "Latin-1 after a space": (NEW_AGENT, "application/json; charset=latin-1", 201),
    "an upper-case media type": (NEW_AGENT, "Application/JSON", 201),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_a_body_is_answered_alike(twin: Twin, case: str) -> None:
    content, media_type, status = BODIES[case]
    request = documented_request(spec.operations()["CreateJobagent"], twin.tokens["star-jobnet"])
    headers = dict(request["headers"])
    if media_type is not None:
        headers["Content-Type"] = media_type
    lane, full = twin.both("POST", "/v1/Jobagent", headers=headers, content=content)
    assert lane.status_code == status, lane.text
    same_answer(lane, full)
    # only a charset other than UTF-8 sends a valid body on to connexion (and so to Flask)
    assert twin.reached_flask == (1 if case == "Latin-1 declared" else 0)


def test_a_path_two_operations_could_mean_is_left_to_routing(twin: Twin) -> None:
    headers = {"Authorization": f"Bearer {twin.tokens['star-jobnet']}"}
    lane, full = twin.both("GET", "/v1/Jobagent/email/VerificereEmail", headers=headers)
    same_answer(lane, full)


def test_a_refusal_by_a_rule_is_served_by_the_lane_with_the_full_stacks_problem(twin: Twin) -> None:
    request = documented_request(spec.operations()["GetJobagent"], twin.tokens["star-jobnet"])
    request["path"] = f"/v1/Jobagent/{uuid.uuid4()}"
    lane, full = twin.both(request.pop("method"), request.pop("path"), **request)
    assert lane.status_code == 404 and lane.json()["fejlkode"] == 4589
    same_answer(lane, full)
    assert twin.reached_flask == 0


def test_both_keep_the_same_journal_at_the_sandboxs_time(twin: Twin) -> None:
    token = twin.tokens["star-jobnet"]
    admin = {"Authorization": f"Bearer {token}"}
    pinned = "2026-11-25T10:00:00+01:00"
    twin.both("PUT", "/__admin/clock", headers=admin, json={"now": pinned})
    for operation in BUSINESS:
        request = documented_request(operation, token)
        twin.both(request.pop("method"), request.pop("path"), **request)
    lane, full = twin.both("GET", "/__admin/requests", headers=admin)
    entries = [
        [
            (e["time"], e["operationId"], e["request"]["path"], e["response"]["status"])
            for e in a.json()["requests"]
            if e["operationId"] in spec.operations(spec.BUSINESS)
        ]
        for a in (lane, full)
    ]
    assert len(entries[0]) == len(BUSINESS)
    assert entries[0] == entries[1]
    assert {time for time, *_ in entries[0]} == {pinned}


# Generated cases: schemathesis's own generators over the contract, valid and invalid.
SCHEMA = business_schema(None)
CASES = st.sampled_from(
    [
        operation.ok().as_strategy(generation_mode=mode)
        for operation in SCHEMA.get_all_operations()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
).flatmap(lambda strategy: strategy)


@pytest.mark.slow
@given(case=CASES)
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_are_answered_alike(twin: Twin, case: Any) -> None:
    sent = case.as_transport_kwargs(base_url="http://testserver")
    headers = {
        k: v for k, v in sent["headers"].items() if not k.lower().startswith("x-schemathesis")
    }
    headers["Authorization"] = f"Bearer {twin.tokens['star-jobnet']}"
    if "x-requestId" in headers:
        headers["x-requestId"] = f"lane-{next(_ids)}"
    body = {}
    if "json" in sent:
        body["content"] = json.dumps(sent["json"]).encode()
    lane, full = twin.both(
        sent["method"], sent["url"], headers=headers, params=sent.get("params"), **body
    )
    same_answer(lane, full)


# The lane answers a valid business request itself, so a middleware inside it never sees one.
EXPECTED_STACK = [
    "ServerErrorMiddleware",
    "RequestContextMiddleware",  # the project's: creates the request context
    "ConsoleMiddleware",  # the project's: /ui/console.json and /openapi.yaml, no business request
    "JournalMiddleware",
    "ReadingsMiddleware",  # the project's: x-mock-warning, for the lane's answers too
    "ScenarioMiddleware",  # the project's: a scenario's step, for the lane's requests too
    "FastLane",
    "ExceptionMiddleware",
    "SwaggerUIMiddleware",
    "InputLimitsMiddleware",  # the lane: declared_too_large, read_body
    "RoutingMiddleware",  # the lane: Route, from the same contract
    "OperationMiddleware",  # the lane: sets request.operation
    "SecurityMiddleware",  # the lane: security.authorize
    "PreferMiddleware",  # the lane: steps aside for any Prefer header
    "RequestValidationMiddleware",  # the lane: check_parameter, parse_body, check_body
    "ResponseValidationMiddleware",  # the lane: _check_response (tests only)
    "LifespanMiddleware",
    "ContextMiddleware",  # connexion's context: nothing of the project reads it
]


def test_the_middleware_stack_is_the_one_the_lane_was_taught() -> None:
    stack = [
        getattr(m, "func", m).__name__ for m in create_app(signing_key=KEY).middleware.middlewares
    ]
    assert stack == EXPECTED_STACK, (
        "connexion's or the project's middleware list changed. The fast lane serves valid "
        "business requests without the middlewares inside it (after FastLane): teach "
        "web/fast_lane.py to do what the new one does, or add it outside the lane "
        "(MiddlewarePosition.BEFORE_EXCEPTION, before FastLane); then update EXPECTED_STACK."
    )


@pytest.mark.parametrize("operation", BUSINESS, ids=lambda o: o.operation_id)
def test_a_scenarios_steps_are_answered_alike(twin: Twin, operation: spec.Operation) -> None:
    """Each kind of step, on the lane and on connexion's stack: the same bytes (a scripted
    answer is given outside both, web/scenario_middleware.py)."""
    token = twin.tokens["star-jobnet"]
    admin = {"Authorization": f"Bearer {token}"}
    now = datetime.now(DANISH_TIME).replace(microsecond=0).isoformat()
    twin.both("PUT", "/__admin/clock", headers=admin, json={"now": now})
    documented = operation.fejlkoder_by_status()
    fejlkode = max(c for codes in documented.values() for c in codes)
    status = max(documented)
    steps = [{"fejlkode": fejlkode}, {"status": status, "latencyMs": 1}, {"pass": True}]
    definition = {"operationId": operation.operation_id, "respond": steps}
    created = twin.both("POST", "/__admin/scenarios", headers=admin, json=definition)
    assert [c.status_code for c in created] == [201, 201]
    twin.reached_flask = 0
    for _ in steps:
        request = documented_request(operation, token)
        lane, full = twin.both(request.pop("method"), request.pop("path"), **request)
        same_answer(lane, full)
    assert twin.reached_flask == 0
    journals = [
        [e.get("forced", False) for e in a.json()["requests"]]
        for a in twin.both("GET", "/__admin/requests", headers=admin)
    ]
    assert journals[0] == journals[1] == [False, True, True]  # a pass is the rules' answer
