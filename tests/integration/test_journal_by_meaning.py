"""The issue's journal leaks, each read back as a partner reads it (a JSON parser) and as the
access log prints it: a CPR number written as JSON escapes, in form encoding, refused in its
header; credentials under their common names; identifiers with digit runs kept whole."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient

from jobagent_mock.app import create_app
from tests.helpers import ORDINARY, ContractClient, token_for

CPR = "1507854321"
NEVER = re.compile(r"150785[^0-9]?4321")
SECRET = "s3cr3t-Value-9f8e7d"


def decoded_journal(client: ContractClient) -> str:
    """The journal as a JSON reader sees it, every string decoded, bodies parsed too."""
    answer = client.get("/__admin/requests")
    entries = answer.json()["requests"]
    assert entries, "nothing was journaled"

    def parsed(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parsed(json.loads(value))
            except ValueError:
                return value
        if isinstance(value, dict):
            return {parsed(k): parsed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [parsed(v) for v in value]
        return value

    return json.dumps(parsed(entries), ensure_ascii=False)


def test_a_cpr_number_as_json_escapes_is_masked(client: ContractClient) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in CPR)
    body = '{"titel": "' + escaped + '", "soegeparametre": {}}'
    client.post("/v1/Jobagent", content=body.encode(), headers={"content-type": "application/json"})
    kept = decoded_journal(client)
    assert not NEVER.search(kept), kept
    assert "150785-xxxx" in kept


@pytest.mark.parametrize("query", ["q=150785+4321", "q=150785%2B4321", "q=150785%C2%A04321"])
def test_a_cpr_number_in_a_form_encoded_query_is_masked(client: ContractClient, query: str) -> None:
    client.get(f"/v1/Jobagent?{query}")
    kept = decoded_journal(client)
    assert not NEVER.search(unquote(kept)) and "150785-xxxx" in kept, kept


@pytest.mark.parametrize("refused", ["150785+4321", "150785 43210", "150785-4321"])
def test_a_refused_cpr_header_is_described_never_echoed(
    client: ContractClient, refused: str
) -> None:
    answer = client.get("/v1/Jobagent", headers={"x-civilRegistrationIdentifier": refused})
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert refused not in answer.text and "4321" not in detail
    assert f"{len(refused)} characters" in detail
    assert not NEVER.search(decoded_journal(client))


@pytest.mark.parametrize(
    "name", ["pwd", "api-key", "private_key", "passphrase", "pin", "Authorization2", "sig"]
)
@pytest.mark.parametrize("where", ["body", "query"])
def test_credentials_by_common_names_are_redacted(
    client: ContractClient, name: str, where: str
) -> None:
    if where == "body":
        client.post("/v1/Jobagent", json={"titel": "x", "soegeparametre": {}, name: SECRET})
    else:
        client.get(f"/v1/Jobagent?{name}={SECRET}")
    kept = decoded_journal(client)
    assert SECRET not in kept and "[redacted]" in kept, kept


def test_a_lower_case_basic_value_is_redacted(client: ContractClient) -> None:
    client.get("/v1/Jobagent", headers={"x-debug": f"basic {SECRET}"})
    assert SECRET not in decoded_journal(client)


def test_identifiers_with_digit_runs_stay_whole(client: ContractClient) -> None:
    identifier = "0f8fad5b-d9cb-469f-a165-707754231234"
    created = client.post(
        "/v1/Jobagent",
        json={"jobagentIdentifier": identifier, "titel": "x", "soegeparametre": {}},
        headers={"x-requestId": identifier},
    )
    assert created.status_code == 201, created.text
    client.get(f"/v1/Jobagent/{identifier}")
    kept = decoded_journal(client)
    assert kept.count(identifier) >= 4  # request id, body, answer, path
    coverage = client.get("/__admin/coverage").json()
    assert identifier in json.dumps(coverage)


def test_the_access_log_prints_the_decoded_query_masked(capsys: pytest.CaptureFixture[str]) -> None:
    http = TestClient(create_app(access_log=True))
    headers = {
        "Authorization": f"Bearer {token_for(http, 'star-jobnet')}",
        "x-civilRegistrationIdentifier": ORDINARY,
    }
    http.get("/v1/Jobagent?q=150785+4321&api-key=" + SECRET, headers=headers)
    printed = capsys.readouterr().out
    assert "q=150785-xxxx" in printed, printed
    assert not NEVER.search(printed) and SECRET not in printed
