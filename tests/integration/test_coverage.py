"""Contract coverage per sandbox: GET /__admin/coverage (JSON and HTML), counted past the
journal's last 500 entries, cleared by reset, and the CLI's JSON, Markdown and JUnit."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from jobagent_mock.contract import coverage
from jobagent_mock.foundations import spec
from jobagent_mock.stores import JOURNAL_SIZE
from tests.helpers import ContractClient, sandboxed

UNKNOWN_AGENT = "/v1/Jobagent/00000000-0000-4000-8000-00000000abcd"


def report(client: ContractClient, sandbox: str | None = None, **headers: str) -> Any:
    headers = {"Authorization": f"Bearer {client.token}", **headers}
    if sandbox:
        headers["x-mock-sandbox"] = sandbox
    return client.http.get("/__admin/coverage", headers=headers)


def outcome(found: dict[str, Any], operation_id: str, status: int, fejlkode: int | None) -> Any:
    operation = next(o for o in found["operations"] if o["operationId"] == operation_id)
    return next(
        o for o in operation["outcomes"] if (o["status"], o["fejlkode"]) == (status, fejlkode)
    )


def test_every_documented_outcome_is_listed_unexercised_at_first(client: ContractClient) -> None:
    found = report(client).json()
    documented = sum(
        len(codes or [0])
        for operation in spec.operations(spec.BUSINESS).values()
        for codes in operation.star_fejlkoder_by_status().values()
    )
    assert found["totals"] == {
        "documented": documented,
        "exercised": 0,
        "percent": 0.0,
        "requests": 0,
        "exercisedNaturally": 0,
        "percentNatural": 0.0,
    }
    missing = outcome(found, "GetJobagent", 404, 4589)
    assert missing["exercised"] is False
    assert "00000000-0000-4000-8000-00000000abcd" in missing["howToTrigger"]
    assert missing["trigger"]["kind"] == "value"


def test_answers_are_counted_with_their_last_request_id(client: ContractClient) -> None:
    job = sandboxed(client, "ci-1")
    job.get("/v1/Jobagent")
    job.get(UNKNOWN_AGENT)
    job.get(UNKNOWN_AGENT)
    job.post("/v1/Jobagent", json={"soegeparametre": {}}, headers={"x-requestId": "mangler"})
    found = report(client, "ci-1").json()
    assert outcome(found, "GetJobagenter", 200, None)["count"] == 1
    unknown = outcome(found, "GetJobagent", 404, 4589)
    assert unknown["exercised"] and unknown["count"] == 2
    assert unknown["lastRequestId"]  # the Problem's requestId: a GET sends none
    invalid = outcome(found, "CreateJobagent", 400, 1014)
    assert (invalid["count"], invalid["lastRequestId"]) == (1, "mangler")
    assert found["totals"]["exercised"] == 3 and found["totals"]["requests"] == 4
    assert found["sandbox"] == "star-jobnet/ci-1"
    # another sandbox of the same client saw none of it
    assert report(client, "ci-2").json()["totals"]["requests"] == 0


def test_counts_go_past_the_journal_and_reset_clears_them(client: ContractClient) -> None:
    for _ in range(JOURNAL_SIZE + 5):
        client.get(UNKNOWN_AGENT)
    assert outcome(report(client).json(), "GetJobagent", 404, 4589)["count"] == JOURNAL_SIZE + 5
    headers = {"Authorization": f"Bearer {client.token}"}
    assert client.http.post("/__admin/reset", headers=headers).status_code == 204
    assert report(client).json()["totals"]["requests"] == 0


def test_a_browser_gets_a_page(client: ContractClient) -> None:
    client.get(UNKNOWN_AGENT)
    page = report(client, Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Contract coverage</h1>" in page.text
    assert 'class="exercised"' in page.text and 'class="missing"' in page.text


def test_the_exports_say_what_is_missing(client: ContractClient) -> None:
    client.get(UNKNOWN_AGENT)
    found = report(client).json()
    suites = ElementTree.fromstring(coverage.render(found, "junit"))
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == found["totals"]["documented"]
    passed = [c for c in cases if c.find("failure") is None]
    assert [c.get("name") for c in passed] == ["404 fejlkode 4589: Unknown identifier"]
    assert passed[0].get("classname") == "GetJobagent"
    markdown = coverage.render(found, "md")
    assert "## GetJobagent (1 of" in markdown
    assert "❌ CPR `0202701405`" in markdown  # 4405, and the persona that triggers it
    lines = coverage.missing_lines(found)
    assert len(lines) == found["totals"]["documented"] - 1
