"""The console (Swagger UI at /ui/): its flavour of the contract names the mock, takes the mock's
headers and moves its examples to the sandbox's clock, so every example succeeds on any day;
/openapi.yaml stays the published contract byte for byte."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from jobagent_mock.foundations import spec
from jobagent_mock.foundations.clock import DANISH_TIME
from tests.helpers import ContractClient

# the order a partner would try them in: an enrollment with a booking before one without
ORDER = [
    "GetJobagenter",
    "GetJobagent",
    "GetJobagenterPaaEmail",
    "UpdateJobagent",
    "UpdateJobagentVerificereEmail",
    "CreateJobagent",
    "DeleteJobagent",
    "TilmeldOgBook",
]


def console(client: ContractClient, **query: str) -> dict[str, Any]:
    answer = client.http.get("/ui/console.json", params=query)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def example_request(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """What Try it out sends for an operation: every parameter's example and the first body
    example."""
    operations = spec.operations_in(spec.resolve(document))
    operation = operations[operation_id]
    path, headers, query = operation.path, {}, {}
    for parameter in operation.parameters:
        if "example" not in parameter:
            continue  # the mock's own headers: left empty
        value = str(parameter["example"])
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "header":
            headers[parameter["name"]] = value
        else:
            query[parameter["name"]] = value
    request: dict[str, Any] = {"method": operation.method.upper(), "url": path}
    content = operation.spec.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        examples = content.get("examples")
        request["json"] = next(iter(examples.values()))["value"] if examples else content["example"]
    return {**request, "headers": headers, "params": query}


def test_the_console_names_the_mock_and_takes_its_headers(client: ContractClient) -> None:
    document = console(client)
    assert document["servers"] == [{"url": "http://testserver", "description": "this mock"}]
    for operation in spec.operations_in(spec.resolve(document)).values():
        names = {p["name"] for p in operation.parameters}
        assert {"x-mock-sandbox", "Prefer"} <= names, operation.operation_id
    page = client.http.get("/ui/")
    assert '"console.json"' in page.text


def test_the_published_contract_is_untouched(client: ContractClient) -> None:
    served = client.http.get("/openapi.yaml")
    assert served.text == (spec.SPEC_DIR / spec.BUSINESS).read_text(encoding="utf-8")
    assert "x-mock-sandbox" not in served.text


@pytest.mark.parametrize(
    "now",
    [
        datetime(2027, 3, 13, 16, 30, tzinfo=DANISH_TIME),  # a Saturday afternoon
        datetime(2031, 7, 2, 8, 0, tzinfo=DANISH_TIME),  # summer time, a Wednesday morning
    ],
)
@pytest.mark.parametrize("operation_id", [*ORDER, "CreateTilmelding"])
def test_every_example_succeeds_any_day(
    client: ContractClient, engine: Any, now: datetime, operation_id: str
) -> None:
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(now)
    request = example_request(console(client), operation_id)
    request["headers"]["Authorization"] = f"Bearer {client.token}"
    answer = client.http.request(**request)
    assert 200 <= answer.status_code < 300, answer.text


def test_examples_keep_their_time_of_day_and_a_booking_gets_a_free_slot(
    client: ContractClient, engine: Any
) -> None:
    with engine.store.transaction("star-jobnet") as sandbox:
        sandbox.clock.pin(datetime(2027, 3, 13, 16, 30, tzinfo=DANISH_TIME))
    body = example_request(console(client), "TilmeldOgBook")["json"]
    assert body["tilmeldingsdato"] == "2027-03-13T08:00:00+01:00"
    assert body["bookingStartTime"] == "2027-03-15T09:00:00+01:00"  # Monday, the first slot
    seed_names = console(client)["paths"]["/v1/Tilmelding/TilmeldOgBook"]["post"]
    seed_body = seed_names["requestBody"]["content"]["application/json"]["x-seed-example"]
    assert seed_body["value"]["BookingStartTime"] == "2027-03-15T10:00:00+01:00"  # the next
    assert not re.search(r"2026-1[12]-", str(body))


def test_the_published_contract_as_json_is_the_yaml_tree(client: ContractClient) -> None:
    served = client.http.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == spec.raw(spec.BUSINESS)  # $refs and servers as published
    assert served.json()["servers"] == spec.raw(spec.BUSINESS)["servers"]
    assert '"$ref"' in served.text and "x-mock-sandbox" not in served.text


# run in the console's page: open an operation, Try it out, clear the last answer, Execute, and
# the status Swagger UI shows
EXECUTE = """
window.until = async (found, what) => {
  for (let i = 0; i < 600; i++) {
    const value = found();
    if (value) return value;
    await new Promise(done => setTimeout(done, 100));
  }
  throw new Error("never: " + what);
};
window.execute = async (id) => {
  const block = document.getElementById(id);
  if (!block.classList.contains("is-open")) block.querySelector(".opblock-summary-control").click();
  const tryOut = await until(() => block.querySelector(".try-out__btn"), "Try it out");
  if (tryOut.textContent.trim() === "Try it out") tryOut.click();
  const clear = block.querySelector(".btn-clear");
  if (clear) clear.click();
  await until(() => !block.querySelector(".live-responses-table"), "cleared");
  (await until(() => block.querySelector(".btn.execute"), "Execute")).click();
  const cell = await until(
    () => block.querySelector(".live-responses-table tbody .response-col_status"), "an answer");
  return cell.textContent.trim();
};
"""
WRITES = [  # and a read that claims an x-requestId (GetJobagent's optional one)
    "GetJobagent",
    "CreateJobagent",
    "UpdateJobagent",
    "UpdateJobagentVerificereEmail",
    "TilmeldOgBook",
    "CreateTilmelding",
]


@pytest.mark.slow
@pytest.mark.needs_chromium
def test_every_write_in_the_console_answers_2xx_the_first_and_the_tenth_time(
    app: Any, tmp_path: Any
) -> None:
    from tests.browser import browser_page
    from tests.live import live_server

    with live_server(app) as base, browser_page(f"{base}/ui/", tmp_path) as page:
        token = ContractClient(app, "star-jobnet").token
        page.run(EXECUTE)
        page.wait_for("document.querySelectorAll('.opblock').length > 8", "the operations")
        page.run(
            "ui.authActions.authorizeOauth2({auth: {name: 'oauth2', schema: "
            "ui.specSelectors.securityDefinitions().get('oauth2').toJS()}, "
            f"token: {{access_token: '{token}', token_type: 'Bearer'}}}})"
        )
        for operation_id in WRITES:
            tag = spec.operation(operation_id).spec["tags"][0]  # type: ignore[union-attr]
            statuses = [page.run(f"execute('operations-{tag}-{operation_id}')") for _ in range(10)]
            assert all(s.startswith("2") for s in statuses), (operation_id, statuses)
        # the example job agent is gone after the first: 404, never 412
        tag = "Jobagent"
        statuses = [page.run(f"execute('operations-{tag}-DeleteJobagent')") for _ in range(2)]
        assert [s[:3] for s in statuses] == ["200", "404"], statuses
