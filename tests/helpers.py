"""A test client that calls the mock as a partner would and checks each answer is documented."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.testclient import TestClient

from jobagent_mock.foundations import spec

ORDINARY = "1507851234"  # persona with two saved searches
OTHER = "2208921234"  # persona with one automatic job agent
_request_ids = itertools.count(1)


def secret_of(client_id: str) -> str:
    return f"{client_id}-secret"


class ContractClient:
    """Bearer token from /connect/token, a fresh x-requestId per write, and after every call an
    assertion that the status, and the fejlkode, are ones the contract documents for it."""

    def __init__(self, app: Any, client_id: str) -> None:
        self.http = TestClient(app)
        self.token = token_for(self.http, client_id)

    def call(self, method: str, path: str, cpr: str | None = ORDINARY, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        if cpr is not None:
            headers.setdefault("x-civilRegistrationIdentifier", cpr)
        if method in ("POST", "PUT", "DELETE"):
            headers.setdefault("x-requestId", f"test-{next(_request_ids)}")
        response = self.http.request(method, path, headers=headers, **kwargs)
        assert_documented(method, path, response)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.call("DELETE", path, **kwargs)


def token_for(http: Any, client_id: str, **form: str) -> str:
    """A bearer token from /connect/token, through any httpx-style client with a base URL."""
    answer = http.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret_of(client_id),
            **form,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def operation_for(method: str, path: str) -> spec.Operation:
    operation = spec.operation_for(method, path.split("?")[0])
    if operation is None or operation.operation_id not in spec.operations(spec.BUSINESS):
        raise AssertionError(f"no business operation for {method} {path}")
    return operation


def assert_documented(method: str, path: str, response: Any) -> None:
    """The status is one the operation documents, and so is the fejlkode under it."""
    try:
        operation = operation_for(method, path)
    except AssertionError:
        return  # not a business operation (routing errors are checked by their own tests)
    documented = operation.fejlkoder_by_status()
    assert response.status_code in documented, (
        f"{operation.operation_id} answered undocumented {response.status_code}: {response.text}"
    )
    if response.status_code >= 400:
        fejlkode = response.json().get("fejlkode")
        if fejlkode is not None:
            assert fejlkode in documented[response.status_code], (
                f"{operation.operation_id} answered {response.status_code} with undocumented "
                f"fejlkode {fejlkode}"
            )


def problem(response: Any, status: int, fejlkode: int | None) -> dict[str, Any]:
    """Assert a Problem answer with this status and fejlkode; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body.get("fejlkode") == fejlkode, body
    return body


def sandboxed(client: ContractClient, name: str) -> ContractClient:
    """The same client, in the sandbox named by x-mock-sandbox."""
    other = ContractClient.__new__(ContractClient)
    other.http, other.token = client.http, client.token
    original = other.call

    def call(method: str, path: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {"x-mock-sandbox": name, **kwargs.pop("headers", {})}
        return original(method, path, **kwargs)

    other.call = call  # type: ignore[method-assign]
    return other
