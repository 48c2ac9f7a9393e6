"""A probe corpus against the journal: no CPR number, however written, and no credential,
wherever sent, is kept raw (issue 14). The journal is read back as a partner reads it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers import ContractClient

CPR = "1507851234"
# the same citizen, written as clients, proxies and typos write it
CPR_FORMS = [
    CPR,
    "150785-1234",
    "150785 1234",
    "15078512345",  # one digit too many: invalid, and still a CPR number
    "0015078512340",
    "cpr1507851234x",
    "150785%2D1234",
    "3102851234",  # no real date: a CPR-like group all the same
    "1507851234,2208921234",
]
PLACES = ["header", "other header", "query", "path", "body", "unknown body field"]
# the ten digits the journal must never hold, whatever separates them
ANY_CPR = re.compile(r"[0-9]{6}(?:[- ]|%2D)?[0-9]{4}")


def journal(client: ContractClient) -> str:
    answer = client.http.get(
        "/__admin/requests", headers={"Authorization": f"Bearer {client.token}"}
    )
    assert answer.status_code == 200, answer.text
    entries = answer.json()["requests"]
    assert entries, "the probe was not journaled"
    return json.dumps(entries, ensure_ascii=False)


def send_cpr(client: ContractClient, form: str, place: str) -> Any:
    headers = {"Authorization": f"Bearer {client.token}", "x-requestId": "probe"}
    headers["x-civilRegistrationIdentifier"] = form if place == "header" else CPR
    path, body = "/v1/Jobagent", {"titel": "Lager", "soegeparametre": {}}
    if place == "other header":
        headers["x-note"] = f"borger {form}"
    elif place == "query":
        return client.http.get(f"{path}?cpr={form}", headers=headers)
    elif place == "path":
        return client.http.get(f"/v1/Jobagent/email/{form}@example.dk", headers=headers)
    elif place == "body":
        body["titel"] = f"Til {form}"
    elif place == "unknown body field":
        body["cpr"] = form
    return client.http.post(path, json=body, headers=headers)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("form", CPR_FORMS)
def test_no_cpr_number_is_journaled_raw(client: ContractClient, form: str, place: str) -> None:
    answer = send_cpr(client, form, place)
    assert answer.status_code < 500, answer.text
    kept = journal(client)
    assert ANY_CPR.search(kept) is None, kept
    assert "150785-x" in kept or "150785" not in kept  # the birth date may stay, masked


SECRET = "s3cr3t-Value-9f8e7d"
TOKEN_LIKE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def bearer(client: ContractClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}", "x-civilRegistrationIdentifier": CPR}


CREDENTIALS: dict[str, dict[str, Any]] = {
    "Proxy-Authorization": {"headers": {"Proxy-Authorization": f"Bearer {SECRET}"}},
    "X-Forwarded-Authorization": {"headers": {"X-Forwarded-Authorization": f"Bearer {SECRET}"}},
    "Cookie": {"headers": {"Cookie": f"session={SECRET}; theme=dark"}},
    "X-Api-Key": {"headers": {"X-Api-Key": SECRET}},
    "X-Upstream-Token": {"headers": {"X-Upstream-Token": SECRET}},
    "a bearer in any header": {"headers": {"X-Debug": f"forwarded Bearer {SECRET}"}},
    "a JWT in any header": {"headers": {"X-Debug": TOKEN_LIKE}},
    "access_token in the query": {"params": {"access_token": SECRET}},
    "client_secret in the query": {"params": {"client_secret": SECRET}},
    "an encoded name in the query": {"query": f"access%5Ftoken={SECRET}"},
    "client_secret in a JSON body": {"json": {"client_secret": SECRET}},
    "password in a JSON body": {"json": {"titel": "x", "soegeparametre": {}, "password": SECRET}},
    "a nested secret": {"json": {"titel": "x", "soegeparametre": {"apiKey": SECRET}}},
    "a form body": {"content": f"client_id=x&client_secret={SECRET}", "form": True},
    "a JWT in a body": {"json": {"titel": TOKEN_LIKE, "soegeparametre": {}}},
    "the caller's own token in a body": {"own_token_in_body": True},
}


@pytest.mark.parametrize("how", CREDENTIALS.values(), ids=CREDENTIALS.keys())
def test_no_credential_is_journaled_raw(client: ContractClient, how: dict[str, Any]) -> None:
    headers = {**bearer(client), "x-requestId": "probe", **how.get("headers", {})}
    kwargs: dict[str, Any] = {"headers": headers, "params": how.get("params")}
    if "json" in how:
        kwargs["json"] = how["json"]
    elif how.get("own_token_in_body"):
        kwargs["json"] = {"titel": f"Bearer {client.token}", "soegeparametre": {}}
    elif how.get("form"):
        kwargs["content"] = how["content"]
        headers["content-type"] = "application/x-www-form-urlencoded"
    else:
        kwargs["json"] = {"titel": "x", "soegeparametre": {}}
    path = "/v1/Jobagent" + (f"?{how['query']}" if "query" in how else "")
    answer = client.http.post(path, **kwargs)
    assert answer.status_code < 500, answer.text
    kept = journal(client)
    assert SECRET not in kept and TOKEN_LIKE not in kept and client.token not in kept, kept
    assert "[redacted]" in kept


def test_the_journaled_400_keeps_the_refusal_readable(client: ContractClient) -> None:
    """Masking hides the number, not what the partner needs: which field, which code."""
    answer = client.http.get(
        "/v1/Jobagent", headers={**bearer(client), "x-civilRegistrationIdentifier": "15078512345"}
    )
    assert answer.status_code == 400
    entry = json.loads(journal(client))[0]
    assert entry["request"]["headers"]["x-civilregistrationidentifier"] == "150785-xxxxx"
    assert (
        '"fejlkode": 1001' in entry["response"]["body"]
        or '"fejlkode":1001' in entry["response"]["body"]
    )
    assert "15078512345" not in json.dumps(entry)
