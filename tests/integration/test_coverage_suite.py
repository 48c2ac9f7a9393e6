"""A partner's suite can complete coverage: following the report's own hints, with the clients a
partner would use (each in its own x-mock-sandbox), every documented outcome is exercised, 401s
included, and `jobagent-mock coverage --suite` merges the sandboxes into a JUnit report without
a failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from jobagent_mock import cli
from jobagent_mock.contract import catalogue, coverage
from jobagent_mock.foundations import spec
from tests.helpers import ContractClient
from tests.integration.test_fejlkode_catalogue import send
from tests.live import live_server

SUITE = "suite-1"


class Partner:
    """One client of the suite, in its own x-mock-sandbox, over HTTP."""

    def __init__(self, base: str, client_id: str, sandbox: str = SUITE) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, headers={"x-mock-sandbox": sandbox})
        self.client_id, self.sandbox = client_id, sandbox
        self.token = self.fetch_token()
        self.http.put(
            "/__admin/clock",
            json={"now": catalogue.examples_now().isoformat()},
            headers=self.auth(),
        ).raise_for_status()

    def fetch_token(self, **form: str) -> str:
        answer = self.http.post(
            "/connect/token",
            data={"grant_type": "client_credentials", **form},
            auth=(self.client_id, f"{self.client_id}-secret"),
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def report(self) -> dict[str, Any]:
        answer = self.http.get("/__admin/coverage", headers=self.auth())
        answer.raise_for_status()
        return dict(answer.json())


def missing(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (operation["operationId"], outcome)
        for operation in report["operations"]
        for outcome in operation["outcomes"]
        if not outcome["exercised"]
    ]


def follow_the_hints(partners: dict[str, Partner], lead: Partner, base: str) -> list[Partner]:
    """Every outcome the lead's report misses that it says how to trigger, by the client the
    hint names (the lead's own where it can); one that needs state first in a sandbox of its
    own, as a suite's test would. The sandboxes used for those."""
    own_sandboxes = []
    for operation_id, outcome in missing(lead.report()):
        trigger = outcome.get("trigger")
        if trigger is None:
            continue  # a 2xx, a 412, a reused identifier: the suite's own steps below
        partner = partners[trigger["client_id"]]
        if trigger["kind"] == "state":
            sandbox = f"{SUITE}-state-{len(own_sandboxes)}"
            partner = Partner(base, trigger["client_id"], sandbox)
            own_sandboxes.append(partner)
        token = partner.token
        if trigger["kind"] == "token":
            form = {k: trigger[k] for k in ("scope", "audience") if k in trigger}
            token = partner.fetch_token(**form)
        for step in trigger.get("steps", []):
            send(partner.http, token, step["operationId"], {}, step.get("cpr", trigger.get("cpr")))
        prefer = f"fejlkode={outcome['fejlkode']}" if trigger["kind"] == "prefer" else None
        answer = send(partner.http, token, operation_id, trigger, trigger.get("cpr"), prefer)
        assert answer.status_code == outcome["status"], (operation_id, trigger, answer.text)
    return own_sandboxes


def the_suites_own_steps(lead: Partner, base: str) -> Iterator[Partner]:
    """What no hint needs to say: each example answered 2xx, a write repeated with its
    x-requestId (412), a client-chosen identifier used twice (409); each write in a sandbox
    of its own, as a suite's test of it would. Those sandboxes."""
    for operation in spec.operations(spec.BUSINESS).values():
        if operation.method == "get":  # a GET that documents 412 takes an x-requestId too
            headers = {"header.x-requestId": f"twice-{operation.operation_id}"}
            assert send_with(lead, operation.operation_id, headers).status_code == 200
            if "412" in operation.responses:
                assert send_with(lead, operation.operation_id, headers).status_code == 412
            continue
        own = Partner(base, lead.client_id, f"{SUITE}-{operation.operation_id}")
        headers = {"header.x-requestId": f"twice-{operation.operation_id}"}
        first = send_with(own, operation.operation_id, headers)
        assert first.status_code < 300, first.text
        assert send_with(own, operation.operation_id, headers).status_code == 412
        if operation.operation_id == "CreateJobagent":  # its identifier again
            assert send_with(own, operation.operation_id, {}).status_code == 409
        yield own


def send_with(lead: Partner, operation_id: str, headers: dict[str, str]) -> Any:
    return send(lead.http, lead.token, operation_id, {"with": headers}, None)


@pytest.mark.slow
def test_a_suite_reaches_100_percent_and_the_junit_report_says_so(app: Any, tmp_path: Path) -> None:
    with live_server(app) as base:
        clients = ("star-jobnet", "akasse-eksempel", "jobcenter-aarhus")
        partners = {client: Partner(base, client) for client in clients}
        lead = partners["star-jobnet"]
        used = [*partners.values()]
        try:
            used += follow_the_hints(partners, lead, base)
            used += the_suites_own_steps(lead, base)
        except BaseException:
            for partner in used:
                partner.http.close()
            raise
        reports = [p.report() for p in used]
        assert not [o for _, o in missing(reports[0]) if o["status"] in (401, 403)]
        merged = coverage.merge(reports)
        assert coverage.missing_lines(merged) == []

        suite = tmp_path / "suite.yaml"
        listed = [f"- {{client: {p.client_id}, sandbox: {p.sandbox}}}\n" for p in used]
        suite.write_text("".join(listed), encoding="utf-8")
        junit = tmp_path / "coverage.xml"
        run = ["coverage", "--url", base, "--suite", str(suite), "--format", "junit"]
        assert cli.main([*run, "--output", str(junit), "--fail-under", "100"]) == 0
        for partner in used:
            partner.http.close()
    suites = ElementTree.fromstring(junit.read_text(encoding="utf-8"))
    documented = sum(int(s.get("tests", "0")) for s in suites.findall("testsuite"))
    assert documented == merged["totals"]["documented"] > 150
    assert sum(int(s.get("failures", "0")) for s in suites.findall("testsuite")) == 0
    assert suites.findall(".//failure") == []
    assert json.dumps(merged["totals"]).count('"percent": 100.0') == 1


UNKNOWN_AGENT = "/v1/Jobagent/00000000-0000-4000-8000-00000000abcd"


def test_the_page_is_html_not_markdown(client: ContractClient) -> None:
    client.get(UNKNOWN_AGENT)
    page = client.http.get(
        "/__admin/coverage",
        headers={"Authorization": f"Bearer {client.token}", "Accept": "text/html"},
    ).text
    assert "`" not in page and "<code>0202701405</code>" in page
    assert "yes, once" in page and "1 times" not in page


def test_a_browser_without_a_token_is_told_how_to_authorize(client: ContractClient) -> None:
    page = client.http.get("/__admin/coverage", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Authorization needed</h1>" in page.text
    assert "jobagent-mock coverage --url http://testserver" in page.text
    assert "/__admin/ui/" in page.text
    # a program still gets the Problem
    assert client.http.get("/__admin/coverage").json()["status"] == 401


def test_hints_name_the_suites_own_client_where_it_can(client: ContractClient) -> None:
    found = client.http.get(
        "/__admin/coverage", headers={"Authorization": f"Bearer {client.token}"}
    ).json()
    refusals = {
        (operation["operationId"], outcome["status"]): outcome
        for operation in found["operations"]
        for outcome in operation["outcomes"]
        if outcome["status"] in (401, 403)
    }
    assert all(o["trigger"]["client_id"] == "star-jobnet" for o in refusals.values())
    assert refusals["GetJobagent", 403]["trigger"]["scope"] == "match.jobagent.write " + (
        "visiteringogstatus.write"
    )
    hint = refusals["TilmeldOgBook", 403]["howToTrigger"]
    assert "--scope 'match.jobagent.read match.jobagent.write'" in hint
    assert "--audience another-api" in refusals["GetJobagent", 401]["howToTrigger"]


def test_a_401_of_a_token_this_mock_signed_counts_for_its_client(
    client: ContractClient,
) -> None:
    other = client.http.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "audience": "another-api"},
        auth=("star-jobnet", "star-jobnet-secret"),
    ).json()["access_token"]
    refused = client.http.get("/v1/Jobagent", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 401 and "another-api" in refused.json()["detail"]
    forged = other[:-4] + ("AAAA" if not other.endswith("AAAA") else "BBBB")
    client.http.get("/v1/Jobagent", headers={"Authorization": f"Bearer {forged}"})
    found = client.http.get(
        "/__admin/coverage", headers={"Authorization": f"Bearer {client.token}"}
    ).json()
    operation = next(o for o in found["operations"] if o["operationId"] == "GetJobagenter")
    unauthorized = next(o for o in operation["outcomes"] if o["status"] == 401)
    assert unauthorized["count"] == 1  # the forged one counts for nobody


@pytest.fixture
def served(app: Any) -> Iterator[str]:
    with live_server(app) as base:
        yield base


def test_an_empty_sandbox_is_a_warning_and_exit_2(
    served: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["coverage", "--url", served, "--sandbox", "typo"]) == 2
    assert "sandbox star-jobnet/typo received no requests" in capsys.readouterr().err


@pytest.mark.parametrize("percent", ["150", "-1", "lots"])
def test_fail_under_outside_0_to_100_is_refused(
    percent: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["coverage", "--fail-under", percent])
    assert stopped.value.code == 2 and "--fail-under" in capsys.readouterr().err


def test_client_repeats_and_the_report_merges(app: Any, served: str, tmp_path: Path) -> None:
    # a refusal (akasse-eksempel's 403 here) is journaled only in a sandbox an authorized
    # request of its client made (issue 23): the a-kasse's clock change makes it
    akasse = ContractClient(app, "akasse-eksempel")
    assert akasse.put("/__admin/clock", json={"advanceSeconds": 1}).status_code == 200
    for client_id in ("star-jobnet", "akasse-eksempel"):
        ContractClient(app, client_id).get(UNKNOWN_AGENT)
    out = tmp_path / "report.json"
    args = ["coverage", "--url", served, "--format", "json", "--output", str(out)]
    assert cli.main([*args, "--client", "star-jobnet", "--client", "akasse-eksempel"]) == 0
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert merged["sandbox"] == "star-jobnet, akasse-eksempel"
    assert merged["totals"]["requests"] == 2
